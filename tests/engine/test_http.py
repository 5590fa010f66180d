"""The OpenAI-compatible engine against a real llama.cpp server on 127.0.0.1, started by the test."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.chat.events import TurnFinished
from assistant.chat.session import ChatSession
from assistant.config import EngineSettings, Settings
from assistant.core.cancel import CancelToken
from assistant.core.errors import RemoteEngineError
from assistant.core.messages import ChatMessage, ToolCall
from assistant.core.store import ConversationStore
from assistant.engine.base import GenerationResult, SamplingOptions, complete
from assistant.engine.http import OpenAICompatibleEngine
from assistant.tools.builtin import build_registry

pytestmark = [pytest.mark.server, pytest.mark.real_model]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "llama-server.log"
    log = log_path.open("wb")  # a file, not a pipe: a full pipe would stall the server
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model_path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smollm2",
            "--verbose",
            "False",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(15)
        log.close()


def _engine(url: str, **kw: object) -> OpenAICompatibleEngine:
    return OpenAICompatibleEngine(EngineSettings(backend="openai", base_url=url, remote_model="smollm2", **kw))  # type: ignore[arg-type]


def test_streams_a_reply_from_the_server(server_url: str) -> None:
    engine = _engine(server_url)
    items = list(engine.stream([ChatMessage("user", "Say hello.")], SamplingOptions(max_tokens=30), CancelToken()))
    result = items[-1]
    assert isinstance(result, GenerationResult)
    pieces = [i for i in items[:-1] if isinstance(i, str)]
    assert len(pieces) > 1 and result.text == "".join(pieces)
    assert result.finish_reason in ("stop", "length")
    assert result.stats.completion_tokens > 0 and result.stats.prompt_tokens > 0
    assert result.stats.prompt_tokens_evaluated is None  # a remote server does not tell us
    assert not engine.info.continues_replies  # asked in words: servers differ in carrying on a reply


def test_max_tokens_is_honoured(server_url: str) -> None:
    result = complete(_engine(server_url), [ChatMessage("user", "Tell a long story.")], SamplingOptions(max_tokens=4))
    assert result.finish_reason == "length"
    assert result.stats.completion_tokens == 4


def test_cancel_returns_at_once(server_url: str) -> None:
    cancel = CancelToken()
    options = SamplingOptions(max_tokens=1000, temperature=0.0, repeat_penalty=1.0)
    pieces = 0
    result = None
    for item in _engine(server_url).stream(
        [ChatMessage("user", "Count from 1 to 1000, separated by commas.")], options, cancel
    ):
        if isinstance(item, str):
            pieces += 1
            assert not cancel.cancelled, "a piece came after the cancel"
            if pieces == 3:
                cancel.cancel()
        else:
            result = item
    # The stream ends at the cancel: no piece after it, and the request is given up (not read to the end).
    assert result is not None and result.finish_reason == "cancelled" and pieces == 3


def test_nothing_listening_is_a_clear_error() -> None:
    engine = _engine(f"http://127.0.0.1:{_free_port()}/v1")
    with pytest.raises(RemoteEngineError, match="Could not reach"):
        complete(engine, [ChatMessage("user", "hi")], SamplingOptions())


def test_server_errors_are_reported_with_their_text() -> None:
    class Failing(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "model exploded"}')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        engine = _engine(f"http://127.0.0.1:{server.server_address[1]}/v1")
        with pytest.raises(RemoteEngineError, match="model exploded"):
            complete(engine, [ChatMessage("user", "hi")], SamplingOptions())
    finally:
        server.shutdown()


def test_a_silent_server_can_still_be_cancelled() -> None:
    release = threading.Event()

    class Silent(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            release.wait(10)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Silent)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cancel = CancelToken()
        threading.Timer(0.3, cancel.cancel).start()
        # The server never answers: only the cancel can end this call (a hang fails the test's timeout).
        result = complete(
            _engine(f"http://127.0.0.1:{server.server_address[1]}/v1"),
            [ChatMessage("user", "hi")],
            SamplingOptions(),
            cancel,
        )
        assert result.finish_reason == "cancelled"
    finally:
        release.set()
        server.shutdown()


def _exchange() -> list[ChatMessage]:
    call = ToolCall("call00001", "calculator", {"expression": "37 * 12.49"})
    return [
        ChatMessage("system", "You are Hearth."),
        ChatMessage("user", "What is 37 times 12.49?"),
        ChatMessage("assistant", "", (call,)),
        ChatMessage("tool", "462.13", tool_call_id=call.id, name=call.name),
    ]


def test_tool_results_are_sent_as_tool_messages_answering_their_call() -> None:
    bodies: list[dict[str, object]] = []

    class Recording(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            self.wfile.write(b'data: {"choices": [{"delta": {"content": "462.13"}}]}\n\ndata: [DONE]\n\n')

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recording)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        engine = _engine(f"http://127.0.0.1:{server.server_address[1]}/v1")
        assert engine.info.supports_tool_messages
        assert complete(engine, _exchange(), SamplingOptions()).text == "462.13"
    finally:
        server.shutdown()
    sent = bodies[0]["messages"]
    assert sent[2:] == [  # type: ignore[index]
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "call00001",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "37 * 12.49"}'},
                }
            ],
        },
        {"role": "tool", "content": "462.13", "tool_call_id": "call00001"},
    ]


def test_a_tools_on_turn_through_the_real_server_answers_after_its_tool_messages(
    server_url: str, store: ConversationStore
) -> None:
    """The whole turn: the decision, the calculator, and the answer from a prompt whose results are
    tool messages, which llama.cpp's server accepts and renders with the model's template."""
    engine = _engine(server_url)
    settings = Settings()
    settings.sampling.max_tokens = 24
    session = ChatSession(store, engine, settings, tools=build_registry([]))
    conversation = store.create()
    store.set_options(conversation.id, {"tools": True})
    finished = next(
        e for e in session.send(conversation.id, "Please multiply 37 by 12.49") if isinstance(e, TurnFinished)
    )
    assert [c["tool"] for c in finished.tool_calls][:1] == ["calculator"], finished.tool_calls
    assert finished.result.finish_reason in ("stop", "length")
    assert finished.reply.content.strip(), "the server answered after the tool messages"
