"""Citation markers in an answer: which of the retrieved passages it cites, as ``[1]`` or ``[1, 3]``.

The passages reach the model numbered ``[1]``…``[k]`` (``format_passages``) and it is asked to cite
them so. What counts as a citation is a marker whose numbers are all passages' numbers, outside
code: ``a[1]`` in a code block is an index, and ``[7]`` with five passages is no citation.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator

MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# Fenced code blocks (``` or ~~~ to the same fence or the end) and inline code spans.
_CODE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n.*?(?:^\1[ \t]*$|\Z)|(`+)(?:.+?)\2", re.DOTALL | re.MULTILINE)


def markers(text: str, numbers: Collection[int]) -> Iterator[tuple[int, int, list[int]]]:
    """(start, end, cited numbers) of each citation marker in plain text (no code handling)."""
    for match in MARKER.finditer(text):
        cited = [int(n) for n in match.group(1).split(",")]
        if all(n in numbers for n in cited):
            yield match.start(), match.end(), cited


def cited_numbers(text: str, numbers: Collection[int]) -> list[int]:
    """The passage numbers ``text`` cites, in order of first citation."""
    prose = _CODE.sub(" ", text)
    found: list[int] = []
    for _, _, cited in markers(prose, numbers):
        found += [n for n in cited if n not in found]
    return found
