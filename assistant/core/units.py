"""Sizes and counts as people read them ("93.8 MB", "1.5B", "1 memory")."""

from __future__ import annotations


def human_bytes(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(count) < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def human_count(count: int) -> str:
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f}{unit}"
    return str(count)


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """ "1 memory", "2 memories", "0 passages": a count with its noun in the right number."""
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"
