"""date_math: calendar-aware addition, differences, business days, time zones, and inputs it must refuse."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from typing import Any

import pytest

from satchel.tools.builtin.date_math import Duration, parse_duration

Structured = Callable[..., dict[str, Any]]
ToolErrorText = Callable[..., str]


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        ("2024-01-31", "P1M", "2024-02-29"),
        ("2023-01-31", "1 month", "2023-02-28"),
        ("2024-02-29", "P1Y", "2025-02-28"),
        ("2024-03-01", "P2W", "2024-03-15"),
        ("2024-03-01", "3 days", "2024-03-04"),
        ("2024-03-01T10:00:00", "PT90M", "2024-03-01T11:30:00"),
        ("2024-03-01", "1h30m", "2024-03-01T01:30:00"),
        ("2024-12-31T23:00:00+00:00", "2 hours", "2025-01-01T01:00:00+00:00"),
        ("2024-12-20", "5 business days", "2024-12-27"),
        ("2024-03-01", "P1Y2M3DT4H5M6S", "2025-05-04T04:05:06"),
    ],
)
def test_add(structured: Structured, start: str, duration: str, expected: str) -> None:
    assert structured("date_math", operation="add", start=start, duration=duration)["result"] == expected


def test_subtract_is_add_backwards(structured: Structured) -> None:
    assert (
        structured("date_math", operation="subtract", start="2024-03-31", duration="P1M")["result"]
        == "2024-02-29"
    )
    result = structured(
        "date_math",
        operation="subtract",
        start="2025-01-06",
        duration="3 business days",
        holidays=["2025-01-01"],
    )
    assert result["result"] == "2024-12-31"


def test_clock_hours_are_elapsed_time_across_dst(structured: Structured) -> None:
    result = structured(
        "date_math",
        operation="add",
        start="2024-03-30T12:00:00",
        duration="PT24H",
        assume_timezone="Europe/Berlin",
    )
    assert result["result"] == "2024-03-31T13:00:00+02:00" and result["dst"] is True
    days = structured(
        "date_math",
        operation="add",
        start="2024-03-30T12:00:00",
        duration="P1D",
        assume_timezone="Europe/Berlin",
    )
    assert days["result"] == "2024-03-31T12:00:00+02:00"


def test_difference_with_calendar_breakdown(structured: Structured) -> None:
    result = structured("date_math", operation="difference", start="2024-01-15", end="2025-03-20T06:00:00")
    assert result["days"] == 430 and result["iso_duration"] == "P1Y2M5DT6H"
    backwards = structured("date_math", operation="difference", start="2024-03-02", end="2024-03-01T12:00:00")
    assert (
        backwards["days"] == 0
        and backwards["total_seconds"] == -43200
        and backwards["iso_duration"] == "-PT12H"
    )


def test_difference_across_time_zones_is_exact(structured: Structured) -> None:
    result = structured(
        "date_math",
        operation="difference",
        start="2024-06-01T09:00:00+02:00",
        end="2024-06-01T09:00:00-04:00",
    )
    assert result["total_seconds"] == 6 * 3600


def test_business_days_exclude_weekends_and_holidays(structured: Structured) -> None:
    holidays = ["2024-12-25", "2024-12-26", "2025-01-01"]
    result = structured(
        "date_math", operation="business_days", start="2024-12-23", end="2025-01-06", holidays=holidays
    )
    assert result["business_days"] == 7
    reverse = structured(
        "date_math", operation="business_days", start="2025-01-06", end="2024-12-23", holidays=holidays
    )
    assert reverse["business_days"] == -7
    friday_saturday = structured(
        "date_math", operation="business_days", start="2024-06-02", end="2024-06-09", weekend=[5, 6]
    )
    assert friday_saturday["business_days"] == 5


def test_convert_between_zones(structured: Structured) -> None:
    result = structured(
        "date_math", operation="convert", start="2024-07-01T09:00:00Z", timezone_name="America/New_York"
    )
    assert result["result"] == "2024-07-01T05:00:00-04:00" and result["timezone"] == "America/New_York"
    offset = structured(
        "date_math", operation="convert", start="2024-01-01T00:00:00+00:00", timezone_name="+05:30"
    )
    assert offset["result"] == "2024-01-01T05:30:00+05:30"


def test_parse_reports_calendar_facts(structured: Structured) -> None:
    result = structured("date_math", operation="parse", start="2024-W09-5")
    assert result["result"] == "2024-03-01" and result["weekday"] == "Friday" and result["day_of_year"] == 61


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"operation": "add", "start": "next tuesday", "duration": "P1D"}, "not an ISO 8601 date"),
        ({"operation": "add", "start": "2024-02-30", "duration": "P1D"}, "not an ISO 8601 date"),
        ({"operation": "add", "start": "2024-01-01", "duration": "a fortnight"}, "not understood"),
        ({"operation": "add", "start": "2024-01-01", "duration": "P1.5M"}, "whole numbers"),
        ({"operation": "add", "start": "2024-01-01"}, "needs a duration"),
        ({"operation": "add", "start": "9999-12-01", "duration": "P1M"}, "outside the supported years"),
        ({"operation": "difference", "start": "2024-01-01"}, "needs an end date"),
        ({"operation": "convert", "start": "2024-01-01T00:00:00", "timezone_name": "UTC"}, "no UTC offset"),
        (
            {"operation": "convert", "start": "2024-01-01T00:00:00Z", "timezone_name": "Mars/Olympus"},
            "unknown time zone",
        ),
        (
            {"operation": "difference", "start": "2024-01-01T00:00:00Z", "end": "2024-01-02T00:00:00"},
            "both have a UTC offset",
        ),
        ({"operation": "weeks", "start": "2024-01-01"}, "is not one of"),
    ],
)
def test_bad_input_is_a_clear_tool_error(
    tool_error: ToolErrorText, arguments: dict[str, Any], expected: str
) -> None:
    assert expected in tool_error("date_math", **arguments)


def test_missing_tz_data_is_explained(tool_error: ToolErrorText, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_zone(key: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(key)

    monkeypatch.setattr(zoneinfo, "ZoneInfo", no_zone)
    monkeypatch.setattr(zoneinfo, "available_timezones", set)
    message = tool_error(
        "date_math", operation="convert", start="2024-01-01T00:00:00Z", timezone_name="Europe/Paris"
    )
    assert "time-zone data is unavailable" in message and "tzdata" in message


def test_duration_parsing() -> None:
    assert parse_duration("P1DT12H") == Duration(days=1, seconds=43200)
    assert parse_duration("-P1W") == Duration(days=-7)
    assert parse_duration("2 weeks and 3 days") == Duration(days=17)
    assert parse_duration("P0,5D") == Duration(seconds=43200)
