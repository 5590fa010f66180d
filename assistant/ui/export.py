"""Export one conversation from the window, as Markdown to read or JSON to import again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore, StoredMessage
from assistant.core.transfer import export_json, to_markdown
from assistant.knowledge.citations import cited_numbers

FORMATS = {"md": ("Markdown", "Markdown (*.md)"), "json": ("JSON", "Hearth JSON (*.json)")}


def conversation_text(store: ConversationStore, conversation_id: int, fmt: str) -> str:
    if fmt == "json":
        return export_json(store, [conversation_id])
    return to_markdown(store.get(conversation_id), store.messages(conversation_id), cited_sources)


def cited_sources(message: StoredMessage) -> list[str]:
    """The sources a reply cites, in the order it cites them, as a list under it: the ``[n]`` in the
    text stay readable once exported. Passages retrieved but not cited are left out, as on screen."""
    sources: list[dict[str, Any]] = [s for s in message.stats.get("sources") or [] if isinstance(s, dict)]
    by_number = {int(s["n"]): s for s in sources if isinstance(s.get("n"), int)}
    cited = cited_numbers(message.content, by_number)
    if not cited:
        return []
    lines = ["**Sources**", ""]
    for n in cited:
        source = by_number[n]
        path = str(source.get("path", ""))
        page = f", page {source['page']}" if source.get("page") else ""
        heading = f", “{source['heading']}”" if source.get("heading") else ""
        lines.append(f"- [{n}] {Path(path).name}{page}{heading}: `{path}`")
    return lines


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
