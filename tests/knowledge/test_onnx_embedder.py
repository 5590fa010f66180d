"""The torch-free embedder the bundle ships: same vectors as sentence-transformers."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.core.errors import HearthError
from assistant.knowledge.bundled_embedder import bundled_embedder_path
from assistant.knowledge.embedder import SentenceTransformerEmbedder
from assistant.knowledge.library import default_embedder
from assistant.knowledge.onnx_embedder import OnnxEmbedder, export_onnx

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    source = bundled_embedder_path()
    assert source is not None
    return export_onnx(source, tmp_path_factory.mktemp("onnx"))


def test_the_onnx_export_gives_the_same_vectors(exported: Path) -> None:
    texts = ["The boiler is serviced every October.", "short", "word " * 400, "Émile a vu 3 chats à Lyon."]
    onnx = OnnxEmbedder(exported, batch_size=3).embed(texts)
    torch = SentenceTransformerEmbedder().embed(texts)
    for a, b in zip(onnx, torch, strict=True):
        assert len(a) == 384
        assert sum(x * y for x, y in zip(a, b, strict=True)) > 0.9999
    assert OnnxEmbedder(exported).name == SentenceTransformerEmbedder().name, "collections stay compatible"


def test_the_bundle_location_is_preferred(exported: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert isinstance(default_embedder(), SentenceTransformerEmbedder)
    monkeypatch.setenv("HEARTH_ONNX_EMBEDDER", str(exported))
    assert isinstance(default_embedder(), OnnxEmbedder)
    with pytest.raises(HearthError, match="No exported embedding model"):
        OnnxEmbedder(tmp_path)
