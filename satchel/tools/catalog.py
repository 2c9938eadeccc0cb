"""The built-in tools, in the order ``tools/list`` shows them, and the server that offers them all."""

from __future__ import annotations

from typing import Any

from satchel import __version__
from satchel.tools.builtin.csv_query import csv_query
from satchel.tools.builtin.date_math import date_math
from satchel.tools.builtin.json_patch import json_patch
from satchel.tools.builtin.redact import redact
from satchel.tools.builtin.summarize import summarize_extractive
from satchel.tools.builtin.text_stats import text_stats
from satchel.tools.server import ToolServer
from satchel.tools.tool import Tool

BUILTIN_TOOLS: tuple[Tool[Any, Any], ...] = (
    redact,
    summarize_extractive,
    text_stats,
    csv_query,
    date_math,
    json_patch,
)

INSTRUCTIONS = (
    "Local, offline tools that compute only from their arguments: redact personal data, summarise text, "
    "text statistics, read-only SQL over CSV, date arithmetic and JSON patching. Nothing leaves the device."
)


def default_server() -> ToolServer:
    """A fresh server with every built-in tool registered (one per connection or worker)."""
    server = ToolServer("satchel-tools", __version__, title="Satchel local tools", instructions=INSTRUCTIONS)
    for builtin in BUILTIN_TOOLS:
        server.add(builtin)
    return server
