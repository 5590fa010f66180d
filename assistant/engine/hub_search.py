"""Search the Hugging Face hub (or HF_ENDPOINT) for GGUF repositories, on the user's request only.

Two calls of the hub's public API: ``/api/models?search=…&filter=gguf`` lists repositories, and
``/api/models/{repo}?blobs=true`` lists a repository's files with their sizes, from which the
.gguf files are offered for download.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from assistant.core.errors import DownloadError, DownloadNotFoundError
from assistant.engine.download import hub_endpoint


@dataclass(frozen=True)
class HubRepo:
    repo: str
    downloads: int
    likes: int


@dataclass(frozen=True)
class HubFile:
    name: str
    size: int | None


def _get_json(url: str, timeout_s: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 404):
            raise DownloadNotFoundError(f"The hub has no repository at {url} (HTTP {exc.code}).") from exc
        raise DownloadError(f"The hub answered HTTP {exc.code} for {url}.", "Try again later.") from exc
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        raise DownloadError(
            f"Could not search {url}: {exc}.", "Check the network connection (or HF_ENDPOINT), then try again."
        ) from exc


def search_gguf_repos(
    query: str, limit: int = 20, endpoint: str | None = None, timeout_s: float = 30.0
) -> list[HubRepo]:
    params = urllib.parse.urlencode(
        {"search": query, "filter": "gguf", "sort": "downloads", "direction": "-1", "limit": str(limit)}
    )
    rows = _get_json(f"{endpoint or hub_endpoint()}/api/models?{params}", timeout_s)
    if not isinstance(rows, list):
        raise DownloadError("The hub's search answer was not a list of models.")
    return [
        HubRepo(str(row.get("id") or row.get("modelId")), int(row.get("downloads") or 0), int(row.get("likes") or 0))
        for row in rows
        if isinstance(row, dict) and (row.get("id") or row.get("modelId"))
    ]


def gguf_files(
    repo: str, revision: str = "main", endpoint: str | None = None, timeout_s: float = 30.0
) -> list[HubFile]:
    base = endpoint or hub_endpoint()
    path = f"/api/models/{repo}" + (f"/revision/{urllib.parse.quote(revision, safe='')}" if revision != "main" else "")
    info = _get_json(f"{base}{path}?blobs=true", timeout_s)
    siblings = info.get("siblings", []) if isinstance(info, dict) else []
    files = []
    for sibling in siblings:
        name = sibling.get("rfilename", "") if isinstance(sibling, dict) else ""
        if name.endswith(".gguf"):
            size = sibling.get("size")
            files.append(HubFile(name, int(size) if isinstance(size, int) else None))
    return files
