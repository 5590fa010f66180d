"""Sizes and counts as people read them."""

from __future__ import annotations

from assistant.core.units import counted, human_bytes


def test_counts_are_said_with_their_noun_in_the_right_number() -> None:
    assert counted(1, "memory", "memories") == "1 memory"
    assert counted(0, "memory", "memories") == "0 memories"
    assert counted(2, "passage") == "2 passages"
    assert counted(12_000, "passage") == "12,000 passages"


def test_sizes_use_the_largest_unit_below_1024() -> None:
    assert human_bytes(512) == "512 B"
    assert human_bytes(98_362_432) == "93.8 MB"
