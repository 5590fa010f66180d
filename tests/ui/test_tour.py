"""The screenshot tour (tests/ui/tour.py), offscreen: every picture is taken and shows a window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from tests.ui.tour import SHOTS, run_tour

OUT = Path(__file__).resolve().parents[2] / "artifacts" / "tour" / "offscreen"


def test_the_tour_takes_every_picture(qapp, hearth_home: Path, dark_then_light) -> None:  # type: ignore[no-untyped-def]
    paths = run_tour(OUT)
    assert [p.stem for p in paths] == list(SHOTS)
    for path in paths:
        image = QImage(str(path))
        assert image.width() >= 800 and image.height() >= 600, path
        colours = {
            image.pixelColor(x, y).rgb() for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)
        }
        assert len(colours) > 20, f"{path} is nearly blank"
    small = QImage(str(OUT / "08-small-800x600.png"))
    assert (small.width(), small.height()) == (800, 600)
    dark = QImage(str(OUT / "06-dark-code.png"))
    assert dark.pixelColor(dark.width() // 2, dark.height() // 2).lightness() < 128
