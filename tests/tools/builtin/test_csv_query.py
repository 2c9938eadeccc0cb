"""csv_query: type inference, real queries, and every way a query might try to write, escape or run away."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from satchel.tools.builtin import csv_query as csv_query_module
from satchel.tools.builtin.csv_query import infer_type

Structured = Callable[..., dict[str, Any]]
ToolErrorText = Callable[..., str]

SALES = """region,product,units,price,postcode,sold_on
North,Widget,12,2.50,01067,2024-01-03
South,Gadget,5,10.00,75001,2024-01-04
North,Gadget,7,9.50,10115,2024-01-05
East,Widget,,2.75,20095,2024-01-05
"""


def test_infers_integer_real_and_text_and_keeps_postcodes_as_text(structured: Structured) -> None:
    result = structured("csv_query", csv_text=SALES, query="SELECT * FROM data LIMIT 1")
    assert result["table_columns"] == [
        {"name": "region", "type": "TEXT"},
        {"name": "product", "type": "TEXT"},
        {"name": "units", "type": "INTEGER"},
        {"name": "price", "type": "REAL"},
        {"name": "postcode", "type": "TEXT"},
        {"name": "sold_on", "type": "TEXT"},
    ]
    assert result["rows"] == [["North", "Widget", 12, 2.5, "01067", "2024-01-03"]]


def test_aggregates_with_empty_cells_as_null(structured: Structured) -> None:
    query = (
        "SELECT region, sum(units) AS units, round(avg(price), 2) AS price "
        "FROM data GROUP BY region ORDER BY region"
    )
    result = structured("csv_query", csv_text=SALES, query=query)
    assert result["columns"] == ["region", "units", "price"]
    assert result["rows"] == [["East", None, 2.75], ["North", 19, 6.0], ["South", 5, 10.0]]


def test_with_queries_and_custom_table_name(structured: Structured) -> None:
    query = "WITH t AS (SELECT product, units FROM sales WHERE units > 5) SELECT count(*) FROM t"
    assert structured("csv_query", csv_text=SALES, query=query, table="sales")["rows"] == [[2]]


def test_semicolon_delimiter_is_detected(structured: Structured) -> None:
    text = "name;amount\nA;1,5\nB;2\n"
    result = structured("csv_query", csv_text=text, query="SELECT name, amount FROM data")
    assert result["rows"] == [["A", "1,5"], ["B", "2"]]


def test_row_limit_truncates_and_says_so(structured: Structured) -> None:
    text = "n\n" + "\n".join(str(index) for index in range(50))
    result = structured("csv_query", csv_text=text, query="SELECT n FROM data ORDER BY n", max_rows=10)
    assert result["row_count"] == 10 and result["truncated"] is True and result["rows"][-1] == [9]


def test_headerless_and_duplicate_columns(structured: Structured) -> None:
    result = structured("csv_query", csv_text="1,2\n3,4\n", query="SELECT column_2 FROM data", header=False)
    assert result["rows"] == [[2], [4]]
    result = structured("csv_query", csv_text="a,a,\n1,2,3\n", query="SELECT * FROM data")
    assert [column["name"] for column in result["table_columns"]] == ["a", "a_2", "column_3"]


def test_quoted_fields_with_commas_and_newlines(structured: Structured) -> None:
    text = 'id,note\n1,"hello, world"\n2,"two\nlines"\n'
    result = structured("csv_query", csv_text=text, query="SELECT note FROM data ORDER BY id")
    assert result["rows"] == [["hello, world"], ["two\nlines"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT 1; DROP TABLE data", "exactly one SELECT"),
        ("DROP TABLE data", "starts with DROP"),
        ("ATTACH DATABASE '/tmp/x.db' AS x", "starts with ATTACH"),
        ("PRAGMA writable_schema = ON", "starts with PRAGMA"),
        ("INSERT INTO data VALUES (1)", "starts with INSERT"),
        ("/* SELECT */ DELETE FROM data", "starts with DELETE"),
        ("WITH x AS (SELECT 1) DELETE FROM data", "not authorized"),
        ("WITH x AS (SELECT 1) INSERT INTO data SELECT * FROM data", "not authorized"),
        ("SELECT load_extension('/tmp/evil.so')", "not authorized"),
        ("SELECT * FROM pragma_table_info('data')", "not authorized"),
        ("SELECT * FROM data; ATTACH ':memory:' AS y", "exactly one SELECT"),
        ("", "starts with nothing"),
        ("SELECT * FROM missing", "no such table"),
    ],
)
def test_anything_but_one_read_only_query_is_refused(
    tool_error: ToolErrorText, query: str, expected: str
) -> None:
    assert expected in tool_error("csv_query", csv_text=SALES, query=query)


def test_comments_before_select_are_fine(structured: Structured) -> None:
    query = "-- regions\n/* count */ SELECT count(DISTINCT region) FROM data"
    assert structured("csv_query", csv_text=SALES, query=query)["rows"] == [[3]]


def test_runaway_query_is_stopped(tool_error: ToolErrorText, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(csv_query_module, "QUERY_SECONDS", 0.2)
    query = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    assert "ran longer than" in tool_error("csv_query", csv_text=SALES, query=query)


def test_huge_values_are_refused(tool_error: ToolErrorText) -> None:
    assert "too big" in tool_error("csv_query", csv_text=SALES, query="SELECT randomblob(200000000)")


def test_blobs_and_infinities_become_json(structured: Structured) -> None:
    result = structured("csv_query", csv_text=SALES, query="SELECT x'CAFE', 1e999")
    assert result["rows"] == [["cafe", "inf"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b\n1,2,3\n", "record 2 has 3 fields"),
        ('a,b\n"unclosed,2\n', "malformed CSV"),
        ("", "no records"),
        ('a\n"x"y\n', "malformed CSV"),
    ],
)
def test_malformed_csv_is_a_clear_tool_error(tool_error: ToolErrorText, text: str, expected: str) -> None:
    assert expected in tool_error("csv_query", csv_text=text, query="SELECT * FROM data", delimiter=",")


def test_short_records_are_padded_with_nulls(structured: Structured) -> None:
    result = structured("csv_query", csv_text="a,b,c\n1\n", query="SELECT * FROM data")
    assert result["rows"] == [[1, None, None]]


def test_bad_table_name_is_an_argument_error(tool_error: ToolErrorText) -> None:
    assert "pattern" in tool_error(
        "csv_query", csv_text=SALES, query="SELECT 1", table='x"; DROP TABLE y; --'
    )


def test_type_inference_edge_cases() -> None:
    assert infer_type(["1", "-2", "+3"]) == "INTEGER"
    assert infer_type(["1", "2.5", "1e3"]) == "REAL"
    assert infer_type(["nan", "1"]) == "TEXT"
    assert infer_type(["inf"]) == "TEXT"
    assert infer_type(["99999999999999999999"]) == "REAL"
    assert infer_type(["007"]) == "TEXT"
    assert infer_type(["", " "]) == "TEXT"
