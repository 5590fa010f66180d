"""QueuedCancels: a cancel reaches the running job and the jobs waiting behind it, not later ones."""

from __future__ import annotations

from assistant.core.cancel import QueuedCancels


def test_a_cancel_reaches_the_running_and_the_queued_jobs_only() -> None:
    cancels = QueuedCancels()
    cancels.submitted()
    running = cancels.start()
    cancels.submitted()  # waits behind the running job
    cancels.cancel()
    cancels.submitted()  # queued after the Stop
    assert running.cancelled
    assert cancels.start().cancelled
    assert not cancels.start().cancelled


def test_a_cancel_with_nothing_running_touches_no_later_job() -> None:
    cancels = QueuedCancels()
    cancels.cancel()
    cancels.submitted()
    assert not cancels.start().cancelled
