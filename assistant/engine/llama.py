"""The in-process llama.cpp engine.

One thread owns the ``Llama`` instance: loading, tokenizing and generating all run there, and
every other thread talks to it through a job queue (sharing a ``Llama`` across threads freezes
or crashes it). llama.cpp releases the GIL while it computes, so the caller stays responsive.

The engine evaluates the prompt itself, in batches, before sampling: that is where it learns
exactly how many tokens the KV cache saved (the shared prefix of consecutive turns is kept) and
where a cancel is honoured even in the middle of a long prompt.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from assistant.config import ModelSettings
from assistant.core.cancel import CancelToken
from assistant.core.errors import (
    EngineError,
    HearthError,
    MissingChatTemplateError,
    ModelLoadError,
    PromptTooLongError,
    TemplateError,
)
from assistant.core.messages import ChatMessage, GenerationStats, decode_rate
from assistant.engine.base import (
    EngineInfo,
    FinishReason,
    GenerationResult,
    SamplingOptions,
    StreamItem,
)
from assistant.engine.gguf import GGUFInfo, read_gguf
from assistant.engine.llama_log import route_llama_log
from assistant.engine.templates import BUILTIN_FORMATS, ChatTemplate, PromptPiece, builtin_format

log = logging.getLogger(__name__)

T = TypeVar("T")
_POLL_S = 0.02  # how often a waiting caller looks at its cancel token


class LlamaEngine:
    """A GGUF model run by llama.cpp in this process, on a thread of its own."""

    def __init__(self, model_path: str | Path, settings: ModelSettings | None = None) -> None:
        self.settings = settings or ModelSettings()
        self.model_path = Path(model_path).expanduser()
        # Validate on the caller's thread: a wrong file fails at once with a clear message.
        self.gguf: GGUFInfo = read_gguf(self.model_path)
        template_source = (
            builtin_format(self.settings.chat_format) if self.settings.chat_format else self.gguf.chat_template
        )
        if template_source is None:
            formats = ", ".join(f"'{name}'" for name in sorted(BUILTIN_FORMATS))
            raise MissingChatTemplateError(
                f"{self.model_path.name} has no chat template.",
                "This looks like a base model. Use an instruct/chat model, or set a chat format "
                f"({formats}) in the settings or with --chat-format.",
            )
        self._template_source = template_source
        self._template: ChatTemplate | None = None
        self._llm: Any = None
        self._grammars: dict[str, Any] = {}
        # The last prompt evaluated and how much of it came from the cache: a Regenerate repeats it.
        self._last_prefill: tuple[list[int], int] | None = None
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._loaded: Future[None] = Future()
        self._thread = threading.Thread(target=self._run, name="hearth-llama", daemon=True)
        self._thread.start()

    # ----- public API, callable from any thread -------------------------------------------------

    @property
    def info(self) -> EngineInfo:
        loaded = self._template is not None
        return EngineInfo(
            name=self.gguf.name,
            n_ctx=self.settings.n_ctx,
            backend="llama.cpp",
            supports_tools=loaded and self._template.supports_tools,  # type: ignore[union-attr]
            supports_tool_messages=loaded and self._template.supports_tool_messages,  # type: ignore[union-attr]
            continues_replies=True,
            opens_thinking=loaded and self._template.opens_thinking,  # type: ignore[union-attr]
        )

    def wait_until_loaded(self, timeout: float | None = None) -> None:
        """Block until the model is in memory; re-raises a load failure."""
        self._loaded.result(timeout)

    @property
    def loaded(self) -> bool:
        return self._loaded.done() and self._loaded.exception() is None

    def count_tokens(self, text: str) -> int:
        return self._call(lambda: len(self._tokenize(text, special=False)))

    def message_overhead(self) -> int:
        # The marginal cost of one more message: templates may add a default system prompt to a
        # conversation without one, which must not be counted per message.
        def measure() -> int:
            base = [ChatMessage("system", "x"), ChatMessage("user", "x")]
            before = len(self._prompt_tokens(base, add_generation_prompt=False))
            after = len(self._prompt_tokens([*base, ChatMessage("assistant", "x")], add_generation_prompt=False))
            return max(0, after - before - len(self._tokenize("x", special=False)))

        return self._call(measure)

    def prompt_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self._call(lambda: len(self._prompt_tokens(messages)))

    def stream(
        self, messages: Sequence[ChatMessage], options: SamplingOptions, cancel: CancelToken
    ) -> Iterator[StreamItem]:
        out: queue.Queue[StreamItem | BaseException] = queue.Queue()
        abandoned = CancelToken()
        messages = list(messages)
        self._jobs.put(lambda: self._generate(messages, options, cancel, abandoned, out))
        received: list[str] = []
        started = time.perf_counter()
        try:
            while True:
                try:
                    item = out.get(timeout=_POLL_S)
                except queue.Empty:
                    if cancel.cancelled:
                        # Answer the cancel now; the owner thread stops at its next check.
                        yield _cancelled_result(received, started)
                        return
                    continue
                if isinstance(item, BaseException):
                    raise item
                yield item
                if isinstance(item, GenerationResult):
                    return
                received.append(item)
        finally:
            abandoned.cancel()

    def close(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(timeout=10)

    # ----- the owner thread ---------------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._load()
        except BaseException as exc:
            self._loaded.set_exception(exc)
            return
        self._loaded.set_result(None)
        while (job := self._jobs.get()) is not None:
            job()
        self._llm = None

    def _load(self) -> None:
        from jinja2 import TemplateError as JinjaTemplateError
        from llama_cpp import Llama

        route_llama_log()  # after llama_cpp's import, which installs its own callback
        threads = self.settings.n_threads or os.cpu_count() or 2
        try:
            self._llm = Llama(
                model_path=str(self.model_path),
                n_ctx=self.settings.n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                n_batch=self.settings.n_batch,
                n_gpu_layers=self.settings.n_gpu_layers,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError, MemoryError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {self.model_path.name}: {exc}") from exc
        except JinjaTemplateError as exc:
            # llama-cpp-python compiles every template embedded in the file while loading, so
            # choosing another chat format cannot get past this one.
            raise TemplateError(
                f"The chat template inside {self.model_path.name} is broken: {exc}",
                "This model file cannot be used as it is; get a corrected GGUF of the model.",
            ) from exc
        self._template = ChatTemplate(
            self._template_source,
            bos_token=self._token_text(self._llm.token_bos()),
            eos_token=self._token_text(self._llm.token_eos()),
        )

    def _call(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the owner thread and wait for its result."""
        if threading.current_thread() is self._thread:
            return fn()
        self.wait_until_loaded()
        future: Future[T] = Future()

        def job() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        self._jobs.put(job)
        return future.result()

    def _token_text(self, token: int) -> str:
        if token < 0:
            return ""
        return bytes(self._llm.detokenize([token], special=True)).decode("utf-8", errors="replace")

    def _tokenize(self, text: str, special: bool, add_bos: bool = False) -> list[int]:
        # "replace": a lone surrogate that slipped past the chat's own cleaning must not crash the model thread.
        return list(self._llm.tokenize(text.encode("utf-8", "replace"), add_bos=add_bos, special=special))

    def _prompt_tokens(
        self,
        messages: Sequence[ChatMessage],
        add_generation_prompt: bool = True,
        tools: list[dict[str, Any]] | None = None,
        continue_last: bool = False,
    ) -> list[int]:
        assert self._template is not None
        if continue_last and messages and messages[-1].role == "assistant":
            # The reply so far follows the generation prompt as the model's own text, with no end of
            # turn: the model goes on from its last word instead of being asked to (small models,
            # asked, start their answer over).
            *before, partial = messages
            return [*self._prompt_tokens(before, True, tools), *self._tokenize(partial.content, special=False)]
        pieces: list[PromptPiece] = self._template.render(messages, add_generation_prompt, tools)
        bos_text = self._template.bos_token
        template_adds_bos = bool(bos_text) and bool(pieces) and pieces[0].text.startswith(bos_text)
        tokens: list[int] = []
        for index, piece in enumerate(pieces):
            add_bos = index == 0 and not template_adds_bos
            tokens.extend(self._tokenize(piece.text, special=not piece.is_content, add_bos=add_bos))
        return tokens

    def _generate(
        self,
        messages: list[ChatMessage],
        options: SamplingOptions,
        cancel: CancelToken,
        abandoned: CancelToken,
        out: queue.Queue[StreamItem | BaseException],
    ) -> None:
        try:
            if not self._loaded.done() or self._loaded.exception() is not None:
                raise ModelLoadError("The model is not loaded.")
            self._generate_on_owner(messages, options, cancel, abandoned, out)
        except HearthError as exc:
            out.put(exc)
        except Exception as exc:  # llama.cpp failures surface as assorted exception types
            out.put(EngineError(f"Generation failed: {exc}"))

    def _generate_on_owner(
        self,
        messages: list[ChatMessage],
        options: SamplingOptions,
        cancel: CancelToken,
        abandoned: CancelToken,
        out: queue.Queue[StreamItem | BaseException],
    ) -> None:
        import llama_cpp

        llm = self._llm
        n_ctx = llm.n_ctx()
        started = time.perf_counter()
        tools = options.tools if self._template.supports_tools else None  # type: ignore[union-attr]
        tokens = self._prompt_tokens(messages, tools=tools, continue_last=options.continue_last)
        if len(tokens) >= n_ctx:
            raise PromptTooLongError(f"The prompt needs {len(tokens):,} tokens but the context window holds {n_ctx:,}.")

        def stopped() -> bool:
            return cancel.cancelled or abandoned.cancelled

        evaluated = self._prefill(tokens, stopped)
        if evaluated is None:
            out.put(_cancelled_result([], started, prompt_tokens=len(tokens)))
            return
        # Always set: a seeded call (tool decisions, memory, critiques use seed 0) would otherwise leave
        # the sampler on its seed, and every "Regenerate" would return the same reply.
        llm.set_seed(options.seed if options.seed is not None else secrets.randbits(31))
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        budget = min(options.max_tokens, n_ctx - len(tokens))
        pieces: list[str] = []
        completion = 0
        first_token_at: float | None = None
        finish: FinishReason = "length"
        grammar = self._grammar_for(options)
        generator = llm.generate(
            tokens,
            grammar=grammar,
            temp=options.temperature,
            top_p=options.top_p,
            top_k=options.top_k,
            min_p=options.min_p,
            repeat_penalty=options.repeat_penalty,
            reset=True,
        )
        token_probs: list[dict[str, Any]] | None = [] if options.logprobs else None
        for token in generator:
            if first_token_at is None:
                first_token_at = time.perf_counter()
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                finish = "stop"
                break
            completion += 1
            if token_probs is not None:
                token_probs.append(self._token_probability(token, options.logprobs))
            text = decoder.decode(bytes(llm.detokenize([token])))
            if text:
                pieces.append(text)
                out.put(text)
            if stopped():
                finish = "cancelled"
                break
            if completion >= budget:
                break
        generator.close()
        tail = decoder.decode(b"", final=True)
        if tail:
            pieces.append(tail)
            out.put(tail)
        finished_at = time.perf_counter()
        stats = GenerationStats(
            prompt_tokens=len(tokens),
            prompt_tokens_evaluated=evaluated,
            completion_tokens=completion,
            ttft_s=(first_token_at - started) if first_token_at else None,
            tokens_per_s=decode_rate(completion, first_token_at, finished_at),
            total_s=finished_at - started,
        )
        out.put(GenerationResult("".join(pieces), finish, stats, token_probs))

    def _token_probability(self, token: int, alternatives: int) -> dict[str, Any]:
        """The model's own distribution at this step (softmax of the raw logits, before repeat penalty,
        temperature and grammar): the sampled token's probability and the most likely alternatives."""
        import numpy as np

        # The context's logits for the last decoded position: the ones this token was sampled from
        # (llama-cpp-python copies logits into its own scores only with logits_all=True).
        pointer = self._llm._ctx.get_logits_ith(-1)
        logits = np.ctypeslib.as_array(pointer, shape=(self._llm.n_vocab(),)).astype(np.float64)
        probabilities = np.exp(logits - logits.max())
        probabilities /= probabilities.sum()
        top = np.argpartition(-probabilities, alternatives)[:alternatives]
        top = top[np.argsort(-probabilities[top])]

        def text(token_id: int) -> str:
            return bytes(self._llm.detokenize([int(token_id)])).decode("utf-8", errors="replace")

        return {
            "token": text(token),
            "p": float(probabilities[token]),
            "top": [{"token": text(t), "p": float(probabilities[t])} for t in top],
        }

    def _grammar_for(self, options: SamplingOptions) -> Any:
        """The grammar this generation is constrained by, if any (on the owner thread)."""
        return self._grammar(options.json_schema) if options.json_schema else None

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        # Not sort_keys: the grammar emits properties in the schema's order ("tool" before "arguments").
        key = json.dumps(schema)
        if key not in self._grammars:
            try:
                self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
            except Exception as exc:  # the converter raises asserts, TypeErrors, ValueErrors...
                # A schema the converter rejects must not fail the turn: any JSON object is the
                # closest constraint left, and whoever asked checks the output anyway.
                log.warning(
                    "JSON schema cannot be constrained (%s: %s); any JSON object allowed", type(exc).__name__, exc
                )
                self._grammars[key] = LlamaGrammar.from_json_schema('{"type": "object"}', verbose=False)
        return self._grammars[key]

    def _prefill(self, tokens: list[int], stopped: Callable[[], bool]) -> int | None:
        """Evaluate what the KV cache does not already hold; return how many tokens that was.

        Returns None when cancelled. The cached prefix is whatever the last evaluation shares
        with this prompt: for the next turn of a conversation, everything up to the new message.
        """
        llm = self._llm
        cached = list(llm.input_ids[: llm.n_tokens])
        prefix = 0
        for a, b in zip(cached, tokens, strict=False):
            if a != b:
                break
            prefix += 1
        if self._last_prefill is not None and self._last_prefill[0] == tokens:
            # The same prompt again (a Regenerate): evaluate the same part of it as the first time.
            # llama.cpp's logits depend slightly on what was cached and how the rest was batched, so
            # reusing more of the cache made a reply at temperature 0 differ on a Regenerate.
            prefix = min(prefix, self._last_prefill[1])
        self._last_prefill = (list(tokens), prefix)
        if prefix == len(tokens):
            prefix -= 1  # sampling needs fresh logits from at least one decoded token
        if getattr(llm, "_is_recurrent", False) or getattr(llm, "_is_hybrid", False):
            prefix = 0  # recurrent state cannot be rewound to a prefix
        if prefix == 0:
            llm.reset()
        else:
            llm.n_tokens = prefix
        # Batch by batch, so a cancel is seen between batches of a long prompt.
        batch = self.settings.n_batch
        for start in range(prefix, len(tokens), batch):
            if stopped():
                return None
            llm.eval(tokens[start : start + batch])
        return len(tokens) - prefix


def _cancelled_result(received: list[str], started: float, prompt_tokens: int = 0) -> GenerationResult:
    stats = GenerationStats(
        prompt_tokens=prompt_tokens,
        completion_tokens=len(received),
        total_s=time.perf_counter() - started,
    )
    return GenerationResult("".join(received), "cancelled", stats)
