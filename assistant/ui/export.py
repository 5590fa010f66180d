"""Export one conversation from the window, as Markdown to read or JSON to import again."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from assistant.core.conversation_files import export_json, to_markdown
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.knowledge.citations import source_lines

FORMATS = {"md": ("Markdown", "Markdown (*.md)"), "json": ("JSON", "Hearth JSON (*.json)")}


def conversation_text(store: ConversationStore, conversation_id: int, fmt: str) -> str:
    if fmt == "json":
        return export_json(store, [conversation_id])
    return to_markdown(store.get(conversation_id), store.messages(conversation_id), source_lines)


def export_conversation(
    parent: QWidget, store: ConversationStore, conversation_id: int, fmt: str, path: Path | None = None
) -> Path | None:
    """Ask where (unless ``path`` is given), write the file; a failure is a dialog, never a lost file."""
    if path is None:
        title = store.get(conversation_id).title
        suggestion = (re.sub(r"[^\w\- ]+", "", title).strip() or "conversation") + f".{fmt}"
        chosen, _ = QFileDialog.getSaveFileName(
            parent, f"Export as {FORMATS[fmt][0]}", str(Path.home() / suggestion), FORMATS[fmt][1]
        )
        if not chosen:
            return None
        path = Path(chosen)
    try:
        path.write_text(conversation_text(store, conversation_id, fmt), encoding="utf-8")
    except (OSError, HearthError) as exc:
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            "Hearth",
            f"The conversation could not be exported: {exc}",
            QMessageBox.StandardButton.Ok,
            parent,
        )
        box.setInformativeText("Choose another folder or file name.")
        box.setObjectName("exportError")
        box.open()
        return None
    return path
