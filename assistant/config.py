"""Settings and the places Hearth keeps its files.

The data directory is platformdirs' user data dir, or ``$HEARTH_HOME`` when set (tests and
benchmarks use it). Settings live in ``settings.json`` there, validated by one pydantic model
with a schema version; older files are migrated forward on load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.core.errors import SettingsError

# 2 added per_model: an older Hearth then says the file is newer instead of naming an unknown field.
SCHEMA_VERSION = 2


def apply_offline_environment() -> None:
    """Keep every library we load from reaching out: no hub downloads, no telemetry."""
    for name, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TRANSFORMERS_VERBOSITY": "error",
        "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    }.items():
        os.environ.setdefault(name, value)


def data_dir() -> Path:
    override = os.environ.get("HEARTH_HOME")
    if override:
        path = Path(override).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("Hearth", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_path() -> Path:
    return data_dir() / "conversations.db"


def settings_path() -> Path:
    return data_dir() / "settings.json"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ModelSettings(_Section):
    path: Path | None = Field(None, description="GGUF file to chat with; empty means the bundled model.")
    chat_format: str | None = Field(
        None, description="Chat format for models without a template: chatml, llama3, gemma, mistral."
    )
    n_ctx: int = Field(4096, ge=256, le=262144, description="Context window in tokens.")
    n_threads: int | None = Field(None, ge=1, le=512, description="CPU threads; empty means all cores.")
    n_gpu_layers: int = Field(0, ge=-1, le=1000, description="Layers offloaded to the GPU; -1 means all.")
    n_batch: int = Field(512, ge=8, le=8192, description="Prompt tokens evaluated per batch.")


class PerModelSettings(_Section):
    """What was last used with one model file, restored when that model is chosen again."""

    n_ctx: int = Field(4096, ge=256, le=262144)
    n_gpu_layers: int = Field(0, ge=-1, le=1000)
    chat_format: str | None = None


def model_key(path: Path | None) -> str:
    """Per-model settings are kept by file name, so a model moved to another folder keeps them."""
    return path.name if path is not None else "bundled"


class SamplingSettings(_Section):
    temperature: float = Field(0.7, ge=0.0, le=5.0)
    top_p: float = Field(0.95, ge=0.0, le=1.0)
    top_k: int = Field(40, ge=0, le=1000)
    min_p: float = Field(0.05, ge=0.0, le=1.0)
    repeat_penalty: float = Field(1.1, ge=0.5, le=3.0)
    max_tokens: int = Field(512, ge=1, le=32768, description="Longest reply in tokens.")
    seed: int | None = Field(None, ge=0, description="Fixed seed for repeatable replies; empty is random.")


class EngineSettings(_Section):
    backend: Literal["llama", "openai"] = Field(
        "llama", description="llama: the model runs in this process. openai: an OpenAI-compatible server."
    )
    base_url: str = Field("http://127.0.0.1:8080/v1", description="Server URL for the openai backend.")
    api_key: str = Field("", description="Bearer token for the server, if it needs one.")
    remote_model: str = Field("", description="Model name to ask the server for.")
    timeout_s: float = Field(120.0, gt=0, le=3600)


class ContextSettings(_Section):
    system_prompt: str = Field(
        "You are Hearth, a helpful assistant running privately on the user's computer. Answer clearly and concisely.",
        description="Default instructions for new conversations.",
    )
    reply_reserve: int = Field(512, ge=16, le=32768, description="Tokens kept free for the reply.")


class KnowledgeSettings(_Section):
    chroma_url: str = Field(
        "", description="A Chroma server to share the library across machines; empty keeps it in the data directory."
    )
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    min_similarity: float = Field(
        0.25, ge=0.0, le=1.0, description="Passages found only by meaning must be at least this similar."
    )
    max_file_mb: int = Field(50, ge=1, le=4096, description="Larger files are skipped and reported.")
    watch: Literal["auto", "poll", "off"] = Field(
        "auto",
        description="Index changes as they happen: the system's notifications (auto), a check every few seconds"
        " (poll: for network drives), or only when you press Sync (off).",
    )


class ToolSettings(_Section):
    agent: bool = Field(
        False, description="Let the model call tools in every conversation (a conversation can override it)."
    )
    allowed_folders: list[Path] = Field(
        default_factory=list, description="Folders the file tools may read, besides the collections' folders."
    )


class MemorySettings(_Section):
    enabled: bool = Field(True, description="Off pauses memory: nothing is recalled or saved.")
    extract: bool = Field(True, description="After each exchange, let the model propose facts worth remembering.")
    recall_k: int = Field(5, ge=0, le=20, description="Memories recalled per message, at most.")
    min_similarity: float = Field(0.35, ge=0.0, le=1.0, description="Recalled memories must be at least this similar.")
    max_tokens: int = Field(
        300, ge=0, le=4096, description="The memories section of the context never takes more than this."
    )


class ReasoningSettings(_Section):
    refine_rounds: int = Field(1, ge=1, le=3, description="Refine mode: critique-and-revise rounds at most.")
    votes: int = Field(3, ge=2, le=7, description="Vote mode: independent samples to reconcile.")


class UiSettings(_Section):
    theme: Literal["system", "light", "dark"] = Field("system", description="Follow the system, or force one.")


class Settings(_Section):
    schema_version: int = SCHEMA_VERSION
    model: ModelSettings = Field(default_factory=ModelSettings)
    sampling: SamplingSettings = Field(default_factory=SamplingSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    context: ContextSettings = Field(default_factory=ContextSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    tools: ToolSettings = Field(default_factory=ToolSettings)
    memory: MemorySettings = Field(default_factory=MemorySettings)
    reasoning: ReasoningSettings = Field(default_factory=ReasoningSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    per_model: dict[str, PerModelSettings] = Field(
        default_factory=dict, description="Context length, GPU layers and chat format last used with each model file."
    )


# Each migration takes the raw dict of version N and returns version N + 1.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}


def migrate(raw: dict[str, Any]) -> dict[str, Any]:
    version = int(raw.get("schema_version", 0) or 0)
    if version > SCHEMA_VERSION:
        raise SettingsError(
            f"settings.json was written by a newer Hearth (schema {version}, this one reads {SCHEMA_VERSION}).",
            "Update Hearth, or move settings.json aside to start from the defaults.",
        )
    while version < SCHEMA_VERSION:
        step = MIGRATIONS.get(version)
        raw = step(raw) if step else dict(raw)
        version += 1
        raw["schema_version"] = version
    return raw


def load_settings(path: Path | None = None) -> Settings:
    path = path or settings_path()
    if not path.exists():
        return Settings()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"Could not read {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise SettingsError(f"{path} does not hold a settings object.")
    try:
        return Settings.model_validate(migrate(raw))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise SettingsError(f"Invalid settings in {path}: {problems}") from exc


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write atomically, so a crash mid-write never leaves a half file behind."""
    path = path or settings_path()
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(settings.model_dump_json(indent=2), encoding="utf-8")
    os.replace(tmp, path)
