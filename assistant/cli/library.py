"""``hearth index``, ``hearth collections …`` and ``hearth search``: the document library from a terminal."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

from assistant.config import Settings, data_dir
from assistant.core.cancel import CancelToken
from assistant.knowledge.embedder import Embedder
from assistant.knowledge.indexer import IndexReport, Progress
from assistant.knowledge.library import Library


def add_parsers(commands: Any) -> None:
    index = commands.add_parser("index", help="add folders or files to a collection and index them")
    index.add_argument("paths", type=Path, nargs="+", metavar="PATH")
    index.add_argument("--collection", required=True, metavar="NAME")
    index.add_argument("--reindex", action="store_true", help="drop the index and build it again")
    collections = commands.add_parser(
        "collections",
        help="list, show, sync, rename or remove collections; their folders and patterns; attach a shared one",
    )
    actions = collections.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list")
    listing.add_argument("--json", action="store_true")
    show = actions.add_parser("show")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    sync = actions.add_parser("sync")
    sync.add_argument("name")
    sync.add_argument("--reindex", action="store_true")
    rename = actions.add_parser("rename")
    rename.add_argument("name")
    rename.add_argument("new_name")
    remove = actions.add_parser("remove")
    remove.add_argument("name")
    remove_folder = actions.add_parser("remove-folder", help="take one folder out of a collection, then sync")
    remove_folder.add_argument("name")
    remove_folder.add_argument("folder", type=Path)
    patterns = actions.add_parser("patterns", help="which files of its folders a collection keeps, then sync")
    patterns.add_argument("name")
    patterns.add_argument("--include", action="append", default=[], metavar="GLOB", help="e.g. '*.md' (repeatable)")
    patterns.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="e.g. 'drafts/**'")
    patterns.add_argument("--clear", action="store_true", help="no patterns: every supported file")
    shared = actions.add_parser("shared", help="collections on the Chroma server that other machines indexed")
    shared.add_argument("--json", action="store_true")
    attach = actions.add_parser("attach", help="search and cite a collection another machine indexed")
    attach.add_argument("collection", metavar="NAME_OR_ID", help="as 'hearth collections shared' lists it")
    attach.add_argument("--as", dest="local_name", metavar="NAME", help="the name to use for it here")
    search = commands.add_parser("search", help="find passages in a collection")
    search.add_argument("query")
    search.add_argument("--collection", action="append", required=True, metavar="NAME")
    search.add_argument("--k", type=int, default=None, help="how many passages")
    search.add_argument("--json", action="store_true")


def open_library(settings: Settings, embedder: Embedder | None = None) -> Library:
    return Library(data_dir(), settings.knowledge, embedder)


def run(args: argparse.Namespace, settings: Settings) -> int:
    library = open_library(settings)
    try:
        if args.command == "index":
            library.add(args.collection, list(args.paths))
            return _sync(library, args.collection, args.reindex)
        if args.command == "search":
            passages = library.search(args.query, args.collection, args.k)
            if args.json:
                print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
            elif not passages:
                print("No passage matches.")
            for p in [] if args.json else passages:
                print(f"[{p.n}] {p.label}  (score {p.score:.4f})\n    {' '.join(p.text.split())[:300]}\n")
            return 0
        return _collections(args, library)
    finally:
        library.close()


def _collections(args: argparse.Namespace, library: Library) -> int:
    if args.action == "list":
        collections = library.collections()
        if args.json:
            print(json.dumps([_describe(c) for c in collections], indent=2))
        elif not collections:
            print("No collections yet. Create one with 'hearth index FOLDER --collection NAME'.")
        for c in [] if args.json else collections:
            print(f"{c.name}: {c.files} files, {c.chunks} passages, {c.failed} unreadable — {', '.join(c.roots)}")
        pending = library.pending_removals()
        if pending and not args.json:
            print(
                f"{pending} removed collection{'s are' if pending > 1 else ' is'} still removing: "
                "its passages on the vector store are deleted the next time it answers (any sync finishes it)."
            )
    elif args.action == "show":
        collection = library.collection(args.name)
        files = library.catalog.files(collection.id)
        if args.json:
            described = _describe(collection)
            described["files"] = [
                {"path": f.path, "status": f.status, "chunks": f.chunks, "reason": f.reason} for f in files.values()
            ]
            print(json.dumps(described, indent=2))
        else:
            print(
                f"{collection.name} (id {collection.uid}) — embedder {collection.embedder} "
                f"({collection.dimension} dimensions)"
            )
            for root in collection.roots:
                print(f"  folder: {root}")
            if collection.include or collection.exclude:
                include, exclude = ", ".join(collection.include) or "*", ", ".join(collection.exclude) or "-"
                print(f"  include: {include}; exclude: {exclude}")
            for record in sorted(files.values(), key=lambda f: f.path):
                note = f" — {record.reason}" if record.reason else ""
                print(f"  [{record.status}] {record.path} ({record.chunks} passages){note}")
    elif args.action == "sync":
        return _sync(library, args.name, args.reindex)
    elif args.action == "rename":
        library.rename(args.name, args.new_name)
        print(f"Renamed '{args.name}' to '{args.new_name}'.")
    elif args.action == "remove-folder":
        library.remove_folder(args.name, args.folder.expanduser().resolve())
        return _sync(library, args.name, False)
    elif args.action == "patterns":
        if args.clear or args.include or args.exclude:
            library.set_patterns(args.name, tuple(args.include), tuple(args.exclude))
            collection = library.collection(args.name)
            print(f"Include: {', '.join(collection.include) or 'every supported file'}")
            print(f"Exclude: {', '.join(collection.exclude) or 'nothing'}")
            return _sync(library, args.name, False)
        collection = library.collection(args.name)
        print(f"Include: {', '.join(collection.include) or 'every supported file'}")
        print(f"Exclude: {', '.join(collection.exclude) or 'nothing'}")
    elif args.action == "remove":
        removed = library.remove(args.name)
        print(
            f"Removed collection '{removed.name}' and its index ({removed.chunks} passages). Your files are untouched."
        )
    elif args.action == "shared":
        return _shared(library, args.json)
    elif args.action == "attach":
        attached = library.attach(args.collection, args.local_name)
        print(
            f"Attached '{attached.name}': ask with --collection '{attached.name}', or tick it in a conversation. "
            f"'hearth index FOLDER --collection '{attached.name}'' adds this machine's folders to it."
        )
    return 0


def _shared(library: Library, as_json: bool) -> int:
    found = library.shared_collections()
    if as_json:
        print(json.dumps([vars(s) for s in found], indent=2))
    elif not found:
        where = library.settings.chroma_url or "this data directory (no Chroma server is set)"
        print(f"No collection to attach on {where}.")
    for s in [] if as_json else found:
        print(f"{s.name} (id {s.uid}): {s.passages} passages, embedder {s.embedder}")
    return 0


def _describe(collection: Any) -> dict[str, Any]:
    return {
        "id": collection.uid,
        "name": collection.name,
        "roots": list(collection.roots),
        "files": collection.files,
        "chunks": collection.chunks,
        "failed": collection.failed,
        "embedder": collection.embedder,
        "include": list(collection.include),
        "exclude": list(collection.exclude),
    }


def _sync(library: Library, name: str, reindex: bool) -> int:
    cancel = CancelToken()
    previous = signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        report = library.sync(name, _ProgressBar(), cancel, reindex=reindex)
    finally:
        signal.signal(signal.SIGINT, previous)
    print_report(report)
    return 130 if report.cancelled else 0


class _ProgressBar:
    """files done/total, chunks/s and ETA on stderr; redrawn in place on a terminal."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        final = progress.files_done == progress.files_total
        if not final and now - self.last < (0.1 if self.tty else 5.0):
            return
        self.last = now
        width = 24
        filled = int(width * progress.files_done / progress.files_total) if progress.files_total else width
        eta = f"ETA {int(progress.eta_s // 60)}:{int(progress.eta_s % 60):02d}" if progress.eta_s else ""
        line = (
            f"[{'#' * filled}{'-' * (width - filled)}] {progress.files_done}/{progress.files_total} files · "
            f"{progress.chunks} passages · {progress.chunks_per_s:.1f}/s {eta} {Path(progress.current).name[:40]}"
        )
        print(
            ("\r" + line.ljust(110)) if self.tty else line,
            end="" if self.tty and not final else "\n",
            file=sys.stderr,
            flush=True,
        )


def print_report(report: IndexReport) -> None:
    rate = report.chunks / report.seconds if report.seconds else 0.0
    state = "stopped — run the same command again to resume" if report.cancelled else "done"
    if report.rebuilt:
        print(
            f"{report.collection}: the vector store had lost {report.rebuilt} passages' vectors; "
            "they were rebuilt from the stored passages (no file was read again)."
        )
    print(
        f"{report.collection}: {state}. {report.added} added, {report.updated} updated, {report.removed} removed, "
        f"{report.unchanged} unchanged; {report.chunks} passages in {report.seconds:.1f} s ({rate:.1f}/s)."
    )
    if report.failed:
        print(f"{len(report.failed)} not indexed:")
        for problem in report.failed:
            print(f"  {problem.path}: {problem.reason}")
    for problem in report.warnings:
        print(f"  note: {problem.path}: {problem.reason}")
