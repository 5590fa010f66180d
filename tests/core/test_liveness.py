"""A reply left STREAMING by a dead process is interrupted at once; a live process's is left alone.

Real processes, real SQLite, real ``kill -9``: the bundled model streams through ``hearth ask``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.core import liveness
from assistant.core.messages import MessageStatus
from assistant.core.store import ConversationStore

ROOT = Path(__file__).resolve().parents[2]


def _streaming_hearth(home: Path, model_path: Path) -> subprocess.Popen[bytes]:
    """``hearth ask`` with the bundled model, stopped once its reply has begun to stream."""
    env = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "ask", "--model", str(model_path), "Count from 1 to 300, one per line."],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    assert process.stdout.read(1), "the reply never started"
    return process


@pytest.mark.real_model
def test_a_reply_killed_mid_stream_is_interrupted_at_the_next_open_whatever_its_age(
    tmp_path: Path, model_path: Path
) -> None:
    home = tmp_path / "home"
    process = _streaming_hearth(home, model_path)
    try:
        alive_view = ConversationStore(home / "conversations.db")  # another process, while it streams
        assert alive_view.recovered == 0
        (reply,) = [m for m in alive_view.all_messages(1) if m.role == "assistant"]
        assert alive_view.message(reply.id).status == MessageStatus.STREAMING
        alive_view.close()
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    # At once (the old rule waited for 15 s without a checkpoint): the writer is known to be gone.
    reopened = ConversationStore(home / "conversations.db")
    assert reopened.recovered == 1 and reopened.recovered_conversations == [1]
    user, reply = reopened.messages(1)
    assert user.content.startswith("Count from 1") and reply.status == MessageStatus.INTERRUPTED
    assert not list((home / "run").glob("*.lock"))  # the dead writer's mark is cleared
    reopened.close()


def test_a_terminal_command_recovers_the_reply_too(tmp_path: Path) -> None:
    """Any Hearth command that opens the store recovers, here ``hearth conversations list``."""
    home = tmp_path / "home"
    script = textwrap.dedent(
        """
        import os
        from pathlib import Path
        from assistant.core.messages import MessageStatus
        from assistant.core.store import ConversationStore
        store = ConversationStore(Path(os.environ["HEARTH_HOME"]) / "conversations.db")
        conversation = store.create()
        store.add_message(conversation.id, "user", "hello")
        store.add_message(conversation.id, "assistant", "so far", MessageStatus.STREAMING)
        print("streaming", flush=True)
        input()
        """
    )
    env = {**os.environ, "HEARTH_HOME": str(home), "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
    )
    assert writer.stdout is not None and writer.stdout.readline().strip() == "streaming"
    listing = [sys.executable, "-m", "assistant", "conversations", "list"]
    subprocess.run(listing, env=env, check=True, capture_output=True, timeout=60)
    store = ConversationStore(home / "conversations.db")
    assert store.messages(1)[-1].status == MessageStatus.STREAMING  # its writer still runs
    store.close()
    writer.kill()
    writer.wait(10)
    subprocess.run(listing, env=env, check=True, capture_output=True, timeout=60)
    store = ConversationStore(home / "conversations.db")
    assert store.recovered == 0  # the terminal command recovered it already
    assert store.messages(1)[-1].status == MessageStatus.INTERRUPTED
    store.close()


def test_this_process_s_own_stream_is_alive_and_an_unknown_mark_is_not(tmp_path: Path) -> None:
    mark = liveness.own_mark(tmp_path)
    assert liveness.alive(tmp_path, mark) and liveness.own_mark(tmp_path) == mark
    assert not liveness.alive(tmp_path, "12345-gone")
    store = ConversationStore(tmp_path / "conversations.db")
    conversation = store.create()
    reply = store.add_message(conversation.id, "assistant", "growing", MessageStatus.STREAMING)
    again = ConversationStore(tmp_path / "conversations.db")  # the same process opening it again
    assert again.recovered == 0 and again.message(reply.id).status == MessageStatus.STREAMING
    again.close()
    store.close()


def test_a_reply_from_before_writers_were_recorded_falls_back_to_its_age(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "conversations.db")
    conversation = store.create()
    reply = store.add_message(conversation.id, "assistant", "old", MessageStatus.STREAMING)
    with store.transaction() as db:
        db.execute("UPDATE messages SET writer = NULL, updated_at = 0 WHERE id = ?", (reply.id,))
    store.close()
    reopened = ConversationStore(tmp_path / "conversations.db")
    assert reopened.message(reply.id).status == MessageStatus.INTERRUPTED
    reopened.close()
