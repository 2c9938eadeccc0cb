"""Fuzzing the workspace over HTTP (the reliability suite): 10,000 generated bad JSON-RPC bodies
(tests/support/fuzz_inputs.py) POSTed to a real uvicorn server; every one is answered — a JSON-RPC error or result
with the request's id, or a 4xx that says what is wrong — never a 5xx, a dropped connection or a hang, and the
workspace still saves a note afterwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.fuzz_inputs import FUZZ_INPUTS, check_answers, messages
from tests.workspace.test_server import serve_workspace

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
#: Each generated example is a batch of bodies, so that the workspace gets FUZZ_INPUTS of them in all.
BATCH = 50
#: Well past any answer of this server; reaching it means a hang.
REQUEST_TIMEOUT_S = 60


def post(client: httpx.Client, url: str, body: str) -> httpx.Response:
    return client.post(url, content=body.encode(), headers=HEADERS)


def test_ten_thousand_bad_requests_are_answered_and_the_workspace_keeps_working(tmp_path: Path) -> None:
    with serve_workspace(tmp_path / "notes.db") as running, httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
        listed = post(client, running.url, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        tools: list[dict[str, Any]] = listed.json()["result"]["tools"]
        statuses: dict[int, int] = {}

        @settings(
            max_examples=FUZZ_INPUTS // BATCH,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.lists(messages(tools), min_size=BATCH, max_size=BATCH))
        def answered(batch: list[Any]) -> None:
            for message in batch:
                body = json.dumps(message)
                response = post(client, running.url, body)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                assert response.status_code < 500, (
                    f"HTTP {response.status_code} for {body}: {response.text[:500]}"
                )
                if response.status_code == 200:
                    check_answers(message, [response.json()])
                elif response.status_code != 202:
                    assert response.content, f"HTTP {response.status_code} without a reason for {body}"

        answered()
        assert sum(statuses.values()) >= FUZZ_INPUTS
        saved = post(
            client,
            running.url,
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 2,
                    "method": "tools/call",
                    "params": {
                        "name": "save_note",
                        "arguments": {"title": "After the storm", "body": "still here"},
                    },
                }
            ),
        )
        assert saved.json()["result"]["isError"] is False, saved.text
        print(f"\nworkspace fuzzing: answers by HTTP status {dict(sorted(statuses.items()))}")
