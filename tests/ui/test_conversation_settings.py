"""The conversation panel's collection list: by id, and a removed collection shown so it can be unticked."""

from __future__ import annotations

from PySide6.QtCore import Qt

from assistant.config import Settings
from assistant.core.store import ConversationStore
from assistant.knowledge.library_index import CollectionInfo
from assistant.ui.conversation_settings import ConversationPanel
from tests.ui.waits import new_chat, writes_done


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


def _ticked(panel: ConversationPanel) -> list[str]:
    items = [panel.collections.item(r) for r in range(panel.collections.count())]
    return [item.text() for item in items if item.checkState() == Qt.CheckState.Checked]


def _library_with(*names: str) -> None:
    """Collections in the data folder's library, as the window's own Library will read them."""
    from assistant.config import data_dir
    from assistant.knowledge.library import Library

    library = Library(data_dir())
    for name in names:
        folder = data_dir().parent / f"folder-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        library.add(name, [folder])
    library.close()


def _click_tick(qtbot, panel: ConversationPanel, text: str) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    item = panel.collections.findItems(text, Qt.MatchFlag.MatchExactly)[0]
    rect = panel.collections.visualItemRect(item)
    option = QStyleOptionViewItem()
    option.rect = rect
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasCheckIndicator
    box = panel.collections.style().subElementRect(QStyle.SubElement.SE_ItemViewItemCheckIndicator, option)
    point = box.center() if box.isValid() else QPoint(rect.left() + 10, rect.center().y())
    qtbot.mouseClick(panel.collections.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_a_new_chat_searches_the_only_collection(make_hearth, scripted, qtbot) -> None:  # type: ignore[no-untyped-def]
    _library_with("Manuals")
    hearth = make_hearth(lambda settings: scripted)
    window = hearth.window
    new_chat(qtbot, window)  # the toolbar's New chat; the chat is made off the UI thread
    assert window.conversation_id is not None
    assert _ticked(window.panel) == ["Manuals"]
    options = hearth.store.get(window.conversation_id).options
    assert options["collections"] == window.panel.collection_ids()  # stored, so the first turn searches it
    # Unticked in this chat: the next new chat still starts with the only collection.
    _click_tick(qtbot, window.panel, "Manuals")
    writes_done(qtbot, window)
    assert _ticked(window.panel) == []
    new_chat(qtbot, window)  # the toolbar's New chat; the chat is made off the UI thread
    assert _ticked(window.panel) == ["Manuals"]


def test_a_new_chat_keeps_the_collections_of_the_last_one(make_hearth, scripted, qtbot) -> None:  # type: ignore[no-untyped-def]
    _library_with("Manuals", "Recipes")
    hearth = make_hearth(lambda settings: scripted)
    window = hearth.window
    new_chat(qtbot, window)  # the toolbar's New chat; the chat is made off the UI thread
    assert _ticked(window.panel) == []  # two collections and no earlier choice: the user picks
    _click_tick(qtbot, window.panel, "Recipes")
    writes_done(qtbot, window)
    assert _ticked(window.panel) == ["Recipes"]
    first = window.conversation_id
    new_chat(qtbot, window)  # the toolbar's New chat; the chat is made off the UI thread
    assert window.conversation_id != first and _ticked(window.panel) == ["Recipes"]
