"""Profiles: instructions, about-me, defaults, and remembered tool approvals, as the chat session uses them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from assistant.chat.events import ToolCalled
from assistant.chat.session import ChatSession
from assistant.config import Settings
from assistant.core.errors import HearthError
from assistant.core.store import ConversationStore
from assistant.memory.long_term import LongTermMemory
from assistant.tools.builtin import build_registry
from tests.fakes import ScriptedEngine

MakeMemory = Callable[..., LongTermMemory]


def test_there_is_always_one_active_profile(make_memory: MakeMemory) -> None:
    profiles = make_memory().profiles
    assert [p.name for p in profiles.all()] == ["Default"] and profiles.active().name == "Default"
    work = profiles.create("Work", about_me="I am a nurse.")
    profiles.use("work")
    assert profiles.active().id == work.id
    with pytest.raises(HearthError, match="already exists"):
        profiles.create(" work ")
    with pytest.raises(HearthError, match="Profiles: Default, Work"):
        profiles.get("Home")
    profiles.delete("Work")
    assert profiles.active().name == "Default", "deleting the active profile falls back to another"
    with pytest.raises(HearthError, match="last profile"):
        profiles.delete("Default")


def test_a_conversation_takes_its_profiles_instructions_facts_sampling_and_collections(
    store: ConversationStore, make_memory: MakeMemory
) -> None:
    memory = make_memory(enabled=False)
    work = memory.profiles.create(
        "Work",
        instructions="You are a terse clinical assistant.",
        about_me="I am a nurse on night shifts.",
        sampling={"temperature": 0.1, "top_k": 7},
        collections=["protocols"],
    )
    engine = ScriptedEngine(["ok"])
    session = ChatSession(store, engine, Settings(), memory=memory)
    conversation = session.create_conversation(work)
    assert conversation.options == {"profile_id": work.id, "collections": ["protocols"]}
    list(session.send(conversation.id, "hello"))
    system = engine.history[0][0].content
    assert system.startswith("You are a terse clinical assistant.")
    assert "About the user (from their profile)\nI am a nurse on night shifts." in system
    assert (engine.options[0].temperature, engine.options[0].top_k) == (0.1, 7)
    # A conversation's own settings still win over the profile's.
    store.set_system_prompt(conversation.id, "Be playful.")
    assert session.system_prompt(store.get(conversation.id)) == "Be playful."
    # Conversations from before profiles existed (or whose profile was deleted) use the first profile.
    old = store.create()
    assert session.profile(old).name == "Default"  # type: ignore[union-attr]


def test_always_and_never_answers_are_remembered_per_profile(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory(enabled=False)
    home = memory.profiles.create("Home")
    asked: list[str] = []
    answers = iter(["always", "never"])

    def ask(item: Any, arguments: dict[str, Any]) -> str:
        asked.append(item.name)
        return next(answers)

    def turn(profile: Any) -> ToolCalled:
        call = json.dumps({"tool": "files_search", "arguments": {"pattern": "*.txt"}})
        engine = ScriptedEngine([call, json.dumps({"tool": "none"}), "ok"])
        session = ChatSession(store, engine, Settings(), tools=build_registry([]), approve=ask, memory=memory)
        conversation = session.create_conversation(profile)
        store.set_options(conversation.id, {**store.get(conversation.id).options, "tools": True})
        return next(e for e in session.send(conversation.id, "find my notes") if isinstance(e, ToolCalled))

    default = memory.profiles.get("Default")
    assert turn(default).result.ok and asked == ["files_search"]
    assert turn(default).result.ok and asked == ["files_search"], "always: not asked again in this profile"
    assert memory.profiles.get("Default").tool_approvals == {"files_search": "allow"}
    refused = turn(home)
    assert asked == ["files_search", "files_search"], "another profile asks for itself"
    assert not refused.result.ok
    again = turn(home)
    assert not again.result.ok and len(asked) == 2, "never: refused without asking"
    memory.profiles.set_tool_policy("Default", "calculator", "deny")
    assert memory.profiles.get("Default").tool_approvals["calculator"] == "deny"


def test_memory_tools_recall_and_save_with_approval(store: ConversationStore, make_memory: MakeMemory) -> None:
    memory = make_memory(min_similarity=0.1)
    memory.store.add(memory.profiles.active().id, "The user's daughter is called Mira.")
    decisions = [
        json.dumps({"tool": "memory_recall", "arguments": {"query": "daughter name"}}),
        json.dumps({"tool": "memory_save", "arguments": {"fact": "The user has a dog called Rex."}}),
        json.dumps({"tool": "none"}),
    ]
    engine = ScriptedEngine([*decisions, "Mira.", json.dumps({"summary": "", "memories": []})])
    approvals: list[str] = []
    session = ChatSession(
        store,
        engine,
        Settings(),
        tools=build_registry([]),
        approve=lambda item, args: approvals.append(item.name) or False,
        memory=memory,
    )
    conversation = session.create_conversation()
    store.set_options(conversation.id, {**store.get(conversation.id).options, "tools": True})
    calls = [
        e.result for e in session.send(conversation.id, "what is my daughter called?") if isinstance(e, ToolCalled)
    ]
    assert calls[0].tool == "memory_recall" and "Mira" in calls[0].result
    assert calls[1].tool == "memory_save" and not calls[1].ok, "saving needs the user's yes"
    assert approvals == ["memory_save"]
    assert [m.text for m in memory.store.memories()] == ["The user's daughter is called Mira."]
