"""Starting conversations from the window: made off the UI thread (an operation), one at a time.

Whatever needs the new conversation (a message typed into none, a file dropped on an empty window)
asks with a callback and is called with its id once it exists; asking again while one is being
made waits for that one rather than making a second.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.core.store import ConversationStore
from assistant.ui.operations import OpChanges, Operations, StoreOp

Created = Callable[[int], None]


class NewConversations:
    def __init__(
        self,
        operations: Operations,
        store: ConversationStore,
        incognito_store: Callable[[], ConversationStore],
        options: Callable[[], dict[str, Any] | None],
        opened: Created,
        failed: Callable[[str, str], object],
    ) -> None:
        self.operations = operations
        self.store = store
        self.incognito_store = incognito_store
        self.options = options  # a new conversation's options (its profile's), read when it is asked for
        self.opened = opened  # opens the new conversation in the window
        self.failed = failed
        self._waiting: list[Created] | None = None  # None: no conversation is being made

    @property
    def pending(self) -> bool:
        return self._waiting is not None

    def create(self, then: Created | None = None) -> None:
        if self._waiting is not None:
            if then is not None:
                self._waiting.append(then)
            return
        self._waiting = [then] if then is not None else []
        options, store = self.options(), self.store

        def create() -> int:
            conversation = store.create()
            if options is not None:
                store.set_options(conversation.id, options)
            return conversation.id

        def failed(message: str, hint: str) -> None:
            self._waiting = None
            self.failed(f"Could not start a new conversation. {message}", hint or "Nothing was changed.")

        made = OpChanges(conversations=True)
        self.operations.run(StoreOp(create, made, "start a new conversation", self._made, failed))

    def create_incognito(self) -> None:
        store, options = self.incognito_store(), self.options()

        def create() -> int:
            conversation = store.create("Incognito")
            if options and options.get("collections"):  # incognito chats search what a new chat would
                store.set_options(conversation.id, {"collections": options["collections"]})
            return conversation.id

        self.operations.run(
            StoreOp(
                create,
                OpChanges(conversations=True),
                "start an incognito conversation",
                on_success=self.opened,
            )
        )

    def _made(self, conversation_id: int) -> None:
        waiting, self._waiting = self._waiting or [], None
        self.opened(conversation_id)
        for callback in waiting:
            callback(conversation_id)
