"""ISO weeks: parsing, boundaries in the workspace time zone, week 53, arithmetic across years."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from sitrep.weeks import Week

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("text", ["2025-W01", "2025W01", "2025-W1", "2025w1", " 2025-w01 "])
def test_parse_forms(text: str) -> None:
    assert Week.parse(text) == Week(2025, 1)


@pytest.mark.parametrize("text", ["nonsense", "2025-01", "25-W01", "2025-W", "2025-W001", "W01-2025", ""])
def test_parse_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match="expected the form 2025-W01"):
        Week.parse(text)


@pytest.mark.parametrize("text", ["2025-W00", "2025-W54", "2021-W53"])
def test_parse_rejects_weeks_that_do_not_exist(text: str) -> None:
    with pytest.raises(ValueError, match="has ISO weeks 1 to"):
        Week.parse(text)


def test_str_round_trips() -> None:
    assert str(Week(2025, 1)) == "2025-W01"
    assert Week.parse(str(Week(2020, 53))) == Week(2020, 53)


def test_first_week_of_2025_starts_in_2024() -> None:
    week = Week(2025, 1)
    assert week.monday == date(2024, 12, 30)
    assert week.sunday == date(2025, 1, 5)
    assert Week.of(date(2024, 12, 30)) == week
    assert Week.of(date(2024, 12, 29)) == Week(2024, 52)


def test_bounds_in_shanghai() -> None:
    start, end = Week(2025, 1).bounds(SHANGHAI)
    assert start == datetime(2024, 12, 29, 16, 0, tzinfo=UTC)
    assert end == datetime(2025, 1, 5, 16, 0, tzinfo=UTC)
    assert start.tzinfo == UTC and end.tzinfo == UTC


def test_bounds_follow_daylight_saving() -> None:
    # 2025-W13 in Berlin: Monday 24 March (CET, +1) to Sunday 30 March, when CEST (+2) starts.
    start, end = Week(2025, 13).bounds(ZoneInfo("Europe/Berlin"))
    assert start == datetime(2025, 3, 23, 23, 0, tzinfo=UTC)
    assert end == datetime(2025, 3, 30, 22, 0, tzinfo=UTC)


def test_week_53() -> None:
    assert Week(2020, 53).monday == date(2020, 12, 28)
    assert Week(2020, 53).sunday == date(2021, 1, 3)
    with pytest.raises(ValueError, match="2021 has ISO weeks 1 to 52, not 53"):
        Week(2021, 53)


def test_arithmetic_across_year_ends() -> None:
    assert Week(2025, 1) - 1 == Week(2024, 52)
    assert Week(2024, 52) + 1 == Week(2025, 1)
    assert Week(2021, 1) - 1 == Week(2020, 53)
    assert Week(2020, 53) + 1 == Week(2021, 1)
    assert Week(2025, 1) + 52 == Week(2026, 1)
    assert Week(2025, 1).previous(3) == [Week(2024, 52), Week(2024, 51), Week(2024, 50)]
    assert Week(2025, 1).previous(0) == []


def test_order() -> None:
    assert Week(2024, 52) < Week(2025, 1) < Week(2025, 2)


def test_last_complete_with_a_fixed_now() -> None:
    # Sunday 2025-01-05 15:59 UTC is 23:59 in Shanghai: week 1 is still running.
    assert Week.last_complete(SHANGHAI, datetime(2025, 1, 5, 15, 59, tzinfo=UTC)) == Week(2024, 52)
    # One minute later it is Monday 00:00 in Shanghai: week 1 has ended.
    assert Week.last_complete(SHANGHAI, datetime(2025, 1, 5, 16, 0, tzinfo=UTC)) == Week(2025, 1)
    # The same instant in UTC is still Sunday.
    assert Week.last_complete(ZoneInfo("UTC"), datetime(2025, 1, 5, 16, 0, tzinfo=UTC)) == Week(2024, 52)
