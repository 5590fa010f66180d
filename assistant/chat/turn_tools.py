"""The tools a turn may use, and who decides whether each call runs.

knowledge_search is bound to the answered conversation's collections and the memory tools to its
profile, so a turn can only reach what its own conversation can. A call runs when the profile
always allows its tool, or the tool needs no approval, or the user says yes; "always" and "never"
answers are remembered in the profile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from assistant.chat.collection_refs import as_retrieved, collection_refs
from assistant.chat.events import Retrieve
from assistant.core.store import Conversation
from assistant.knowledge.retriever import Passage
from assistant.memory.extraction import Candidate
from assistant.memory.long_term import LongTermMemory
from assistant.memory.profiles import Profile, ProfileStore, ToolPolicy
from assistant.tools.agent import Approve, AskUser
from assistant.tools.builtin import knowledge_tool, memory_tools
from assistant.tools.registry import Tool, ToolRegistry


def tools_for_turn(
    tools: ToolRegistry,
    conversation: Conversation,
    retrieve: Retrieve | None,
    memory: LongTermMemory | None,
    profile: Profile | None,
    count_tokens: Callable[[str], int],
    sources: list[dict[str, Any]] | None = None,
) -> ToolRegistry:
    """``sources``: the turn's cited-passage list, which knowledge_search numbers on from and adds to."""
    extra: list[Tool] = []
    refs = collection_refs(conversation.options)
    if refs and retrieve is not None:
        extra.append(knowledge_tool(numbered_search(retrieve, refs, [] if sources is None else sources)))
    if memory is not None and profile is not None:
        extra += _memory_tools(memory, profile.id, conversation.id, count_tokens)
    return tools.extended(*extra) if extra else tools


def numbered_search(
    retrieve: Retrieve, names: list[str], sources: list[dict[str, Any]]
) -> Callable[[str], list[Passage]]:
    """knowledge_search's passages numbered on from the turn's own passages, and added to its
    sources: a ``[n]`` in the answer then names one passage, whichever way it was found (both
    lists used to start at [1]), and opens it."""

    def search(query: str) -> list[Passage]:
        found = []
        for passage in as_retrieved(retrieve(names, query)).passages:
            known = next((s for s in sources if s.get("chunk_id") == passage.chunk_id), None)
            if known is None:
                known = {**passage.to_dict(), "n": len(sources) + 1}
                sources.append(known)
            found.append(replace(passage, n=int(known["n"])))
        return found

    return search


def _memory_tools(
    memory: LongTermMemory, profile_id: int, conversation_id: int, count_tokens: Callable[[str], int]
) -> list[Tool]:
    def recall(query: str) -> list[str]:
        return [item["text"] for item in memory.recall(profile_id, query, count_tokens).to_list()]

    def save(fact: str) -> str:
        change = memory.remember(profile_id, Candidate(fact), conversation_id)
        return f"Memory {change.action}: {change.memory.text}"

    return memory_tools(recall, save)


def profile_approver(profile: Profile | None, profiles: ProfileStore | None, ask: AskUser | None) -> Approve:
    def approve(item: Tool, arguments: dict[str, Any]) -> bool:
        policy = (profile.tool_approvals.get(item.name) if profile else None) or item.approval
        if policy in ("allow", "deny"):
            return policy == "allow"
        answer = ask(item, arguments) if ask is not None else False
        if answer in ("always", "never") and profile is not None and profiles is not None:
            remembered: ToolPolicy = "allow" if answer == "always" else "deny"
            profiles.set_tool_policy(profile.id, item.name, remembered)
            profile.tool_approvals[item.name] = remembered
        return answer in (True, "once", "always")

    return approve
