"""Turn a conversation into prompt pieces with the model's own chat template.

The template is rendered in a sandboxed Jinja environment with every message's content replaced
by a sentinel. The rendered text is then split at the sentinels into *template* pieces (tokenized
with special tokens enabled) and *content* pieces (tokenized as plain text). That is what keeps
``<|im_start|>system`` typed by a user, or found in a document, from becoming a control token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.core.errors import TemplateError
from assistant.core.messages import ChatMessage

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
        environment.globals["raise_exception"] = _raise_template_exception
        environment.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = environment.from_string(source)
        except TemplateSyntaxError as exc:
            raise TemplateError(f"The model's chat template does not compile: {exc}") from exc
        self.bos_token = bos_token
        self.eos_token = eos_token

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True) -> list[PromptPiece]:
        from jinja2 import TemplateError as JinjaError

        contents = [m.content for m in messages]
        placeholders = [{"role": m.role, "content": _SENTINEL.format(i)} for i, m in enumerate(messages)]
        try:
            rendered = self._template.render(
                messages=placeholders,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except TemplateError:
            raise
        except (JinjaError, TypeError, ValueError, KeyError, IndexError) as exc:
            raise TemplateError(f"The model's chat template failed on this conversation: {exc}") from exc
        return _split(rendered, contents)


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
        raise TemplateError(f"Unknown chat format '{name}'. Valid formats: {valid}.") from None
