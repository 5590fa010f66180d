"""``hearth models``: the GGUF files Hearth can use, the catalogue, and downloads on request."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from assistant.config import Settings


def add_parsers(commands: Any) -> None:
    models = commands.add_parser("models", help="the GGUF models Hearth can use, and downloads")
    actions = models.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="models on disk and the catalogue, with a fit estimate")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--context", type=int, help="context length to estimate for (default: the settings')")
    download = actions.add_parser(
        "download", help="download a GGUF from the Hugging Face hub (or HF_ENDPOINT), verified and resumable"
    )
    download.add_argument("repo", metavar="OWNER/REPO", help="a repository, or a catalogue key such as qwen3-4b")
    download.add_argument("file", nargs="?", metavar="FILE.gguf", help="the file in the repository")
    download.add_argument("--revision", default="main", help="branch, tag or commit (default: main)")
    search = actions.add_parser("search", help="search the hub (or HF_ENDPOINT) for GGUF repositories")
    search.add_argument("query")
    search.add_argument("--limit", type=int, default=20)
    files = actions.add_parser("files", help="the .gguf files of a hub repository, with their sizes")
    files.add_argument("repo", metavar="OWNER/REPO")
    files.add_argument("--revision", default="main")


def run_models(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "download":
        return _download(args)
    if args.action in ("search", "files"):
        return _search(args)
    return _list(args, settings)


def _list(args: argparse.Namespace, settings: Settings) -> int:
    from assistant.config import models_dir
    from assistant.engine.fit import estimate_fit, machine_memory
    from assistant.engine.model_catalogue import CURATED_MODELS, recommend
    from assistant.engine.model_choice import list_models
    from assistant.engine.speed import USABLE_TOKENS_PER_S, machine_speed

    wanted_ctx = args.context or settings.model.n_ctx
    memory = machine_memory()
    machine = machine_speed(n_threads=settings.model.n_threads)
    gpu_layers = settings.model.n_gpu_layers
    rows: list[dict[str, Any]] = []
    for entry in list_models(settings):
        row: dict[str, Any] = {"path": str(entry.path), "source": entry.source}
        if entry.info is not None:
            info = entry.info
            fit = estimate_fit(
                info.shape(), info.file_size, wanted_ctx, memory, gpu_layers, machine, info.parameter_count
            )
            row.update(
                name=info.name,
                architecture=info.architecture,
                parameters=info.parameter_count,
                quantization=info.quantization,
                file_size=info.file_size,
                context_length=info.context_length,
                chat_template=info.chat_template is not None,
                estimated_ram=info.estimated_ram_bytes(settings.model.n_ctx),
                estimated_ram_n_ctx=settings.model.n_ctx,
                fit=fit.as_dict(),
                fit_summary=fit.summary(),
            )
        else:
            row["error"] = entry.error.message if entry.error else "unreadable"
        rows.append(row)
    for model in CURATED_MODELS:
        local = model.local_path(models_dir())
        fit = model.fit(wanted_ctx, memory, gpu_layers, machine)
        rows.append(
            {
                "source": "catalogue",
                "key": model.key,
                "name": model.name,
                "repo": model.repo,
                "file": model.file,
                "revision": model.revision,
                "file_size": model.size,
                "licence": model.licence,
                "strengths": list(model.strengths),
                "summary": model.summary,
                "context_length": model.shape.context_length,
                "downloaded": local.is_file(),
                "path": str(local) if local.is_file() else None,
                "fit": fit.as_dict(),
                "fit_summary": fit.summary(),
            }
        )
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(
        f"This machine: {machine.describe()}. Speeds are CPU estimates; below {USABLE_TOKENS_PER_S:.0f} "
        "tokens/s a reply is a wait.\n"
    )
    _print_local([row for row in rows if row["source"] != "catalogue"])
    _print_catalogue([row for row in rows if row["source"] == "catalogue"])
    best = recommend(wanted_ctx, memory, machine)
    if best:
        speed = f", {best[1].speed.short()}" if best[1].speed else ""
        print(f"\nRecommended for this machine: {best[0].name}{speed}  (hearth models download {best[0].key})")
    else:
        print("\nNo catalogue model fits this machine comfortably; the bundled model is the one to use.")
    return 0


def _print_local(rows: list[dict[str, Any]]) -> None:
    from assistant.core.units import human_bytes, human_count

    print("On this machine:")
    if not rows:
        print("  No models found. Put .gguf files in the models folder, pass --model, or download one.")
    for row in rows:
        print(f"{row.get('name', '?')}  [{row['source']}]\n  {row['path']}")
        if "error" in row:
            print(f"  unusable: {row['error']}")
            continue
        print(
            f"  {row['architecture']}, {human_count(row['parameters'])} parameters, {row['quantization']}, "
            f"{human_bytes(row['file_size'])}, trained context {row['context_length'] or '?'} tokens, "
            f"chat template {'yes' if row['chat_template'] else 'NO (set a chat format)'}, "
            f"about {human_bytes(row['estimated_ram'])} RAM at {row['estimated_ram_n_ctx']} tokens of context"
        )
        print(f"  {row['fit_summary']}")


def _print_catalogue(rows: list[dict[str, Any]]) -> None:
    from assistant.core.units import human_bytes

    print("\nCatalogue (download with: hearth models download KEY):")
    for row in rows:
        mark = "  [downloaded]" if row["downloaded"] else ""
        print(f"{row['key']:<22} {row['name']}, {human_bytes(row['file_size'])}, {row['licence']}{mark}")
        print(f"  {', '.join(row['strengths'])}: {row['summary']}")
        print(f"  {row['fit_summary']}")


def _search(args: argparse.Namespace) -> int:
    from assistant.core.units import human_bytes
    from assistant.engine.hub_search import gguf_files, search_gguf_repos

    if args.action == "search":
        repos = search_gguf_repos(args.query, args.limit)
        if not repos:
            print(f"No GGUF repositories match {args.query!r}.")
        for repo in repos:
            print(f"{repo.repo:<60} {repo.downloads:>10,} downloads  {repo.likes:>6,} likes")
        return 0
    found = gguf_files(args.repo, args.revision)
    if not found:
        print(f"{args.repo} has no .gguf files.")
    for hub_file in found:
        size = human_bytes(hub_file.size) if hub_file.size is not None else "?"
        print(f"{hub_file.name:<70} {size:>10}")
    if found:
        print(f"\nDownload one with: hearth models download {args.repo} FILE.gguf")
    return 0


def _download(args: argparse.Namespace) -> int:
    from assistant.core.cancel import Cancelled
    from assistant.core.errors import DownloadNotFoundError
    from assistant.engine.download import ModelDownloader
    from assistant.engine.model_catalogue import curated_model

    repo, filename, revision = args.repo, args.file, args.revision
    if filename is None:
        try:
            model = curated_model(repo)
        except KeyError:
            raise DownloadNotFoundError(
                f"{repo!r} is not a catalogue key.",
                "Name a repository and a file (hearth models download OWNER/REPO FILE.gguf), "
                "or a key from 'hearth models list'.",
            ) from None
        repo, filename, revision = model.repo, model.file, model.revision
    downloader = ModelDownloader()
    bar = ProgressBar()
    print(f"Downloading {filename} from {downloader.endpoint}/{repo} ({revision})", file=sys.stderr)
    part = downloader.part_path(repo, filename, revision)
    if part.exists():
        from assistant.core.units import human_bytes

        print(f"Resuming: {human_bytes(part.stat().st_size)} already downloaded.", file=sys.stderr)
    try:
        path = downloader.download(repo, filename, revision, progress=bar.update)
    except (KeyboardInterrupt, Cancelled):
        bar.finish()
        print("Stopped. Run the same command again to resume where it stopped.", file=sys.stderr)
        return 130
    bar.finish()
    print(f"Verified (SHA-256) and saved: {path}")
    return 0


class ProgressBar:
    """One line on stderr, redrawn at most ten times a second."""

    WIDTH = 30

    def __init__(self) -> None:
        self._last = 0.0
        self._drawn = False

    def update(self, report: Any) -> None:
        from assistant.core.units import human_bytes

        now = time.monotonic()
        final = report.done >= report.total
        if now - self._last < 0.1 and not final:
            return
        self._last = now
        share = report.done / report.total if report.total else 1.0
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        if report.phase == "verifying":
            detail = "verifying SHA-256"
        else:
            speed = f"{human_bytes(report.bytes_per_s)}/s"
            left = _duration(report.seconds_left) + " left" if report.seconds_left is not None else ""
            retry = f", try {report.attempt}" if report.attempt > 1 else ""
            detail = f"{human_bytes(report.done)} / {human_bytes(report.total)}, {speed}, {left}{retry}"
        sys.stderr.write(f"\r[{bar}] {share:4.0%} {detail}\033[K")
        sys.stderr.flush()
        self._drawn = True

    def finish(self) -> None:
        if self._drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
