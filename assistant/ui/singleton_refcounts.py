"""A guard against a reference-count bug in PySide6 6.12 on CPython 3.11.

PySide6 6.12 returns ``None`` from every void C++ call (``setText``, ``setHtml``, ``setVisible``…)
and ``True`` from every ``Signal.emit`` without taking a reference, as is right only where those
objects are immortal (CPython 3.12+, PEP 683). On 3.11 each such call takes one reference away; a
fresh interpreter holds about 5,000 on ``None`` and 600 on ``True``, so after a few hundred
streamed updates of a reply the process aborts with "Fatal Python error: none_dealloc" (or
"bool_dealloc"). Where the leak is seen, ``None``, ``True`` and ``False`` are given so many
references that they can never reach zero: what 3.12 does by design.
"""

from __future__ import annotations

import ctypes
import sys

# Far more than any session makes calls, far from the Py_ssize_t limit.
_RESERVE = 1 << 40


def singletons_leak() -> bool:
    """Whether PySide6 calls take references from None or True (measured, not guessed from versions)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(100):
        probe.setObjectName("probe")
        probe.objectNameChanged.emit("probe")
    return sys.getrefcount(None) < none_before - 50 or sys.getrefcount(True) < true_before - 50


def guard_singleton_refcounts() -> bool:
    """Make None, True and False effectively immortal where PySide6 leaks their references;
    returns whether it had to."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12) or not singletons_leak():
        return False
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every object on CPython 3.11 (a Py_ssize_t at id(obj)).
        ctypes.c_ssize_t.from_address(id(singleton)).value += _RESERVE
    return True
