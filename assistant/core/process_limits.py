"""Resource limits a worker process sets on itself (the calculator's, the document readers').

POSIX only: where ``resource`` is missing (Windows) these do nothing, and the parent's wall-clock
kill is the only limit. A limit the system refuses (macOS refuses RLIMIT_AS) is skipped the same way.
"""

from __future__ import annotations

import math
from typing import Any


def limit_memory(memory_mib: int) -> None:
    """At most ``memory_mib`` of address space (0: no limit), and no core file when a limit kills
    the process (SIGXCPU's default action dumps core)."""
    try:
        import resource
    except ImportError:
        return
    _lower(resource, resource.RLIMIT_CORE, 0)
    if memory_mib > 0:
        _lower(resource, resource.RLIMIT_AS, memory_mib * 1024 * 1024)


def allow_cpu(seconds: float) -> None:
    """Let the next job use ``seconds`` more CPU than the process has used so far. RLIMIT_CPU counts
    the process's whole life (its imports included), so the soft limit moves up before each job;
    the hard limit is left alone, since lowering it could never be undone."""
    try:
        import resource
    except ImportError:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds)
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def _lower(resource: Any, which: int, value: int) -> None:
    try:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        resource.setrlimit(which, (value, value))
    except (ValueError, OSError):
        pass
