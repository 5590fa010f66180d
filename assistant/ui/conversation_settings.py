"""Per-conversation instructions and sampling, saved with the conversation as they change.

A value is saved with the conversation only where it differs from the default it was shown next to
(the settings' as they were when the conversation was shown): a conversation left at the defaults
follows later changes of the settings, one the user set keeps its own value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant.chat.collection_refs import missing_label
from assistant.config import Settings, read_section
from assistant.core.store import Conversation
from assistant.knowledge.library_index import CollectionInfo
from assistant.ui.wrapping_label import WrappingLabel


class ConversationPanel(QWidget):
    changed = Signal(object, object)  # system prompt (str | None), options dict

    def __init__(self, defaults: Settings | Callable[[], Settings], parent: QWidget | None = None) -> None:
        """``defaults``: fixed, or the getter of the live settings (the window's store)."""
        super().__init__(parent)
        self._defaults = defaults
        self._shown = read_section(defaults)  # the defaults the values on screen were shown against
        self.setAccessibleName("Conversation settings")
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setAccessibleName("System prompt for this conversation")
        self.system_prompt.setTabChangesFocus(True)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 5.0)
        self.temperature.setSingleStep(0.05)
        self.temperature.setAccessibleName("Temperature")
        self.top_p = QDoubleSpinBox()
        self.top_p.setRange(0.0, 1.0)
        self.top_p.setSingleStep(0.01)
        self.top_p.setAccessibleName("Top-p")
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(1, 32768)
        self.max_tokens.setAccessibleName("Longest reply in tokens")
        self.collections = QListWidget()
        self.collections.setAccessibleName("Document collections searched in this conversation")
        self.collections.setMaximumHeight(110)
        self.collections.itemChanged.connect(lambda item: self._emit())
        self.use_tools = QCheckBox("Let Hearth use tools")
        self.use_tools.setToolTip(
            "Calculator, clock, document search, and your files (each file access asks you first)."
        )
        self.use_tools.toggled.connect(lambda _checked: self._emit())
        reset = QPushButton("Use defaults")
        reset.clicked.connect(self._reset)
        form = QFormLayout()
        form.addRow("Temperature", self.temperature)
        form.addRow("Top-p", self.top_p)
        form.addRow("Max tokens", self.max_tokens)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>This conversation</b>"))
        layout.addWidget(WrappingLabel("Instructions (system prompt)"))  # wrapped, not cut, in a narrow panel
        layout.addWidget(self.system_prompt, 1)
        layout.addLayout(form)
        layout.addWidget(WrappingLabel("Answer from documents in"))
        layout.addWidget(self.collections)
        layout.addWidget(self.use_tools)
        layout.addWidget(reset)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(400)
        self._debounce.timeout.connect(self._emit)
        self._active: list[str] = []
        self._names: list[str] = []
        self.system_prompt.textChanged.connect(self._debounce.start)
        for box in (self.temperature, self.top_p, self.max_tokens):
            box.valueChanged.connect(self._debounce.start)
        self.show_conversation(None)

    @property
    def defaults(self) -> Settings:
        return read_section(self._defaults)

    def show_conversation(self, conversation: Conversation | None) -> None:
        self._debounce.stop()
        options = conversation.options if conversation else {}
        self._shown = self.defaults
        sampling = self._shown.sampling
        blockers = [
            QSignalBlocker(w)
            for w in (self.system_prompt, self.temperature, self.top_p, self.max_tokens, self.use_tools)
        ]
        prompt = conversation.system_prompt if conversation and conversation.system_prompt is not None else None
        self.system_prompt.setPlainText(prompt if prompt is not None else self._shown.context.system_prompt)
        self.temperature.setValue(options.get("temperature", sampling.temperature))
        self.top_p.setValue(options.get("top_p", sampling.top_p))
        self.max_tokens.setValue(options.get("max_tokens", sampling.max_tokens))
        self._active = [str(n) for n in options.get("collections", [])]
        self.use_tools.setChecked(bool(options.get("tools", self._shown.tools.agent)))
        self._fill_collections()
        del blockers
        self.setEnabled(conversation is not None)

    def set_collections(self, collections: list[CollectionInfo]) -> None:
        self._known = [(c.uid, c.name) for c in collections]
        self._fill_collections()

    def collection_ids(self) -> list[str]:
        """The ids of the library's collections, as last reported."""
        return [uid for uid, _ in getattr(self, "_known", [])]

    def _fill_collections(self) -> None:
        """One checkable row per collection, by id; and, ticked, one per collection this conversation
        still refers to that is gone, so it can be unticked."""
        blocker = QSignalBlocker(self.collections)
        self.collections.clear()
        known = getattr(self, "_known", [])
        matched: set[str] = set()
        for uid, name in known:
            ticked = uid in self._active or name in self._active  # a name: stored before ids
            matched |= {uid, name} if ticked else set()
            self._add_item(name, uid, ticked)
        for ref in self._active:
            if ref not in matched:
                self._add_item(missing_label(ref), ref, True)
        if not known and not self._active:
            placeholder = QListWidgetItem("No collections yet: Library… in the toolbar")
            placeholder.setFlags(Qt.ItemFlag.NoItemFlags)
            self.collections.addItem(placeholder)
        del blocker

    def _add_item(self, text: str, ref: str, ticked: bool) -> None:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, ref)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.collections.addItem(item)

    def _reset(self) -> None:
        self._shown = self.defaults
        sampling = self._shown.sampling
        self.system_prompt.setPlainText(self._shown.context.system_prompt)
        self.temperature.setValue(sampling.temperature)
        self.top_p.setValue(sampling.top_p)
        self.max_tokens.setValue(sampling.max_tokens)
        self._emit()

    def _emit(self) -> None:
        self._debounce.stop()
        shown = self._shown
        sampling = shown.sampling
        options: dict[str, Any] = {}
        for key, value in (
            ("temperature", round(self.temperature.value(), 2)),
            ("top_p", round(self.top_p.value(), 2)),
            ("max_tokens", self.max_tokens.value()),
        ):
            if value != getattr(sampling, key):
                options[key] = value
        self._active = [
            str(self.collections.item(row).data(Qt.ItemDataRole.UserRole))
            for row in range(self.collections.count())
            if self.collections.item(row).checkState() == Qt.CheckState.Checked
        ]
        if self._active:
            options["collections"] = self._active
        if self.use_tools.isChecked() != shown.tools.agent:
            options["tools"] = self.use_tools.isChecked()
        prompt = self.system_prompt.toPlainText()
        self.changed.emit(None if prompt == shown.context.system_prompt else prompt, options)

    def flush(self) -> None:
        """Save pending edits now (before switching conversation or closing)."""
        if self._debounce.isActive():
            self._emit()
