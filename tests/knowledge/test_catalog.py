from __future__ import annotations

from pathlib import Path

from assistant.knowledge.catalog import Catalog
from assistant.knowledge.chunking import Chunk


def _catalog_with(tmp_path: Path, texts: list[str]) -> tuple[Catalog, int]:
    catalog = Catalog(tmp_path / "library.db")
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
    catalog = Catalog(tmp_path / "library.db")
    collection = catalog.create_collection("home", "e", 8)
    catalog.finish_file(catalog.begin_file(collection.id, "/a.txt"), "indexed", chunking="v2")
    with catalog.transaction() as db:
        db.execute("ALTER TABLE files DROP COLUMN chunking")  # the schema as it was
    catalog.close()
    reopened = Catalog(tmp_path / "library.db")
    assert [f.chunking for f in reopened.files(collection.id).values()] == [""]
    reopened.close()
