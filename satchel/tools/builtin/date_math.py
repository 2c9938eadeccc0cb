"""``date_math``: parse dates and durations, add and subtract, count days and business days, convert time zones.

Calendar parts of a duration (years, months, weeks, days) move the wall clock — Jan 31 plus one month is the last
day of February — while clock parts (hours, minutes, seconds) add elapsed time, so "PT24H" across a DST change lands
an hour off midnight, as it should. Time zones come from ``zoneinfo``; a runtime without tz data (Pyodide before
the ``tzdata`` wheel is installed) still handles UTC and fixed offsets and says plainly what is missing otherwise.
"""

from __future__ import annotations

import calendar
import re
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Annotated, Literal, NotRequired, TypedDict

from satchel.tools.schema import Constraint
from satchel.tools.tool import ToolError, tool

Operation = Literal["parse", "add", "subtract", "difference", "business_days", "convert"]
Moment = date | datetime

_ISO_DURATION = re.compile(
    r"^(?P<sign>[+-])?P(?!$)(?:(?P<years>\d+(?:[.,]\d+)?)Y)?(?:(?P<months>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?$",
    re.IGNORECASE,
)
_UNITS = {
    "years": ("y", "yr", "yrs", "year", "years"),
    "months": ("mo", "mon", "month", "months"),
    "weeks": ("w", "wk", "wks", "week", "weeks"),
    "days": ("d", "day", "days"),
    "business_days": ("business day", "business days", "working day", "working days", "bd"),
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("m", "min", "mins", "minute", "minutes"),
    "seconds": ("s", "sec", "secs", "second", "seconds"),
}
_UNIT_OF = {alias: unit for unit, aliases in _UNITS.items() for alias in aliases}
_SIMPLE_PART = re.compile(
    r"(?P<number>\d+(?:\.\d+)?)\s*(?P<unit>"
    + "|".join(sorted(map(re.escape, _UNIT_OF), key=len, reverse=True))
    + r")(?![^\W\d_])",
    re.IGNORECASE,
)
_OFFSET = re.compile(r"^(?:UTC|GMT)?([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)


@dataclass(frozen=True)
class Duration:
    """A signed duration split into calendar parts and elapsed-time parts."""

    years: int = 0
    months: int = 0
    days: int = 0
    business_days: int = 0
    seconds: float = 0.0

    def negated(self) -> Duration:
        return Duration(-self.years, -self.months, -self.days, -self.business_days, -self.seconds)


class DateResult(TypedDict):
    """The answer; which fields are present depends on the operation.

    Attributes:
        operation: The operation performed.
        result: The main answer: an ISO 8601 date/datetime, or a count for difference/business_days.
        kind: "date" or "datetime" for a moment result.
        weekday: Day name of the resulting moment.
        iso_week: ISO 8601 week date of the resulting moment (e.g. 2024-W03-1).
        day_of_year: Ordinal day of the year of the resulting moment.
        timezone: Time-zone name of the resulting moment, if it has one.
        utc_offset: UTC offset of the resulting moment as +HH:MM, if it has one.
        dst: Whether daylight-saving time is in effect, if known.
        days: Whole days between start and end (difference).
        total_seconds: Exact seconds between start and end (difference).
        iso_duration: Calendar breakdown of the difference as ISO 8601 (e.g. P1Y2M3DT4H).
        business_days: Working days in [start, end) (business_days), negative when end is earlier.
    """

    operation: str
    result: str
    kind: NotRequired[str]
    weekday: NotRequired[str]
    iso_week: NotRequired[str]
    day_of_year: NotRequired[int]
    timezone: NotRequired[str]
    utc_offset: NotRequired[str]
    dst: NotRequired[bool]
    days: NotRequired[int]
    total_seconds: NotRequired[float]
    iso_duration: NotRequired[str]
    business_days: NotRequired[int]


def load_zone(name: str) -> tzinfo:
    """A time zone by IANA name, "UTC", or fixed offset ("+05:30", "UTC-3"); clear errors when it cannot be had."""
    if name.upper() in ("UTC", "Z", "GMT"):
        return UTC
    offset = _OFFSET.match(name.strip())
    if offset:
        sign, hours, minutes = offset.group(1), int(offset.group(2)), int(offset.group(3) or 0)
        if hours > 23 or minutes > 59:
            raise ToolError(f"invalid UTC offset {name!r}")
        delta = timedelta(hours=hours, minutes=minutes)
        return timezone(-delta if sign == "-" else delta)
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        if not zoneinfo.available_timezones():
            raise ToolError(
                f"time-zone data is unavailable in this Python runtime, so {name!r} cannot be resolved: there is "
                "no system zoneinfo database and the 'tzdata' package is not installed. UTC and fixed offsets "
                "such as +02:00 still work."
            ) from None
        raise ToolError(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin'") from None


def parse_moment(value: str, field: str) -> Moment:
    """An ISO 8601 date ("2024-03-01", "2024-W09-5", "20240301") or datetime ("2024-03-01T09:30:00+01:00", "...Z")."""
    text = value.strip()
    try:
        if re.search(r"\d[T ]\d", text) or ":" in text:
            return datetime.fromisoformat(text.replace(" ", "T", 1))
        return date.fromisoformat(text)
    except ValueError:
        raise ToolError(
            f"{field}: {value!r} is not an ISO 8601 date or datetime (e.g. 2024-03-01 or 2024-03-01T09:30:00+01:00)"
        ) from None


def parse_duration(value: str) -> Duration:
    """ISO 8601 ("P1Y2M10DT2H30M", "P3W", "-P1D") or plain words ("3 days", "2 weeks 4 hours", "1h30m",
    "5 business days"); fractions are allowed on weeks, days and clock units."""
    text = value.strip()
    iso = _ISO_DURATION.match(text.replace(",", "."))
    parts: dict[str, float] = {}
    negative = False
    if iso:
        negative = iso.group("sign") == "-"
        parts = {
            unit: float(amount.replace(",", "."))
            for unit, amount in iso.groupdict().items()
            if amount and unit != "sign"
        }
    else:
        body = text
        if body.startswith("-"):
            negative, body = True, body[1:]
        position = 0
        for match in _SIMPLE_PART.finditer(body):
            if body[position : match.start()].strip(" ,") not in ("", "and"):
                break
            unit = _UNIT_OF[match.group("unit").lower()]
            parts[unit] = parts.get(unit, 0.0) + float(match.group("number"))
            position = match.end()
        if not parts or body[position:].strip(" ,"):
            raise ToolError(
                f"duration: {value!r} is not understood; use ISO 8601 (P3DT4H, P1Y2M, PT90M) or words "
                "(3 days, 2 weeks 4 hours, 5 business days)"
            )
    for unit in ("years", "months", "business_days"):
        if not float(parts.get(unit, 0)).is_integer():
            raise ToolError(f"duration: {unit.replace('_', ' ')} must be whole numbers, got {parts[unit]:g}")
    days = parts.get("weeks", 0) * 7 + parts.get("days", 0)
    whole_days = int(days)
    seconds = (days - whole_days) * 86400 + parts.get("hours", 0) * 3600 + parts.get("minutes", 0) * 60
    seconds += parts.get("seconds", 0)
    duration = Duration(
        int(parts.get("years", 0)),
        int(parts.get("months", 0)),
        whole_days,
        int(parts.get("business_days", 0)),
        seconds,
    )
    return duration.negated() if negative else duration


def _add_months(moment: Moment, months: int) -> Moment:
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    if not 1 <= year <= 9999:
        raise ToolError("the result is outside the supported years 1-9999")
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def is_business_day(day: date, weekend: set[int], holidays: set[date]) -> bool:
    return day.isoweekday() not in weekend and day not in holidays


def _add_business_days(moment: Moment, count: int, weekend: set[int], holidays: set[date]) -> Moment:
    step = 1 if count > 0 else -1
    remaining = abs(count)
    while remaining:
        moment = moment + timedelta(days=step)
        if is_business_day(_as_date(moment), weekend, holidays):
            remaining -= 1
    return moment


def add_duration(moment: Moment, duration: Duration, weekend: set[int], holidays: set[date]) -> Moment:
    try:
        result = _add_months(moment, duration.years * 12 + duration.months)
        result = result + timedelta(days=duration.days)
        result = _add_business_days(result, duration.business_days, weekend, holidays)
        if duration.seconds:
            if not isinstance(result, datetime):
                result = datetime(result.year, result.month, result.day)
            if result.tzinfo is not None:
                zone = result.tzinfo
                result = (result.astimezone(UTC) + timedelta(seconds=duration.seconds)).astimezone(zone)
            else:
                result = result + timedelta(seconds=duration.seconds)
    except OverflowError:
        raise ToolError("the result is outside the supported years 1-9999") from None
    return result


def count_business_days(start: date, end: date, weekend: set[int], holidays: set[date]) -> int:
    """Working days in [start, end), negated when end < start; whole weeks are counted arithmetically."""
    if end < start:
        return -count_business_days(end, start, weekend, holidays)
    span = (end - start).days
    weeks, rest = divmod(span, 7)
    count = weeks * (7 - len(weekend))
    count += sum(
        1
        for offset in range(rest)
        if (start + timedelta(days=weeks * 7 + offset)).isoweekday() not in weekend
    )
    count -= sum(1 for holiday in holidays if start <= holiday < end and holiday.isoweekday() not in weekend)
    return count


def iso_duration_between(start: Moment, end: Moment) -> str:
    """Calendar breakdown (years, months, days, then clock time) of end - start, as ISO 8601."""
    negative = end < start
    low, high = (end, start) if negative else (start, end)
    if isinstance(low, datetime) and isinstance(high, datetime) and low.tzinfo is not None:
        high = high.astimezone(low.tzinfo)
    months = (high.year - low.year) * 12 + high.month - low.month
    if _add_months(low, months) > high:
        months -= 1
    anchor = _add_months(low, months)
    remainder = high - anchor  # type: ignore[operator]
    days, seconds = remainder.days, remainder.seconds + remainder.microseconds / 1e6
    years, months = divmod(months, 12)
    text = "P" + "".join(f"{n}{u}" for n, u in ((years, "Y"), (months, "M"), (days, "D")) if n)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(
        f"{n:g}{u}" for n, u in ((int(hours), "H"), (int(minutes), "M"), (round(secs, 6), "S")) if n
    )
    text += f"T{clock}" if clock else ""
    if text == "P":
        text = "P0D"
    return ("-" if negative else "") + text


def describe(moment: Moment, operation: str) -> DateResult:
    day = _as_date(moment)
    year, week, weekday = day.isocalendar()
    described: DateResult = {
        "operation": operation,
        "result": moment.isoformat(),
        "kind": "datetime" if isinstance(moment, datetime) else "date",
        "weekday": calendar.day_name[day.weekday()],
        "iso_week": f"{year}-W{week:02d}-{weekday}",
        "day_of_year": day.timetuple().tm_yday,
    }
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        offset = moment.utcoffset() or timedelta(0)
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        described["utc_offset"] = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
        described["timezone"] = str(getattr(moment.tzinfo, "key", None) or moment.tzname())
        dst = moment.dst()
        if dst is not None:
            described["dst"] = bool(dst)
    return described


def _same_kind(start: Moment, end: Moment) -> tuple[Moment, Moment]:
    if isinstance(start, datetime) != isinstance(end, datetime):
        start = start if isinstance(start, datetime) else datetime(start.year, start.month, start.day)
        end = end if isinstance(end, datetime) else datetime(end.year, end.month, end.day)
    if (
        isinstance(start, datetime)
        and isinstance(end, datetime)
        and (start.tzinfo is None) != (end.tzinfo is None)
    ):
        raise ToolError("start and end must both have a UTC offset/time zone or both have none")
    return start, end


@tool(title="Date arithmetic")
def date_math(
    operation: Operation,
    start: str,
    end: str | None = None,
    duration: str | None = None,
    timezone_name: str | None = None,
    assume_timezone: str | None = None,
    holidays: list[str] | None = None,
    weekend: Annotated[list[Annotated[int, Constraint(minimum=1, maximum=7)]], Constraint(max_items=6)]
    | None = None,
) -> DateResult:
    """Date and time arithmetic: parse a date, add or subtract a duration, the difference between two moments,
    business days between two dates, or convert a datetime to another time zone. Dates are ISO 8601.

    Args:
        operation: parse | add | subtract | difference | business_days | convert.
        start: The date or datetime to start from (ISO 8601, e.g. 2024-03-01 or 2024-03-01T09:30:00+01:00).
        end: The second date for difference and business_days.
        duration: For add/subtract: ISO 8601 (P1Y2M3DT4H, PT90M) or words (3 days, 2 weeks 4 hours, 5 business days).
        timezone_name: For convert: the target time zone (IANA name such as America/New_York, UTC, or +05:30).
        assume_timezone: Time zone for datetimes given without an offset (otherwise they stay naive).
        holidays: Dates (ISO 8601) that are not business days.
        weekend: ISO weekday numbers of the weekend (1 = Monday … 7 = Sunday); default 6 and 7.
    """
    weekend_days = set(weekend) if weekend is not None else {6, 7}
    holiday_dates = {_as_date(parse_moment(text, "holidays")) for text in holidays or []}
    moment = _localise(parse_moment(start, "start"), assume_timezone)
    if operation == "parse":
        return describe(moment, operation)
    if operation in ("add", "subtract"):
        if duration is None:
            raise ToolError(f"{operation} needs a duration, e.g. 'P3D' or '3 days'")
        parsed = parse_duration(duration)
        parsed = parsed.negated() if operation == "subtract" else parsed
        return describe(add_duration(moment, parsed, weekend_days, holiday_dates), operation)
    if operation == "convert":
        if timezone_name is None:
            raise ToolError("convert needs timezone_name, the zone to convert to")
        if not isinstance(moment, datetime):
            raise ToolError("convert needs a datetime (a date alone has no time to convert)")
        if moment.tzinfo is None:
            raise ToolError("start has no UTC offset: add one (…+01:00) or pass assume_timezone")
        return describe(moment.astimezone(load_zone(timezone_name)), operation)
    if end is None:
        raise ToolError(f"{operation} needs an end date")
    other = _localise(parse_moment(end, "end"), assume_timezone)
    if operation == "business_days":
        count = count_business_days(_as_date(moment), _as_date(other), weekend_days, holiday_dates)
        return {"operation": operation, "result": str(count), "business_days": count}
    first, second = _same_kind(moment, other)
    delta = second - first  # type: ignore[operator]
    days = delta.days if delta >= timedelta(0) else -((-delta).days)
    return {
        "operation": operation,
        "result": str(days),
        "days": days,
        "total_seconds": delta.total_seconds(),
        "iso_duration": iso_duration_between(first, second),
    }


def _as_date(moment: Moment) -> date:
    return moment.date() if isinstance(moment, datetime) else moment


def _localise(moment: Moment, zone_name: str | None) -> Moment:
    if zone_name is not None and isinstance(moment, datetime) and moment.tzinfo is None:
        return moment.replace(tzinfo=load_zone(zone_name))
    return moment
