"""Citation markers in an answer: which of the retrieved passages it cites, as ``[1]`` or ``[1, 3]``.

The passages reach the model numbered ``[1]``…``[k]`` (``format_passages``) and it is asked to cite
them so. What counts as a citation is a marker whose numbers are all passages' numbers, outside
code: ``a[1]`` in a code block is an index, and ``[7]`` with five passages is no citation. Nor is
a marker in an echo of the passage delimiters (``<<<passage [1] from …>>>``), which small models
copy into their answers.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

from assistant.core.store import StoredMessage

MARKER = re.compile(r"\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]")
# Fenced code blocks (``` or ~~~ to the same fence or the end) and inline code spans.
_CODE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n.*?(?:^\1[ \t]*$|\Z)|(`+)(?:.+?)\2", re.DOTALL | re.MULTILINE)


# An echoed delimiter: from <<< (or the defused ‹‹‹) to the closing >>> / ››› or the end of the line.
# The closing delimiter's words are echoed too: "(End of passage [4])" after an answer from passage 3.
_DELIMITER = re.compile(r"(?:<<<|‹‹‹)[^\n]*?(?:>>>|›››|$)|\bend of passage\s*(?=\[)", re.MULTILINE | re.IGNORECASE)


def markers(text: str, numbers: Collection[int]) -> Iterator[tuple[int, int, list[int]]]:
    """(start, end, cited numbers) of each citation marker in plain text (no code handling)."""
    echoes = [match.span() for match in _DELIMITER.finditer(text)]
    for match in MARKER.finditer(text):
        if any(start <= match.start() <= end for start, end in echoes):
            continue
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


def source_lines(message: StoredMessage) -> list[str]:
    """A reply's sources as Markdown lists under it, as the window shows them: the sources it cites,
    in the order it cites them (so its ``[n]`` stay readable once exported), then those retrieved but
    not cited (small models often cite nothing: the file still says where the answer came from)."""
    sources: list[dict[str, Any]] = [s for s in message.stats.get("sources") or [] if isinstance(s, dict)]
    by_number = {int(s["n"]): s for s in sources if isinstance(s.get("n"), int)}
    cited = cited_numbers(message.content, by_number)
    others = [n for n in sorted(by_number) if n not in cited]
    lines: list[str] = []
    for title, numbers in (("**Sources**", cited), ("**Retrieved, not cited**", others)):
        if numbers:
            lines += [*([""] if lines else []), title, ""]
            lines += [_source_line(n, by_number[n]) for n in numbers]
    return lines


def _source_line(n: int, source: dict[str, Any]) -> str:
    path = str(source.get("path", ""))
    page = f", page {source['page']}" if source.get("page") else ""
    heading = f", “{source['heading']}”" if source.get("heading") else ""
    return f"- [{n}] {Path(path).name}{page}{heading}: `{path}`"
