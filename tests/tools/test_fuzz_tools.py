"""Fuzzing the Python tool server natively (the reliability suite): 10,000 generated bad lines of its stdio stream,
each answered with well-formed JSON-RPC (an error or a result) and never an exception (tests/support/fuzz_inputs.py).
The same server runs on Pyodide in the browser, where tests/e2e/test_pyodide_worker.py sends it generated messages
too."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satchel.tools import default_server
from tests.support.fuzz_inputs import FUZZ_INPUTS, check_answers, lines

SERVER = default_server()
TOOLS: list[dict[str, Any]] = SERVER.handle(
    {"jsonrpc": "2.0", "id": 0, "method": "tools/list", "params": {}}
)[0]["result"]["tools"]
#: Each generated example is a batch of lines, so that the server gets FUZZ_INPUTS of them in all.
BATCH = 20


@settings(
    max_examples=FUZZ_INPUTS // BATCH,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(lines(TOOLS), min_size=BATCH, max_size=BATCH))
def test_every_bad_line_gets_a_json_rpc_answer_and_never_an_exception(batch: list[str]) -> None:
    for line in batch:
        answers = [json.loads(out) for out in SERVER.handle_line(line)]
        try:
            message = json.loads(line)
        except ValueError:
            # Not JSON: exactly one parse error, with a null id.
            assert len(answers) == 1 and answers[0]["id"] is None and answers[0]["error"]["code"] == -32700, (
                answers
            )
            continue
        check_answers(message, answers)
