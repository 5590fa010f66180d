"""An engine that streams from an OpenAI-compatible server (llama.cpp's server, vLLM, Ollama...).

This is the one engine that opens network connections, and only to the URL the user configured.
The response is read on a helper thread so that a cancel is answered at once even while the
server is silent; closing the response ends that thread's read.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import queue
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

from assistant.config import EngineSettings
from assistant.core.cancel import CancelToken
from assistant.core.errors import PromptTooLongError, RemoteEngineError
from assistant.core.messages import ChatMessage, GenerationStats, decode_rate
from assistant.engine.base import EngineInfo, FinishReason, GenerationResult, SamplingOptions, StreamItem

_POLL_S = 0.02
_CHARS_PER_TOKEN = 3.6  # no tokenizer on this side: counts are estimates, and say so
_END = object()


class OpenAICompatibleEngine:
    def __init__(self, settings: EngineSettings, n_ctx: int = 4096) -> None:
        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self.n_ctx = n_ctx

    @property
    def info(self) -> EngineInfo:
        return EngineInfo(
            name=self.settings.remote_model or self.base_url,
            n_ctx=self.n_ctx,
            backend="openai-compatible",
            supports_tool_messages=True,  # OpenAI's API: the server renders them with its template
        )

    def count_tokens(self, text: str) -> int:
        return int(len(text) / _CHARS_PER_TOKEN) + 1 if text else 0

    def message_overhead(self) -> int:
        return 5

    def stream(
        self, messages: Sequence[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[StreamItem]:
        estimate = sum(self.count_tokens(m.content) + self.message_overhead() for m in messages)
        if estimate >= self.n_ctx:
            raise PromptTooLongError(
                f"The prompt needs about {estimate:,} tokens but the context window holds {self.n_ctx:,}."
            )
        body: dict[str, Any] = {
            "messages": [wire_message(m) for m in messages],
            "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": options.temperature,
            "top_p": options.top_p,
            "max_tokens": options.max_tokens,
        }
        if self.settings.remote_model:
            body["model"] = self.settings.remote_model
        if options.seed is not None:
            body["seed"] = options.seed
        if options.json_schema is not None:
            body["response_format"] = {"type": "json_object", "schema": options.json_schema}
        # Fields outside OpenAI's API; llama.cpp and vLLM honour them, others ignore them.
        body.update(top_k=options.top_k, min_p=options.min_p, repeat_penalty=options.repeat_penalty)
        payload = json.dumps(body).encode("utf-8")
        started = time.perf_counter()
        events: queue.Queue[Any] = queue.Queue()
        sockets: list[socket.socket] = []
        closing = threading.Event()
        reader = threading.Thread(
            target=self._read, args=(payload, events, sockets, closing), name="hearth-http", daemon=True
        )
        reader.start()
        pieces: list[str] = []
        usage: dict[str, Any] = {}
        finish: FinishReason = "stop"
        first_token_at: float | None = None
        try:
            while True:
                try:
                    event = events.get(timeout=_POLL_S)
                except queue.Empty:
                    if cancel.cancelled:
                        finish = "cancelled"
                        break
                    continue
                if event is _END:
                    break
                if isinstance(event, BaseException):
                    raise event
                if event.get("usage"):
                    usage = event["usage"]
                for choice in event.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        if first_token_at is None:
                            first_token_at = time.perf_counter()
                        pieces.append(text)
                        yield text
                    if choice.get("finish_reason") == "length":
                        finish = "length"
                if cancel.cancelled:
                    finish = "cancelled"
                    break
        finally:
            closing.set()
            # Shutting the socket down wakes the reader at once; closing the response would wait
            # for its buffered read to finish. A llama.cpp server stops generating when it sees this.
            for open_socket in sockets:
                with contextlib.suppress(OSError):
                    open_socket.shutdown(socket.SHUT_RDWR)
        finished_at = time.perf_counter()
        completion = int(usage.get("completion_tokens") or len(pieces))
        stats = GenerationStats(
            prompt_tokens=int(usage.get("prompt_tokens") or estimate),
            prompt_tokens_evaluated=None,
            completion_tokens=completion,
            ttft_s=(first_token_at - started) if first_token_at else None,
            tokens_per_s=decode_rate(completion, first_token_at, finished_at),
            total_s=finished_at - started,
        )
        yield GenerationResult("".join(pieces), finish, stats)

    def _read(
        self, payload: bytes, events: queue.Queue[Any], sockets: list[socket.socket], closing: threading.Event
    ) -> None:
        url = urllib.parse.urlsplit(f"{self.base_url}/chat/completions")
        connection_type = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        connection = connection_type(url.hostname or "127.0.0.1", url.port, timeout=self.settings.timeout_s)
        try:
            connection.connect()
            if connection.sock is not None:
                sockets.append(connection.sock)
            if closing.is_set():
                return
            connection.request("POST", url.path, body=payload, headers=headers)
            response = connection.getresponse()
            if response.status >= 400:
                detail = response.read(2000).decode("utf-8", errors="replace")
                events.put(RemoteEngineError(f"The server at {self.base_url} answered {response.status}: {detail}"))
                return
            for raw in response:
                line = raw.decode("utf-8", errors="replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    events.put(json.loads(data))
                except json.JSONDecodeError:
                    events.put(RemoteEngineError(f"The server sent something that is not JSON: {data[:200]}"))
                    return
            events.put(_END)
        except Exception as exc:
            # A cancel shuts the socket down under this read; only a break nobody asked for is an error.
            if not closing.is_set():
                events.put(RemoteEngineError(f"Could not reach the server at {self.base_url}: {exc}"))
        finally:
            connection.close()

    def close(self) -> None:
        pass


def wire_message(message: ChatMessage) -> dict[str, Any]:
    """A message as OpenAI's chat API takes it: tool calls with their arguments as a JSON string,
    tool results as ``tool`` messages answering a call id."""
    data: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        # The content stays a string, empty: llama.cpp's server refuses null (OpenAI takes both).
        data["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments, ensure_ascii=False)},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        data["tool_call_id"] = message.tool_call_id
    return data
