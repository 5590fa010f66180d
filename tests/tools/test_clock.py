"""The time tool tells the local time, with its zone spelled out."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from assistant.tools.builtin import build_registry


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    def use(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("name", "spelled"),
    [("Asia/Tokyo", "(JST, UTC+09:00)"), ("Etc/GMT+5", "(UTC-05:00)"), ("UTC", "(UTC+00:00)")],
)
def test_the_time_is_local_to_the_zone_the_user_is_in(zone, name: str, spelled: str) -> None:  # type: ignore[no-untyped-def]
    zone(name)
    before = datetime.now(ZoneInfo(name)).replace(second=0, microsecond=0, tzinfo=None)
    said = build_registry([]).execute("datetime_now", {})
    after = datetime.now(ZoneInfo(name)).replace(second=0, microsecond=0, tzinfo=None)
    assert said.ok and said.result.endswith(spelled)
    told = datetime.strptime(said.result.rsplit(" (", 1)[0], "%A %d %B %Y, %H:%M")
    assert before <= told <= after  # the zone's own clock, not UTC's or the machine's
