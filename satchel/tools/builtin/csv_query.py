"""``csv_query``: read-only SQL over CSV text, in an in-memory SQLite database that lives for one call.

Read-only is enforced three ways, so no single check has to be perfect: the statement must be one SELECT or WITH
statement; SQLite's authorizer allows only reading, selecting, functions (except ``load_extension``) and recursive
CTEs, so ATTACH, PRAGMA and any write are refused while the statement is prepared; and ``PRAGMA query_only`` is on.
A time budget and SQLite length limits stop queries that would run forever or build huge values.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sqlite3
import time
from collections.abc import Generator
from typing import Annotated, Any, Literal, TypedDict

from satchel.tools.schema import Constraint
from satchel.tools.tool import Progress, ToolContext, ToolError, tool

INSERT_CHUNK = 5000
FETCH_CHUNK = 500
QUERY_SECONDS = 5.0
MAX_VALUE_BYTES = 10_000_000
_IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
_INTEGER = re.compile(r"^[+-]?(?:0|[1-9]\d*)$")
_LEADING_ZERO = re.compile(r"^[+-]?0\d")
_REAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_LEADING = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.DOTALL)

Cell = str | int | float | None


class Column(TypedDict):
    """A column of the loaded table.

    Attributes:
        name: Column name (from the header, made unique).
        type: Inferred SQLite type: INTEGER, REAL or TEXT.
    """

    name: str
    type: str


class QueryResult(TypedDict):
    """Rows returned by the query.

    Attributes:
        columns: Names of the result columns.
        rows: Result rows, each a list of values in column order (blobs as hex strings).
        row_count: Number of rows returned.
        truncated: Whether more rows existed than max_rows.
        table: Name of the table the CSV was loaded into.
        table_columns: The loaded table's columns and inferred types.
        loaded_rows: Number of CSV records loaded.
    """

    columns: list[str]
    rows: list[list[Cell]]
    row_count: int
    truncated: bool
    table: str
    table_columns: list[Column]
    loaded_rows: int


ALLOWED_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    sqlite3.SQLITE_RECURSIVE,
}
ACTION_NAMES = {
    getattr(sqlite3, name): name.removeprefix("SQLITE_")
    for name in dir(sqlite3)
    if name.startswith("SQLITE_") and isinstance(getattr(sqlite3, name), int) and name not in ("SQLITE_OK",)
}


def _authorizer(
    action: int, arg1: str | None, arg2: str | None, database: str | None, source: str | None
) -> int:
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() == "load_extension":
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK if action in ALLOWED_ACTIONS else sqlite3.SQLITE_DENY


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _column_names(header: list[str]) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    for position, raw in enumerate(header, start=1):
        base = raw.strip() or f"column_{position}"
        name, suffix = base, 2
        while name.casefold() in seen:
            name, suffix = f"{base}_{suffix}", suffix + 1
        seen.add(name.casefold())
        names.append(name)
    return names


def infer_type(values: list[str]) -> str:
    """INTEGER if every non-empty value is a 64-bit integer, REAL if every one is a finite decimal number, else
    TEXT; a leading zero ("01067") means an identifier such as a postcode, which stays TEXT."""
    present = [value.strip() for value in values if value.strip()]
    if not present:
        return "TEXT"
    if all(_INTEGER.match(value) and -(2**63) <= int(value) < 2**63 for value in present):
        return "INTEGER"
    if all(
        _REAL.match(value) and not _LEADING_ZERO.match(value) and math.isfinite(float(value))
        for value in present
    ):
        return "REAL"
    return "TEXT"


def _convert(value: str, kind: str) -> Cell:
    stripped = value.strip()
    if not stripped:
        return None
    if kind == "INTEGER":
        return int(stripped)
    if kind == "REAL":
        return float(stripped)
    return value


def parse_csv(text: str, delimiter: str | None, header: bool) -> tuple[list[str], list[list[str]]]:
    """Header and records of the CSV; short records are padded with empty fields, long ones are an error."""
    if delimiter is None:
        try:
            delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = [record for record in reader if record]
    except csv.Error as error:
        raise ToolError(f"malformed CSV at line {reader.line_num}: {error}") from None
    if not records:
        raise ToolError("the CSV has no records")
    width = len(records[0])
    names = _column_names(records[0]) if header else [f"column_{index}" for index in range(1, width + 1)]
    body = records[1:] if header else records
    for number, record in enumerate(body, start=2 if header else 1):
        if len(record) > width:
            raise ToolError(
                f"malformed CSV: record {number} has {len(record)} fields but the header has {width} "
                f"(is the delimiter {delimiter!r} right? are quotes balanced?)"
            )
        record.extend([""] * (width - len(record)))
    return names, body


def check_statement(query: str) -> None:
    """Only a single SELECT or WITH statement may run; say what was refused and why."""
    head = _LEADING.sub("", query, count=1)
    keyword = re.match(r"[A-Za-z]+", head)
    if keyword is None or keyword.group().upper() not in ("SELECT", "WITH"):
        found = keyword.group().upper() if keyword else "nothing"
        raise ToolError(f"only a read-only SELECT or WITH query is allowed; the query starts with {found}")


def _jsonable(value: Any) -> Cell:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value  # type: ignore[no-any-return]


@tool(title="Query CSV with SQL")
def csv_query(
    csv_text: str,
    query: str,
    context: ToolContext,
    table: Annotated[str, Constraint(pattern=_IDENTIFIER)] = "data",
    delimiter: Literal[",", ";", "\t", "|"] | None = None,
    header: bool = True,
    max_rows: Annotated[int, Constraint(minimum=1, maximum=10000)] = 1000,
) -> Generator[Progress, None, QueryResult]:
    """Load CSV text into an in-memory SQLite table (column types inferred) and run one read-only SQL query
    (SELECT or WITH) on it. Writes, ATTACH and PRAGMA are refused.

    Args:
        csv_text: The CSV, with a header row unless header is false.
        query: One SELECT or WITH statement, e.g. SELECT city, avg(price) FROM data GROUP BY city.
        table: Name of the table the CSV is loaded into.
        delimiter: Field separator; detected from the text when omitted.
        header: Whether the first record names the columns (otherwise they are column_1, column_2, ...).
        max_rows: Most rows to return; the result says whether rows were cut off.
    """
    check_statement(query)
    names, records = parse_csv(csv_text, delimiter, header)
    types = [infer_type([record[index] for record in records]) for index in range(len(names))]
    connection = sqlite3.connect(":memory:")
    try:
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
        connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        columns_sql = ", ".join(f"{_quote(name)} {kind}" for name, kind in zip(names, types, strict=True))
        connection.execute(f"CREATE TABLE {_quote(table)} ({columns_sql})")
        insert = f"INSERT INTO {_quote(table)} VALUES ({', '.join('?' * len(names))})"
        for offset in range(0, len(records), INSERT_CHUNK):
            chunk = records[offset : offset + INSERT_CHUNK]
            connection.executemany(
                insert, [[_convert(v, k) for v, k in zip(record, types, strict=True)] for record in chunk]
            )
            yield Progress(offset + len(chunk), len(records) + 1, "loading CSV")
        connection.execute("PRAGMA query_only = ON")
        connection.set_authorizer(_authorizer)
        deadline = time.monotonic() + QUERY_SECONDS
        connection.set_progress_handler(lambda: int(context.cancelled or time.monotonic() > deadline), 10_000)
        rows: list[list[Cell]] = []
        try:
            cursor = connection.execute(query)
            while len(rows) <= max_rows:
                batch = cursor.fetchmany(FETCH_CHUNK)
                if not batch:
                    break
                rows.extend([_jsonable(value) for value in row] for row in batch)
                yield Progress(len(records) + 1, len(records) + 1, f"{len(rows)} rows read")
        except (sqlite3.Warning, sqlite3.ProgrammingError) as error:
            raise ToolError(f"the query was refused: {error} (send exactly one SELECT statement)") from None
        except sqlite3.DatabaseError as error:
            raise ToolError(_explain(error, deadline)) from None
        columns = [description[0] for description in cursor.description or ()]
    finally:
        connection.close()
    return {
        "columns": columns,
        "rows": rows[:max_rows],
        "row_count": min(len(rows), max_rows),
        "truncated": len(rows) > max_rows,
        "table": table,
        "table_columns": [{"name": name, "type": kind} for name, kind in zip(names, types, strict=True)],
        "loaded_rows": len(records),
    }


def _explain(error: sqlite3.DatabaseError, deadline: float) -> str:
    message = str(error)
    if "not authorized" in message or "prohibited" in message or "readonly" in message:
        return f"the query was refused: {message} — only reading the loaded table is allowed"
    if "interrupted" in message:
        if time.monotonic() > deadline:
            return f"the query ran longer than {QUERY_SECONDS:g} s and was stopped"
        return "the query was cancelled"
    return f"SQL error: {message}"
