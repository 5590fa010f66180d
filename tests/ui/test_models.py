from __future__ import annotations

from datetime import date, datetime

from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore
from assistant.ui.models import ConversationListModel, IdRole, KindRole, MessageListModel, date_group


def test_conversation_list_model(qapp, qtmodeltester, store: ConversationStore) -> None:  # type: ignore[no-untyped-def]
    for title in ("one", "two", "three"):
        store.create(title=title)
    model = ConversationListModel()
    model.set_conversations(store.conversations())
    qtmodeltester.check(model)
    assert model.rowCount() == 4  # "Today" and three conversations
    assert model.index(0).data(KindRole) == "header" and model.index(0).data() == "Today"
    assert model.index(1).data() == "three" and model.index(1).data(IdRole) == 3
    assert not model.flags(model.index(0)) & model.flags(model.index(1)).ItemIsSelectable
    assert model.row_of(1) == 3


def test_date_groups() -> None:
    today = date(2026, 11, 22)
    at = lambda *args: datetime(*args).timestamp()  # noqa: E731
    assert date_group(at(2026, 11, 22, 9), today) == "Today"
    assert date_group(at(2026, 11, 21, 23), today) == "Yesterday"
    assert date_group(at(2026, 11, 17), today) == "Previous 7 days"
    assert date_group(at(2026, 11, 1), today) == "Previous 30 days"
    assert date_group(at(2025, 1, 1), today) == "Older"


def test_message_list_model(qapp, qtmodeltester, store: ConversationStore) -> None:  # type: ignore[no-untyped-def]
    conversation = store.create()
    user = store.add_message(conversation.id, "user", "hi")
    model = MessageListModel()
    model.set_messages(conversation.id, [user])
    qtmodeltester.check(model)
    reply = store.add_message(conversation.id, "assistant", "", MessageStatus.STREAMING)
    model.append(reply)
    changed = []
    model.dataChanged.connect(lambda top, bottom: changed.append((top.row(), bottom.row())))
    model.set_content(reply.id, "hello", MessageStatus.STREAMING)
    assert changed == [(1, 1)]  # one row, not the whole conversation
    assert model.index(1).data() == "hello"
    model.remove_from(reply.id)
    assert model.rowCount() == 1
    qtmodeltester.check(model)
