from __future__ import annotations

from pathlib import Path

from assistant.knowledge.chunking import Chunk
from assistant.knowledge.library_index import LibraryIndex


def _catalog_with(tmp_path: Path, texts: list[str]) -> tuple[LibraryIndex, int]:
    catalog = LibraryIndex(tmp_path / "library.db")
    collection = catalog.create_collection("c", "test", 8)
    file_id = catalog.begin_file(collection.id, "/doc.txt")
    catalog.add_chunks(
        collection.id,
        file_id,
        [f"c{i}" for i in range(len(texts))],
        [Chunk(t, None, "", 0, len(t), i) for i, t in enumerate(texts)],
    )
    return catalog, collection.id


def test_common_words_are_left_out_of_large_keyword_queries(tmp_path: Path) -> None:
    texts = [f"kettle note {i}" for i in range(3000)]
    texts[1234] = "kettle descaling with citric acid"
    catalog, cid = _catalog_with(tmp_path, texts)
    # "kettle" is in every passage: scoring it adds nothing, so only the rare words are matched.
    assert catalog._distinctive(["kettle", "citric"]) == ["citric"]
    assert catalog.keyword_search([cid], "kettle citric", 5) == ["c1234"]
    assert catalog.keyword_search([cid], "kettle", 5) == []  # in every passage: no keyword signal
    # A word that never occurs as such is kept: its stem may match ("descaled" ~ "descaling").
    assert catalog.keyword_search([cid], "descaled kettle", 5) == ["c1234"]
    catalog.close()


def test_small_collections_score_every_word(tmp_path: Path) -> None:
    catalog, cid = _catalog_with(tmp_path, ["kettle one", "kettle two", "a teapot"])
    assert set(catalog.keyword_search([cid], "kettle", 5)) == {"c0", "c1"}
    assert catalog.keyword_search([cid], "how is the", 5) == []  # stopwords only
    catalog.close()


def test_a_catalogue_from_before_chunking_was_recorded_opens_and_is_marked_stale(tmp_path: Path) -> None:
    catalog = LibraryIndex(tmp_path / "library.db")
    collection = catalog.create_collection("home", "e", 8)
    catalog.finish_file(catalog.begin_file(collection.id, "/a.txt"), "indexed", chunking="v2")
    with catalog.transaction() as db:
        db.execute("ALTER TABLE files DROP COLUMN chunking")  # the schema as it was
        db.execute("PRAGMA user_version = 0")  # catalogues from then carried no version
    catalog.close()
    reopened = LibraryIndex(tmp_path / "library.db")
    assert [f.chunking for f in reopened.files(collection.id).values()] == [""]
    reopened.close()


# Public-domain classics (the Analects; Natsume Soseki, 1905) and plain modern sentences.
ANALECTS = "子曰：學而時習之，不亦說乎？有朋自遠方來，不亦樂乎？人不知而不慍，不亦君子乎？"
SOSEKI = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。"
AI = "人工智能是计算机科学的一个分支。它研究如何让机器像人一样思考。"
THAI = "ปัญญาประดิษฐ์กำลังเปลี่ยนแปลงโลก"


def test_words_of_scripts_without_spaces_are_found(tmp_path: Path) -> None:
    catalog, cid = _catalog_with(tmp_path, [ANALECTS, SOSEKI, AI, THAI, "The kettle needs descaling."])
    assert catalog.keyword_search([cid], "人工智能", 5) == ["c2"]  # unicode61 alone found nothing
    assert catalog.keyword_search([cid], "人工智能是什么？", 5)[0] == "c2"  # a question, unspaced
    assert catalog.keyword_search([cid], "名前", 5) == ["c1"]  # two characters
    assert catalog.keyword_search([cid], "猫", 5) == ["c1"]  # one character, inside a run
    assert catalog.keyword_search([cid], "君子", 5) == ["c0"]
    assert catalog.keyword_search([cid], "ปัญญาประดิษฐ์", 5) == ["c3"]
    assert catalog.keyword_search([cid], "kettle 猫", 5) == ["c4", "c1"]  # words and pairs together
    assert catalog.keyword_search([cid], "kettle猫", 5) == ["c4", "c1"]  # written together
    assert catalog.keyword_search([cid], "犬", 5) == []
    catalog.close()


def test_removed_passages_leave_the_pair_index(tmp_path: Path) -> None:
    catalog, cid = _catalog_with(tmp_path, [AI, SOSEKI])
    catalog.remove_file(catalog.files(cid)["/doc.txt"].id)
    assert catalog.keyword_search([cid], "人工智能", 5) == []
    assert catalog.rows("SELECT COUNT(*) AS n FROM chunks_ngrams_vocab")[0]["n"] == 0
    catalog.close()


def test_a_catalogue_from_before_the_pair_index_gets_one_from_its_stored_text(tmp_path: Path) -> None:
    catalog, cid = _catalog_with(tmp_path, [AI, SOSEKI])
    with catalog.transaction() as db:  # the schema as it was: no pair index
        for name in ("chunks_ngrams_ai", "chunks_ngrams_ad"):
            db.execute(f"DROP TRIGGER {name}")
        db.execute("DROP TABLE chunks_ngrams_vocab")
        db.execute("DROP TABLE chunks_ngrams")
        db.execute("PRAGMA user_version = 0")  # catalogues from then carried no version
    catalog.close()
    reopened = LibraryIndex(tmp_path / "library.db")
    assert reopened.keyword_search([cid], "人工智能", 5) == ["c0"]
    assert reopened.keyword_search([cid], "名前", 5) == ["c1"]
    reopened.close()
