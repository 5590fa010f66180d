"""The PySide6 window. Importing it first guards against PySide6's reference leak (see singleton_refcounts)."""

from assistant.ui.singleton_refcounts import guard_singleton_refcounts

guard_singleton_refcounts()
