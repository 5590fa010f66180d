"""Turn a conversation into prompt pieces with the model's own chat template.

The template is rendered in a sandboxed Jinja environment with every message's content replaced
by a sentinel. The rendered text is then split at the sentinels into *template* pieces (tokenized
with special tokens enabled) and *content* pieces (tokenized as plain text). That is what keeps
``<|im_start|>system`` typed by a user, or found in a document, from becoming a control token.

Tool exchanges go to the template as its trained format expects them (an assistant message with
``tool_calls``, then a ``tool`` message with ``tool_call_id``): Qwen 2.5 renders them as
``<tool_call>`` / ``<tool_response>``, Llama 3.1 as JSON and the ``ipython`` role, Mistral as
``[TOOL_CALLS]`` / ``[TOOL_RESULTS]``. ``supports_tool_messages`` says whether a template does;
where it does not (SmolLM2's plain ChatML, Gemma), Hearth writes results into the user's turn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.core.errors import TemplateError
from assistant.core.messages import ChatMessage, ToolCall

# Private-use code points: no tokenizer or template produces them on its own.
_SENTINEL = "\ue000{}\ue001"
_SENTINEL_RE = re.compile("\ue000(\\d+)\ue001")

BUILTIN_FORMATS: dict[str, str] = {
    "chatml": (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "llama3": (
        "{{ bos_token }}{% for m in messages %}<|start_header_id|>{{ m['role'] }}<|end_header_id|>\n\n"
        "{{ m['content'] }}<|eot_id|>{% endfor %}"
        "{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>\n\n{% endif %}"
    ),
    "gemma": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] + '\n\n' %}"
        "{% set messages = messages[1:] %}{% else %}{% set sys = '' %}{% endif %}"
        "{% for m in messages %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
        "{% if loop.first %}{{ sys }}{% endif %}{{ m['content'] }}<end_of_turn>\n{% endfor %}"
        "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
    ),
    # Qwen 2.5's template (its tokenizer_config.json): ChatML, with tools described in the system turn,
    # calls as <tool_call> in the assistant's turn and results as <tool_response> in a user turn.
    "qwen2.5": (
        "{% if tools %}<|im_start|>system{{ '\\n' }}"
        "{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}"
        "{% else %}You are a helpful assistant.{% endif %}{{ '\\n\\n' }}"
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
        "You are provided with function signatures within <tools></tools> XML tags:"
        "\n<tools>{% for tool in tools %}{{ '\\n' }}{{ tool | tojson }}{% endfor %}{{ '\\n' }}</tools>"
        "\n\nFor each function call, return a json object with function name and arguments within "
        "<tool_call></tool_call> XML tags:\n"
        '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n'
        "{% elif messages[0]['role'] == 'system' %}<|im_start|>system\n{{ messages[0]['content'] }}<|im_end|>\n"
        "{% endif %}{% for m in messages %}{% if m['role'] == 'tool' %}"
        "{% if loop.first or messages[loop.index0 - 1]['role'] != 'tool' %}<|im_start|>user{% endif %}"
        "{{ '\\n' }}<tool_response>\n{{ m['content'] }}\n</tool_response>"
        "{% if loop.last or messages[loop.index0 + 1]['role'] != 'tool' %}<|im_end|>\n{% endif %}"
        "{% elif m['role'] == 'assistant' and m['tool_calls'] %}<|im_start|>assistant"
        "{% if m['content'] %}{{ '\\n' }}{{ m['content'] }}{% endif %}{% for call in m['tool_calls'] %}"
        '{{ "\\n" }}<tool_call>\n{"name": "{{ call.function.name }}", '
        '"arguments": {{ call.function.arguments | tojson }}}'
        "\n</tool_call>{% endfor %}<|im_end|>\n"
        "{% elif not (m['role'] == 'system' and loop.first) %}"
        "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endif %}{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    ),
    "mistral": (
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{% set sys = messages[0]['content'] + '\n\n' %}"
        "{% set messages = messages[1:] %}{% else %}{% set sys = '' %}{% endif %}"
        "{% for m in messages %}{% if m['role'] == 'user' %}[INST] {% if loop.first %}{{ sys }}{% endif %}"
        "{{ m['content'] }} [/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"
    ),
}


@dataclass(frozen=True)
class PromptPiece:
    text: str
    is_content: bool  # content is tokenized as plain text, never as control tokens


class ChatTemplate:
    """A compiled chat template; render() gives the pieces of a prompt in order."""

    def __init__(self, source: str, bos_token: str = "", eos_token: str = "") -> None:
        from jinja2 import TemplateSyntaxError
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        environment = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        # tojson as transformers defines it (keys in their order, non-ASCII kept), the format models
        # were trained on; keeping non-ASCII also keeps the sentinels intact where a template prints
        # content with tojson (Llama 3.1 does, for a tool result).
        environment.policies["json.dumps_kwargs"] = {"sort_keys": False, "ensure_ascii": False}
        environment.globals["raise_exception"] = _raise_template_exception
        environment.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = environment.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"The model's chat template does not compile: {exc}") from exc
        self.bos_token = bos_token
        self.eos_token = eos_token

    def render(
        self,
        messages: Sequence[ChatMessage],
        add_generation_prompt: bool = True,
        tools: list[dict[str, Any]] | None = None,
    ) -> list[PromptPiece]:
        """``tools``: OpenAI-style function definitions, for templates that describe tools themselves.
        They are rendered as template text, so angle brackets in them are defused first: a tool's
        description (an MCP server's, say) must not be able to spell a control token."""
        from jinja2 import TemplateError as JinjaError

        contents = [m.content for m in messages]
        placeholders = [_placeholder(i, m) for i, m in enumerate(messages)]
        extra = {"tools": _defuse(tools)} if tools else {}
        try:
            rendered = self._template.render(
                messages=placeholders,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
                **extra,
            )
        except TemplateError:
            raise
        except (JinjaError, TypeError, ValueError, KeyError, IndexError) as exc:
            raise TemplateError(f"The model's chat template failed on this conversation: {exc}") from exc
        return _split(rendered, contents)

    @functools.cached_property
    def supports_tools(self) -> bool:
        """Whether the template shows a tool list it is given (probed, as llama.cpp probes templates)."""
        probe = {"type": "function", "function": {"name": "hearth_probe_tool", "description": "", "parameters": {}}}
        try:
            pieces = self.render([ChatMessage("user", "hi")], tools=[probe])
        except TemplateError:
            return False
        return any("hearth_probe_tool" in piece.text for piece in pieces if not piece.is_content)

    @functools.cached_property
    def supports_tool_messages(self) -> bool:
        """Whether the template renders a tool call and its result in a format of its own: it shows
        the call (name in template text) and the result (as content), and refuses neither."""
        call = ToolCall(_PROBE_ID, "hearth_probe_tool", {"x": 1})
        exchange = [
            ChatMessage("system", "s"),
            ChatMessage("user", "u"),
            ChatMessage("assistant", "", (call,)),
            ChatMessage("tool", "hearth_probe_result", tool_call_id=_PROBE_ID, name=call.name),
        ]
        try:
            pieces = self.render(exchange)
        except TemplateError:
            return False
        template_text = "".join(piece.text for piece in pieces if not piece.is_content)
        shows_result = any(piece.is_content and piece.text == "hearth_probe_result" for piece in pieces)
        return shows_result and "hearth_probe_tool" in template_text

    @functools.cached_property
    def opens_thinking(self) -> bool:
        """The generation prompt ends inside a thinking block, so the reply starts with thoughts."""
        try:
            pieces = self.render([ChatMessage("user", "hi")])
        except TemplateError:
            return False
        return bool(pieces) and pieces[-1].text.rstrip().endswith(("<think>", "<thinking>"))


# Mistral's templates require call ids of exactly 9 alphanumeric characters.
_PROBE_ID = "call00000"


def _placeholder(index: int, message: ChatMessage) -> dict[str, Any]:
    """What the template sees of a message: its role, a sentinel for its content, and for a tool
    exchange the fields transformers passes. Keys are only there when set: Llama 3.1's template
    tests ``'tool_calls' in message``."""
    # An assistant message that only calls tools has no content (a sentinel would make Qwen's
    # ``if message.content`` add a line the model was not trained on).
    empty = not message.content and bool(message.tool_calls)
    data: dict[str, Any] = {"role": message.role, "content": "" if empty else _SENTINEL.format(index)}
    if message.tool_calls:
        data["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": _defuse(call.name), "arguments": _defuse(call.arguments)},
            }
            for call in message.tool_calls
        ]
    if message.role == "tool":
        data["tool_call_id"] = message.tool_call_id
        data["name"] = _defuse(message.name)
    return data


