"""What counts as text the embedder cannot read (readable.py)."""

from __future__ import annotations

import pytest

from assistant.knowledge.readable import garbled, unreadable
from assistant.knowledge.tokens import counter_for


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Descale the kettle every 90 days with citric acid.", False),
        ("def area(r):\n    return 3.14 * r * r", False),
        ("Café au lait, crème brûlée – €5.", False),
        ("吾輩は猫である。名前はまだ無い。", False),  # readable text, whatever the embedder makes of it
        ("Ã©tÃ© Ã  la plage, câ€TMÃ©tait trÃ¨s bien â€” Ã§a va", True),  # UTF-8 read as cp1252, NFKC'd
        ("\ufffd\ufffd\ufffd \ufffd\ufffd\ufffd\ufffd \ufffd\ufffd Tea", True),
        ("#$%&*@!~^|<>{}[]\\/ ¤§¶†‡•… ■□▪▫▲△▶►▼▽◆◇○●", True),
        ("\x01\x02\x03\x04\x05\x06\x07\x08 text", True),
        ("   ", True),
    ],
)
def test_garbled_text(text: str, expected: bool) -> None:
    assert garbled(text) is expected


def test_text_of_tokens_minilm_does_not_know_is_unreadable_to_it() -> None:
    counter = counter_for(None)  # MiniLM's word-pieces
    texts = ["Descale the kettle.", "人工智能是什么", "ปัญญาประดิษฐ์คืออะไร", "東京は日本の首都です。"]
    assert unreadable(texts, counter) == [False, True, True, False]
    assert unreadable(texts, None) == [False, False, False, False]  # no tokenizer: only garbled text
