"""Keyword search for scripts written without spaces between words: Chinese, Japanese, Thai...

FTS5's ``unicode61`` tokenizer splits at spaces and punctuation, so a Chinese sentence is one
"word" and 人工智能 inside it is never found. Such runs are indexed as overlapping pairs of
characters instead (人工 工智 智能), the way Lucene's CJK analyzer does, in a table of their own
(library_index.py, ``chunks_ngrams``); a query's runs become the same pairs, ranked by BM25. A pair
needs no word list and no dictionary, finds two-character words (most Chinese words), and costs
an English-only library nothing. The last character of each run is also indexed alone, so that a
one-character query ("猫") finds every occurrence through a prefix match.

SQLite's ``trigram`` tokenizer was the other choice: it indexes every three characters of all
text (English too, several times the size of the text) and cannot match a two-character word.
"""

from __future__ import annotations

import itertools
import re

# Han (with extensions and compatibility ideographs), kana, Hangul syllables, Thai, Lao, Myanmar,
# Khmer: scripts whose words are not separated by spaces (Hangul is, but with particles attached).
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]+"
)
# Marks that attach to the previous letter (Thai vowels and tone marks): not a character of their own.
_THAI_LAO_MARK = re.compile("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ecd]")


def spaced_part(text: str) -> str:
    """The text with its unspaced runs blanked out: what the word index (unicode61) can match."""
    return _UNSPACED.sub(" ", text)


def _units(run: str) -> list[str]:
    """The run's characters, each combining mark kept with the letter before it."""
    units: list[str] = []
    for char in run:
        if units and _THAI_LAO_MARK.match(char):
            units[-1] += char
        else:
            units.append(char)
    return units


def index_text(text: str) -> str:
    """What ``chunks_ngrams`` indexes for a passage: its runs of unspaced script as pairs of
    characters, and each run's last character alone, separated by spaces; '' where there are none."""
    terms: list[str] = []
    for match in _UNSPACED.finditer(text):
        units = _units(match.group())
        terms.extend(a + b for a, b in itertools.pairwise(units))
        terms.append(units[-1])
    return " ".join(terms)


def query_terms(query: str) -> list[str]:
    """FTS5 terms for the unspaced runs of a query: the pairs of a run, or a one-character run as
    a prefix (every pair that starts with it, and it alone at the end of a run)."""
    terms: list[str] = []
    for match in _UNSPACED.finditer(query):
        units = _units(match.group())
        if len(units) == 1:
            terms.append(f'"{units[0]}"*')
        else:
            terms.extend(f'"{a + b}"' for a, b in itertools.pairwise(units))
    return list(dict.fromkeys(terms))
