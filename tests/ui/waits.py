"""Waiting for what the window asks to be written off the UI thread (assistant/ui/operations.py)."""

from __future__ import annotations

from typing import Any

WRITE_MS = 10_000


def writes_done(qtbot: Any, window: Any) -> None:
    """Wait until every change the window asked for is written and its views have refreshed."""
    qtbot.waitUntil(lambda: window.operations.pending == 0, timeout=WRITE_MS)


def new_chat(qtbot: Any, window: Any) -> int:
    """Start a new chat as a person does (the toolbar's New chat) and wait until it is open."""
    before = window.conversation_id
    window.new_action.trigger()
    qtbot.waitUntil(lambda: window.conversation_id not in (None, before), timeout=WRITE_MS)
    writes_done(qtbot, window)
    return int(window.conversation_id)
