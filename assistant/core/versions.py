"""Versions of a message: a conversation is a tree, and what is shown is one path through it.

Regenerate adds a reply beside the one it replaces; Edit adds a user message beside the one it
changes, and the new message's replies follow it, not the old one's (as ChatGPT and Open WebUI
keep them). Every message names its parent (the message before it); the messages with one parent
are versions of each other, and one of them, the *active* one, continues the chosen path. The
path is followed from the first message down through the active child at each step; a group of
versions with none active ends the path (a reply set aside while its replacement is written).

A child is always written after its parent, so the chosen path in id order is the path in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    active: bool


@dataclass(frozen=True)
class Place:
    """Where a message stands among its versions (1-based)."""

    version: int
    versions: int


def children(nodes: Iterable[Node]) -> dict[int | None, list[Node]]:
    groups: dict[int | None, list[Node]] = {}
    for node in sorted(nodes, key=lambda n: n.id):
        groups.setdefault(node.parent_id, []).append(node)
    return groups


def chosen_path(nodes: Sequence[Node]) -> list[int]:
    """The ids of the chosen path, first message first."""
    groups = children(nodes)
    path: list[int] = []
    parent: int | None = None
    while True:
        active = [n for n in groups.get(parent, []) if n.active]
        if not active:
            return path
        parent = active[-1].id  # two active versions cannot be written; the newest wins if they were
        path.append(parent)


def places(nodes: Sequence[Node]) -> dict[int, Place]:
    """Each message's version number and how many versions its group has."""
    found: dict[int, Place] = {}
    for group in children(nodes).values():
        for index, node in enumerate(group):
            found[node.id] = Place(index + 1, len(group))
    return found


def subtree(nodes: Sequence[Node], root: int) -> list[int]:
    """``root`` and every message that follows it on any path."""
    groups = children(nodes)
    found: list[int] = []
    pending = [root]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(n.id for n in groups.get(current, []))
    return found


def sibling(nodes: Sequence[Node], message_id: int, step: int) -> int | None:
    """The version ``step`` places away from ``message_id`` (None past either end)."""
    node = next((n for n in nodes if n.id == message_id), None)
    if node is None:
        return None
    group = children(nodes).get(node.parent_id, [])
    index = [n.id for n in group].index(message_id) + step
    return group[index].id if 0 <= index < len(group) else None
