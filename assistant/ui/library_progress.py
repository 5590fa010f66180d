"""What the Library window says about a sync: its progress line and its report."""

from __future__ import annotations

from pathlib import Path

from assistant.knowledge.indexer import IndexReport, Progress

STARTING = "{name}: loading the embedding model and reading the first file…"


def progress_text(name: str, progress: Progress) -> str:
    if progress.files_total and not progress.files_done:
        return STARTING.format(name=name) + f" ({progress.files_total} to index)"
    eta = f" · about {int(progress.eta_s)} s left" if progress.eta_s else ""
    return (
        f"{name}: {progress.files_done}/{progress.files_total} files · {progress.chunks} passages · "
        f"{progress.chunks_per_s:.1f}/s{eta}  {Path(progress.current).name}"
    )


def report_text(name: str, report: IndexReport) -> str:
    lines = [
        f"{name}: {'stopped (sync again to resume)' if report.cancelled else 'done'} — {report.added} added, "
        f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged, "
        f"{report.chunks} passages in {report.seconds:.1f} s."
    ]
    if report.rebuilt:
        lines.append(f"The vector store had lost {report.rebuilt} passages' vectors: rebuilt from the stored passages.")
    lines += [f"Not indexed: {p.path} — {p.reason}" for p in report.failed]
    lines += [f"Note: {p.path} — {p.reason}" for p in report.warnings]
    return "\n".join(lines)
