"""An engine that streams from an OpenAI-compatible server (llama.cpp's server, vLLM, Ollama...).

This is the one engine that opens network connections, and only to the URL the user configured.
The response is read on a helper thread so that a cancel is answered at once even while the
server is silent; closing the response ends that thread's read.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from assistant.config import EngineSettings
from assistant.core.cancel import CancelToken
from assistant.core.errors import PromptTooLongError, RemoteEngineError
from assistant.core.messages import ChatMessage, GenerationStats
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
            exact_token_counts=False,
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
            "messages": [{"role": m.role, "content": m.content} for m in messages],
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
        # Fields outside OpenAI's API; llama.cpp and vLLM honour them, others ignore them.
        body.update(top_k=options.top_k, min_p=options.min_p, repeat_penalty=options.repeat_penalty)
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions",
            data=json.dumps(body).encode("utf-8"),
            headers={"Content-Type": "application/json", "Accept": "text/event-stream"},
            method="POST",
        )
        if self.settings.api_key:
            request.add_header("Authorization", f"Bearer {self.settings.api_key}")

        started = time.perf_counter()
        events: queue.Queue[Any] = queue.Queue()
        response_holder: list[Any] = []
        reader = threading.Thread(
            target=self._read, args=(request, events, response_holder), name="hearth-http", daemon=True
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
            for response in response_holder:
                response.close()
        finished_at = time.perf_counter()
        completion = int(usage.get("completion_tokens") or len(pieces))
        generation_s = finished_at - (first_token_at or finished_at)
        stats = GenerationStats(
            prompt_tokens=int(usage.get("prompt_tokens") or estimate),
            prompt_tokens_evaluated=None,
            completion_tokens=completion,
            ttft_s=(first_token_at - started) if first_token_at else None,
            tokens_per_s=(completion - 1) / generation_s if completion > 1 and generation_s > 0 else None,
            total_s=finished_at - started,
        )
        yield GenerationResult("".join(pieces), finish, stats)

    def _read(self, request: urllib.request.Request, events: queue.Queue[Any], holder: list[Any]) -> None:
        try:
            response = urllib.request.urlopen(request, timeout=self.settings.timeout_s)
        except urllib.error.HTTPError as exc:
            detail = exc.read(2000).decode("utf-8", errors="replace")
            events.put(RemoteEngineError(f"The server at {self.base_url} answered {exc.code}: {detail}"))
            return
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            events.put(RemoteEngineError(f"Could not reach the server at {self.base_url}: {reason}"))
            return
        holder.append(response)
        try:
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
        except (OSError, ValueError) as exc:
            if not response.closed:
                events.put(RemoteEngineError(f"The connection to {self.base_url} broke: {exc}"))
                return
        events.put(_END)

    def close(self) -> None:
        pass
