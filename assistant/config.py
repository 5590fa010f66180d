"""Settings and the places Hearth keeps its files.

The data directory is platformdirs' user data dir, or ``$HEARTH_HOME`` when set (tests and
benchmarks use it). Settings live in ``settings.json`` there, validated by one pydantic model
with a schema version; older files are migrated forward on load.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant.core.errors import SettingsError

log = logging.getLogger(__name__)

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


SettingsListener = Callable[[Settings, Settings], None]  # (before, after)


class SettingsStore:
    """The one current ``Settings`` of a running Hearth: it saves them and tells its subscribers.

    Every part reads ``store.current`` (or calls the store: it is its own getter) when it starts a
    turn or an operation, instead of keeping a copy; so a change made through ``update`` or ``edit``
    reaches the next turn of every open conversation without a restart. Subscribers are for what
    must act on a change (reload the model, repaint the theme, refresh a panel's defaults); they
    run on the thread that made the change, in the order they subscribed.

    ``current`` is replaced whole, never changed in place by the store, so a reader on another
    thread sees either the old settings or the new ones, never a mix. Treat it as read-only:
    change settings with ``edit`` (a function given a copy) or ``update``.
    """

    def __init__(self, settings: Settings | None = None, path: Path | None = None, save: bool = True) -> None:
        self._path = path
        self._save = save
        self._current = settings if settings is not None else load_settings(path)
        self._listeners: list[SettingsListener] = []
        self._lock = threading.Lock()  # one change at a time: save, swap, tell

    @property
    def current(self) -> Settings:
        return self._current

    def __call__(self) -> Settings:
        return self._current

    def subscribe(self, listener: SettingsListener) -> Callable[[], None]:
        """Call ``listener(before, after)`` after each change; returns the way to unsubscribe."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def edit(self, change: Callable[[Settings], object]) -> Settings:
        """Apply ``change`` to a copy of the current settings, then ``update`` with it."""
        draft = self._current.model_copy(deep=True)
        change(draft)
        return self.update(draft)

    def update(self, settings: Settings) -> Settings:
        """Make ``settings`` (validated again, and copied) the current ones, remember what the model
        uses (``per_model``), save them and tell every subscriber.

        Raises ``SettingsError`` for values out of bounds (nothing changes then) and when the file
        cannot be written (the new settings apply anyway, until Hearth closes).
        """
        try:
            new = Settings.model_validate(settings.model_dump())
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
            raise SettingsError(f"These settings are not valid: {problems}") from exc
        remember_model(new)
        problem: OSError | None = None
        with self._lock:
            if self._save:
                try:
                    save_settings(new, self._path)
                except OSError as exc:
                    problem = exc
            before, self._current = self._current, new
        for listener in list(self._listeners):
            try:
                listener(before, new)
            except Exception:
                # One broken subscriber must not keep the change from the others.
                log.exception("a settings subscriber failed")
        if problem is not None:
            raise SettingsError(
                f"The settings apply now but could not be saved: {problem}",
                "Check that the data directory is writable; until then they are lost when Hearth closes.",
            ) from problem
        return new


def remember_model(settings: Settings) -> None:
    """Keep the context length, GPU layers and chat format in use with the settings' model, so they
    come back when that model is chosen again."""
    model = settings.model
    settings.per_model[model_key(model.path)] = PerModelSettings(
        n_ctx=model.n_ctx, n_gpu_layers=model.n_gpu_layers, chat_format=model.chat_format
    )


def needs_reload(before: Settings, after: Settings) -> bool:
    """Whether a change only takes effect by loading the model again: the model file, context
    length, threads, GPU layers, batch, chat format, or the engine (backend, server)."""
    return before.model != after.model or before.engine != after.engine


SectionT = TypeVar("SectionT", bound=BaseModel)


def read_section(source: SectionT | Callable[[], SectionT]) -> SectionT:
    """A settings section given as a value (a command, a test) or as a getter of the live one."""
    return source() if callable(source) else source
