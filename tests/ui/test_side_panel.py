"""The conversation panel's collection list: by id, and a removed collection shown so it can be unticked."""

from __future__ import annotations

from PySide6.QtCore import Qt

from assistant.config import Settings
from assistant.core.store import ConversationStore
from assistant.knowledge.catalog import CollectionInfo
from assistant.ui.side_panel import ConversationPanel


def _collection(uid: str, name: str) -> CollectionInfo:
    return CollectionInfo(1, name, "e", 8, (), uid=uid)


def test_collections_are_ticked_by_id_and_a_removed_one_can_be_unticked(qtbot, store: ConversationStore) -> None:  # type: ignore[no-untyped-def]
    panel = ConversationPanel(Settings())
    qtbot.addWidget(panel)
    manuals, gone = "a" * 32, "b" * 32
    conversation = store.create()
    store.set_options(conversation.id, {"collections": [manuals, gone, "Old name"]})
    panel.set_collections([_collection(manuals, "Manuals (renamed)"), _collection("c" * 32, "Recipes")])
    panel.show_conversation(store.get(conversation.id))
    rows = [
        (panel.collections.item(r).text(), panel.collections.item(r).checkState() == Qt.CheckState.Checked)
        for r in range(panel.collections.count())
    ]
    assert rows == [
        ("Manuals (renamed)", True),
        ("Recipes", False),
        ("A removed collection", True),
        ("Old name (removed)", True),
    ]
    emitted = []
    panel.changed.connect(lambda prompt, options: emitted.append(options))
    panel.collections.item(2).setCheckState(Qt.CheckState.Unchecked)
    panel.collections.item(3).setCheckState(Qt.CheckState.Unchecked)
    panel.collections.item(1).setCheckState(Qt.CheckState.Checked)
    panel.flush()
    assert emitted[-1]["collections"] == [manuals, "c" * 32]
