"""The side of a limited worker process that runs in the child (the calculator's, the document
readers'): its resource limits and its JSON-lines loop.

Limits are POSIX only: where ``resource`` is missing (Windows) they do nothing, and the parent's
wall-clock kill is the only limit. A limit the system refuses (macOS refuses RLIMIT_AS) is skipped
the same way.

The protocol: the worker writes ``{"ready": true}`` once started, then for each request line
``{"id", "started": true}`` and the reply with the same id. It ends when its stdin closes.
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

Reply = dict[str, Any]


def serve(
    answer: Callable[[Reply], Reply],
    memory_mib: int,
    cpu_seconds: Callable[[Reply], float],
    out_of_memory: Reply | None = None,
    prepare: Callable[[], None] = lambda: None,
) -> int:
    """Answer requests until stdin closes. ``cpu_seconds``: each request's CPU allowance;
    ``out_of_memory``: the reply to a MemoryError (without one, it ends the worker);
    ``prepare``: slow imports, done under the limits and before "ready"."""
    # The protocol owns the raw descriptors (a windowed bundle may have no sys.stdout at all);
    # anything else that prints goes to stderr, which the parent discards.
    requests = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    sys.stdout = sys.stderr
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when this ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_memory(memory_mib)
    prepare()
    _write(out, {"ready": True})
    for line in requests:
        try:
            request = json.loads(line)
        except ValueError:
            continue
        if not isinstance(request, dict):
            continue
        _write(out, {"id": request.get("id"), "started": True})
        allow_cpu(cpu_seconds(request))
        try:
            reply = answer(request)
        except MemoryError:
            if out_of_memory is None:
                raise
            reply = out_of_memory
        _write(out, {"id": request.get("id"), **reply})
    return 0


def _write(out: BinaryIO, message: Reply) -> None:
    out.write(json.dumps(message, ensure_ascii=True).encode("ascii") + b"\n")
    out.flush()


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
