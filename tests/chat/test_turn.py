"""The record of a turn: how a continuation is glued to the reply it continues."""

from __future__ import annotations

import pytest

from assistant.chat.turn import join_continuation


@pytest.mark.parametrize(
    ("prefix", "continuation", "joined"),
    [
        ("at the time.", "Zek said no.", "at the time. Zek said no."),  # issue 22: "at the time.Zek"
        ("It was hot!", "Then it rained.", "It was hot! Then it rained."),
        ("one two", "three", "one two three"),
        ("one two ", "three", "one two three"),
        ("one two", " three", "one two three"),
        ("the kettle", ", then the cup.", "the kettle, then the cup."),
        ("the kettle", ".", "the kettle."),
        ("Pixel", "'s bowl", "Pixel's bowl"),
        ("(see", "above)", "(see above)"),
        ("well-", "known", "well-known"),
        ("a list:\n", "- one", "a list:\n- one"),
        ("", "Hello", "Hello"),
        ("Hello", "", "Hello"),
    ],
)
def test_a_continuation_is_joined_with_the_space_it_needs(prefix: str, continuation: str, joined: str) -> None:
    assert join_continuation(prefix, continuation) == joined