_DEFUSED = str.maketrans({"<": "‹", ">": "›", "\ue000": None, "\ue001": None})


def _defuse(value: Any) -> Any:
    """Angle brackets become look-alikes (no control token can be spelled) and Hearth's own
    message markers are dropped, in keys as well as values: a template may print parameter names."""
    if isinstance(value, str):
        return value.translate(_DEFUSED)
    if isinstance(value, dict):
        return {_defuse(key): _defuse(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_defuse(item) for item in value]
    return value


def _split(rendered: str, contents: list[str]) -> list[PromptPiece]:
    pieces: list[PromptPiece] = []
    position = 0
    for match in _SENTINEL_RE.finditer(rendered):
        if match.start() > position:
            pieces.append(PromptPiece(rendered[position : match.start()], is_content=False))
        index = int(match.group(1))
        if index >= len(contents):
            raise TemplateError("The model's chat template produced an unexpected message marker.")
        if contents[index]:
            pieces.append(PromptPiece(contents[index], is_content=True))
        position = match.end()
    if position < len(rendered):
        pieces.append(PromptPiece(rendered[position:], is_content=False))
    return pieces


def _raise_template_exception(message: str) -> Any:
    raise TemplateError(f"The model's chat template refused this conversation: {message}")


def builtin_format(name: str) -> str:
    try:
        return BUILTIN_FORMATS[name]
    except KeyError:
        valid = ", ".join(sorted(BUILTIN_FORMATS))
        # The hint names the way out of this error, not the one of a failing model template.
        raise TemplateError(
            f"Unknown chat format '{name}'. Valid formats: {valid}.",
            "Pick one of those with --chat-format (or model.chat_format in the settings), or leave it out "
            "to use the model's own template.",
        ) from None
