"""The Settings dialog's pages besides the model: replies, memory, documents and tools.

Each page shows one part of the settings and writes what was entered back into the raw settings
dict (``collect``); the dialog validates the whole. None of these needs the model reloaded: they
apply from the next message of every conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant.config import Settings
from assistant.core.errors import HearthError


def spin(low: int, high: int, value: int, special: str = "") -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    if special:
        box.setSpecialValueText(special)
    return box


def dspin(low: float, high: float, value: float, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(2)
    box.setValue(value)
    return box


def _note(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _form(page: QWidget) -> QFormLayout:
    """A form at the top of the page: the rows keep their height when the page is taller."""
    outer = QVBoxLayout(page)
    form = QFormLayout()
    outer.addLayout(form)
    outer.addStretch(1)
    return form


class RepliesPage(QWidget):
    """Default sampling, instructions and thinking modes; a conversation's own values (the side
    panel) win over these."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        sampling = settings.sampling
        self.temperature = dspin(0.0, 5.0, sampling.temperature, 0.05)
        self.top_p = dspin(0.0, 1.0, sampling.top_p, 0.01)
        self.top_k = spin(0, 1000, sampling.top_k)
        self.min_p = dspin(0.0, 1.0, sampling.min_p, 0.01)
        self.repeat_penalty = dspin(0.5, 3.0, sampling.repeat_penalty, 0.05)
        self.max_tokens = spin(1, 32768, sampling.max_tokens)
        self.seed = spin(-1, 2_000_000_000, -1 if sampling.seed is None else sampling.seed, "Random")
        self.system_prompt = QPlainTextEdit(settings.context.system_prompt)
        self.system_prompt.setAccessibleName("Default instructions")
        self.system_prompt.setTabChangesFocus(True)
        self.system_prompt.setMaximumHeight(90)
        self.system_prompt.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.system_prompt.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.reply_reserve = spin(16, 32768, settings.context.reply_reserve)
        self.reply_reserve.setToolTip("Tokens of the context window kept free for the reply")
        self.refine_rounds = spin(1, 3, settings.reasoning.refine_rounds)
        self.refine_rounds.setToolTip(
            "Refine mode: critique-and-revise rounds at most (it stops early when nothing is wrong)"
        )
        self.votes = spin(2, 7, settings.reasoning.votes)
        self.votes.setToolTip("Vote mode: independent answers to reconcile")
        form = _form(self)
        form.addRow(_note("Defaults for every conversation, from its next message; a conversation's own values win."))
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Top-k", self.top_k)
        form.addRow("Min-p", self.min_p)
        form.addRow("Repeat penalty", self.repeat_penalty)
        form.addRow("Longest reply (tokens)", self.max_tokens)
        form.addRow("Seed", self.seed)
        form.addRow("Instructions", self.system_prompt)
        form.addRow("Kept for the reply (tokens)", self.reply_reserve)
        form.addRow("Refine rounds", self.refine_rounds)
        form.addRow("Vote samples", self.votes)

    def collect(self, raw: dict[str, Any]) -> None:
        raw["sampling"].update(
            temperature=self.temperature.value(),
            top_p=self.top_p.value(),
            top_k=self.top_k.value(),
            min_p=self.min_p.value(),
            repeat_penalty=self.repeat_penalty.value(),
            max_tokens=self.max_tokens.value(),
            seed=None if self.seed.value() < 0 else self.seed.value(),
        )
        raw["context"].update(system_prompt=self.system_prompt.toPlainText(), reply_reserve=self.reply_reserve.value())
        raw["reasoning"] = {"refine_rounds": self.refine_rounds.value(), "votes": self.votes.value()}


class MemoryPage(QWidget):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        memory = settings.memory
        self.enabled = QCheckBox("Remember things about me")
        self.enabled.setChecked(memory.enabled)
        self.enabled.setToolTip("Off pauses memory: nothing is recalled or saved")
        self.extract = QCheckBox("Learn from each exchange")
        self.extract.setChecked(memory.extract)
        self.extract.setToolTip("After each reply, let the model propose facts worth remembering")
        self.recall_k = spin(0, 20, memory.recall_k)
        self.min_similarity = dspin(0.0, 1.0, memory.min_similarity, 0.05)
        self.max_tokens = spin(0, 4096, memory.max_tokens)
        form = _form(self)
        form.addRow(self.enabled)
        form.addRow(self.extract)
        form.addRow("Memories recalled per message", self.recall_k)
        form.addRow("Least similarity to recall", self.min_similarity)
        form.addRow("Memories' share of the context (tokens)", self.max_tokens)

    def collect(self, raw: dict[str, Any]) -> None:
        raw["memory"].update(
            enabled=self.enabled.isChecked(),
            extract=self.extract.isChecked(),
            recall_k=self.recall_k.value(),
            min_similarity=self.min_similarity.value(),
            max_tokens=self.max_tokens.value(),
        )


class DocumentsPage(QWidget):
    """Retrieval from the library and attached files, and the tools."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        knowledge = settings.knowledge
        self.top_k = spin(1, 50, knowledge.top_k)
        self.min_similarity = dspin(0.0, 1.0, knowledge.min_similarity, 0.05)
        self.max_file_mb = spin(1, 4096, knowledge.max_file_mb)
        self.agent = QCheckBox("Let Hearth use tools in every conversation")
        self.agent.setChecked(settings.tools.agent)
        self.agent.setToolTip("A conversation can say otherwise in its own settings")
        self.allowed_folders = QPlainTextEdit("\n".join(str(p) for p in settings.tools.allowed_folders))
        self.allowed_folders.setAccessibleName("Folders the file tools may read")
        self.allowed_folders.setPlaceholderText("One folder a line (the collections' folders are always allowed)")
        self.allowed_folders.setTabChangesFocus(True)
        self.allowed_folders.setMaximumHeight(80)
        self.allowed_folders.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form = _form(self)
        form.addRow("Passages per question", self.top_k)
        form.addRow("Least similarity of a passage", self.min_similarity)
        form.addRow("Largest file (MB)", self.max_file_mb)
        form.addRow(self.agent)
        form.addRow("Folders for the file tools", self.allowed_folders)

    def collect(self, raw: dict[str, Any]) -> None:
        raw["knowledge"].update(
            top_k=self.top_k.value(), min_similarity=self.min_similarity.value(), max_file_mb=self.max_file_mb.value()
        )
        folders = [Path(line.strip()).expanduser() for line in self.allowed_folders.toPlainText().splitlines()]
        folders = [folder for folder in folders if str(folder) not in ("", ".")]
        missing = [str(folder) for folder in folders if not folder.is_dir()]
        if missing:
            raise HearthError(f"Not a folder: {', '.join(missing)}", "Fix or remove it in Documents and tools.")
        raw["tools"].update(agent=self.agent.isChecked(), allowed_folders=folders)
