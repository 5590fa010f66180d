"""The tools Hearth ships with, registered from plain functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from assistant.knowledge.retriever import Passage
from assistant.tools.calculator import calculate
from assistant.tools.files import FileAccess
from assistant.tools.registry import Tool, ToolRegistry, tool


# Parameter descriptions give no example values: a small model copies them into calls on unrelated
# questions (the calculator was called with "1234567890 * 9876543210" for questions with no numbers).
def build_registry(allowed_folders: Iterable[Path] | Callable[[], list[Path]]) -> ToolRegistry:
    """The tools every conversation can use. ``allowed_folders``: the collections' folders plus the
    settings' allow-list (an ``AllowedFolders`` to follow their changes). knowledge_search is added
    per turn, for conversations with collections."""
    files = FileAccess(allowed_folders)
    registry = ToolRegistry()

    def calculator(expression: str) -> str:
        """Exact arithmetic (big integers, fractions, decimals), powers, roots, logs, trigonometry,
        percentages, and solving equations.

        expression: the calculation, written with the numbers from the user's message
        """
        return calculate(expression)

    def files_search(pattern: str = "*", contains: str = "") -> str:
        """Find files by name (a glob pattern) and/or by text they contain, in the allowed folders.

        pattern: file name glob, from the user's words
        contains: text the file must contain (case-insensitive)
        """
        return files.search(pattern, contains)

    def files_read(path: str, first_page: int = 1, last_page: int = 0, page: int = 1) -> str:
        """Read a text file, a DOCX, or pages of a PDF in the allowed folders, a page of text at a time.

        path: the file's path
        first_page: for PDFs, the first page to read
        last_page: for PDFs, the last page to read (0 means to the end)
        page: which page of the text to return, when it is long
        """
        return files.read(path, first_page, last_page, page)

    def datetime_now() -> str:
        """The current local date and time: what time it is now, today's date and the day of the week."""
        return local_time(datetime.now().astimezone())

    for plain in (calculator, datetime_now):
        registry.register(tool(plain))
    # Reading the user's files is asked for each time the model wants to, whatever asked it to.
    for sensitive in (files_search, files_read):
        registry.register(tool(sensitive, approval="ask"))
    return registry


def local_time(now: datetime) -> str:
    """A local time with its zone spelled out: an abbreviation alone is ambiguous (IST is India's,
    Ireland's and Israel's) and some zones have none (Etc/GMT+5 gives "-05")."""
    offset = now.strftime("%z")
    utc = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
    name = now.strftime("%Z")
    zone = utc if not name or name.lstrip("+-").isdigit() or name == "UTC" else f"{name}, {utc}"
    return now.strftime("%A %d %B %Y, %H:%M") + f" ({zone})"


def knowledge_tool(search: Callable[[str], list[Passage]]) -> Tool:
    """knowledge_search bound to one conversation's collections."""

    def knowledge_search(query: str) -> str:
        """Search the conversation's document collections; returns numbered passages with their source.

        query: what to look for
        """
        passages = search(query)
        if not passages:
            return "No passage matches."
        return "\n\n".join(f"[{p.n}] {p.label}\n{p.text}" for p in passages)

    return tool(knowledge_search)


def memory_tools(recall: Callable[[str], list[str]], save: Callable[[str], str]) -> list[Tool]:
    """memory_recall and memory_save bound to one profile's memories. Saving asks first (unless the
    profile always allows it), so a document cannot plant a memory behind the user's back."""

    def memory_recall(query: str) -> str:
        """Look up what you remember about the user (facts, preferences, decisions, past conversations).

        query: what to recall, in the user's words
        """
        found = recall(query)
        return "\n".join(f"- {text}" for text in found) if found else "Nothing remembered about that."

    def memory_save(fact: str) -> str:
        """Remember a durable fact about the user for future conversations.

        fact: one short sentence in the user's words
        """
        return save(fact)

    return [tool(memory_recall), tool(memory_save, approval="ask")]
