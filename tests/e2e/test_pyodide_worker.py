"""The Python tool server runs in the browser on Pyodide and answers exactly as the native server does, online and
offline from the service worker's cache, under the app's strict CSP.

The page drives `/workers/pyodide-server.js` as its worker pool does (docs/architecture.md): a module worker,
`init` with the registry entry's `io.satchel/local` config, then one `rpc` per JSON-RPC message on a fresh
MessageChannel port. Every answer is compared with `satchel.tools.default_server()` in this process.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from satchel.tools import default_server
from tests.support.app_page import open_ready, reload_controlled
from tests.support.browser import ConsoleWatch, poll
from tests.support.served_app import ServerProcess

SERVER_ID = "io.satchel/tools"

#: Installs `window.pyodideHost`: start the worker and send it messages, exactly as the page's worker pool does.
HOST_SCRIPT = """
async () => {
  const registry = await (await fetch('/registry.json')).json();
  const entry = registry.servers.find((e) => e.server.name === 'io.satchel/tools');
  const config = entry.server._meta['io.satchel/local'];
  const statuses = [];
  const started = performance.now();
  let readyAfterMs = null;
  const worker = new Worker(`/workers/${config.worker}.js`, { type: 'module', name: 'io.satchel/tools' });
  worker.onmessage = ({ data }) => {
    if (data?.type !== 'status') return;
    statuses.push(data);
    if (data.state === 'ready') readyAfterMs = performance.now() - started;
  };
  worker.onerror = (event) => statuses.push({ state: 'crashed', detail: { message: event.message } });
  worker.postMessage({ type: 'init', serverId: 'io.satchel/tools', config });
  /** Every message the worker posts on the call's port until `end`, in order. */
  const call = (message, onMessage = () => {}) => new Promise((resolve) => {
    const channel = new MessageChannel();
    const got = [];
    channel.port1.onmessage = ({ data }) => {
      if (data.type === 'end') { channel.port1.close(); resolve(got); return; }
      got.push(data);
      onMessage(data);
    };
    worker.postMessage({ type: 'rpc', message }, [channel.port2]);
  });
  window.pyodideHost = { statuses, call, readyAfterMs: () => readyAfterMs };
  return true;
}
"""

#: Sends messages one after another; returns, per message, what came back on its port.
SEND_SCRIPT = """
async (messages) => {
  const answers = [];
  for (const message of messages) answers.push(await window.pyodideHost.call(message));
  return answers;
}
"""

SUPPORT_EMAIL = """Hi team,

Please update the account of Marie-Claire Dubois (date of birth: 14/03/1986). She can be reached at
marie.dubois@example.fr or on +33 6 12 34 56 78; her old London number was +44 20 7946 0958.
Refund the last payment to card 4111 1111 1111 1111 and the balance to IBAN GB82 WEST 1234 5698 7654 32.
The request came from 192.168.10.24 and was checked by Jonas Weber (jonas.weber@example.com) from
2001:db8::ff00:42:8329 on 2 March 2025.

Thanks, Jonas
"""

REPORT = """The city council met on Tuesday to discuss the future of the old harbour district. For more than a decade
the district has been home to empty warehouses, a ferry terminal and a small fish market. The council's plan would
turn the warehouses into housing, with a quarter of the flats reserved for people on low incomes. Residents of the
neighbouring streets welcomed the housing but worried about traffic on the harbour road. The fish market, which has
operated since 1923, would stay where it is under the plan. Several traders said they feared higher rents once the
new flats are built. The council's transport officer proposed a new tram stop and a cycle lane along the harbour
road. Funding for the tram stop would come from the regional transport budget, not from the city. The opposition
asked for an independent study of flood risk, since the district lies below the level of the spring tides. The
mayor agreed to commission the study before any building permit is granted. A final vote on the plan is expected in
the autumn, after a public consultation over the summer. Until then, the ferry terminal will keep its current
timetable.
"""

BERICHT = """Der Gemeinderat hat am Dienstag über die Zukunft des alten Hafenviertels beraten. Seit mehr als zehn
Jahren stehen dort leere Lagerhallen neben einem Fähranleger und einem kleinen Fischmarkt. Nach dem Plan des Rates
sollen die Lagerhallen zu Wohnungen umgebaut werden. Ein Viertel der Wohnungen bliebe Menschen mit geringem
Einkommen vorbehalten. Anwohner begrüßten die Wohnungen, sorgten sich aber um den Verkehr auf der Hafenstraße. Der
Fischmarkt bleibt nach dem Plan an seinem Platz. Eine endgültige Abstimmung wird für den Herbst erwartet.
"""

SALES_CSV = """region;month;units;price
North;2025-01;120;9.50
North;2025-02;95;9.50
South;2025-01;80;10.25
South;2025-02;130;10.25
East;2025-01;;11.00
"""


def call(
    request_id: int, name: str, arguments: dict[str, Any], progress: str | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if progress is not None:
        params["_meta"] = {"progressToken": progress}
    return {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": params}


#: One session as an MCP client runs it: the 2025 handshake, the tool list, then realistic calls.
SESSION: list[dict[str, Any]] = [
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "satchel-e2e", "version": "1"},
        },
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    call(
        2, "redact", {"text": SUPPORT_EMAIL, "names": ["Marie-Claire Dubois", "Jonas Weber", "Jonas"]}, "r2"
    ),
    call(
        3,
        "redact",
        {"text": SUPPORT_EMAIL, "kinds": ["card", "iban", "phone"], "keep_last": 4, "style": "mask"},
    ),
    call(4, "redact", {"text": SUPPORT_EMAIL, "kinds": ["name"]}),  # names missing: an isError result
    call(5, "summarize_extractive", {"text": REPORT, "sentence_count": 3}, "s5"),
    call(6, "summarize_extractive", {"text": BERICHT, "ratio": 0.3}),
    call(7, "summarize_extractive", {"text": REPORT, "sentence_count": 0}),  # below the minimum: refused
    call(
        8,
        "csv_query",
        {
            "csv_text": SALES_CSV,
            "query": "SELECT region, sum(units * price) AS revenue "
            "FROM data GROUP BY region ORDER BY revenue DESC",
        },
    ),
    call(9, "csv_query", {"csv_text": SALES_CSV, "query": "DELETE FROM data"}),
    call(
        10,
        "date_math",
        {"operation": "convert", "start": "2025-03-30T01:30:00+00:00", "timezone_name": "Europe/Paris"},
    ),
    call(
        11,
        "date_math",
        {
            "operation": "business_days",
            "start": "2025-12-22",
            "end": "2026-01-09",
            "holidays": ["2025-12-25", "2025-12-26", "2026-01-01"],
        },
    ),
    {"jsonrpc": "2.0", "id": 12, "method": "no/such/method"},
    # The limits hold on Pyodide as natively: digit runs that made the phone pattern backtrack, a patch that
    # doubles its document per copy, and a document nested past MAX_DEPTH (refused before parsing).
    call(13, "redact", {"text": ("0" * 40 + "x ") * 50 + "Tel +44 20 7946 0958"}),
    call(
        14,
        "json_patch",
        {
            "document": {"a": "x" * 90},
            "patch": [{"op": "copy", "from": "", "path": f"/c{i}"} for i in range(17)],
        },
    ),
    call(15, "json_patch", {"document": json.loads("[" * 70 + "]" * 70), "patch": []}),
]


def native_answers(messages: list[Any]) -> list[list[dict[str, Any]]]:
    """What the native server emits for each message, as the worker posts it on the port."""
    server = default_server()
    # As one JSON line each way, as the worker serves them (`start_line`), so both sides compare as plain data.
    return [
        [{"type": "message", "message": json.loads(line)} for line in server.handle_line(json.dumps(msg))]
        for msg in messages
    ]


def start_worker(page: Page) -> None:
    assert page.evaluate(HOST_SCRIPT) is True
    poll(page, "window.pyodideHost.readyAfterMs() !== null")


def assert_same_as_native(page: Page) -> None:
    answers = page.evaluate(SEND_SCRIPT, SESSION)
    expected = native_answers(SESSION)
    for message, got, want in zip(SESSION, answers, expected, strict=True):
        assert got == want, f"different answers to {message.get('method')} id={message.get('id')}"


@pytest.fixture
def controlled_page(page: Page, server: ServerProcess, console: ConsoleWatch) -> Page:
    open_ready(page, server.url)
    return page


def test_worker_reports_loading_then_ready_and_lists_the_native_tools(
    controlled_page: Page, console: ConsoleWatch
) -> None:
    page = controlled_page
    start_worker(page)
    states = [s["state"] for s in page.evaluate("window.pyodideHost.statuses")]
    assert states[0] == "loading" and states[-1] == "ready" and "error" not in states, states
    assert all(s["serverId"] == SERVER_ID for s in page.evaluate("window.pyodideHost.statuses"))
    (answer,) = page.evaluate(SEND_SCRIPT, [{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}])
    names = [t["name"] for t in answer[0]["message"]["result"]["tools"]]
    assert names == [t.name for t in default_server().tools]
    assert console.errors == [] and console.csp_violations() == []


def test_calls_give_exactly_the_native_results_including_progress_and_errors(
    controlled_page: Page, console: ConsoleWatch
) -> None:
    page = controlled_page
    start_worker(page)
    assert_same_as_native(page)
    # the redact call with a progress token got its progress notifications first, then the result
    answers = page.evaluate(SEND_SCRIPT, [SESSION[3]])
    methods = [a["message"].get("method") for a in answers[0]]
    assert methods[-1] is None and set(methods[:-1]) == {"notifications/progress"} and len(methods) > 2
    assert console.errors == [] and console.csp_violations() == []


def test_notification_gets_only_end_and_a_second_call_reuses_the_warm_interpreter(
    controlled_page: Page,
) -> None:
    page = controlled_page
    start_worker(page)
    answers = page.evaluate(
        SEND_SCRIPT, [{"jsonrpc": "2.0", "method": "notifications/initialized"}, SESSION[2]]
    )
    assert answers[0] == []
    assert answers[1][0]["message"]["id"] == 1
    loading = [s for s in page.evaluate("window.pyodideHost.statuses") if s["state"] == "loading"]
    page.evaluate(SEND_SCRIPT, [SESSION[3], SESSION[5]])
    assert [s for s in page.evaluate("window.pyodideHost.statuses") if s["state"] == "loading"] == loading


def test_cancelled_call_stops_between_steps_and_sends_no_result(controlled_page: Page) -> None:
    page = controlled_page
    start_worker(page)
    long_text = " ".join(
        f"Sentence number {i} talks about topic {i % 17} and item {i % 5}." for i in range(400)
    )
    outcome = page.evaluate(
        """async ([message, cancel]) => {
          let cancelled = null;
          const got = await window.pyodideHost.call(message, () => {
            cancelled ??= window.pyodideHost.call(cancel);
          });
          return { got, cancelAnswer: await cancelled };
        }""",
        [
            call(40, "summarize_extractive", {"text": long_text, "sentence_count": 2}, "long"),
            {
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": 40, "reason": "test"},
            },
        ],
    )
    assert outcome["cancelAnswer"] == []
    messages = [entry["message"] for entry in outcome["got"]]
    assert messages and all(m.get("method") == "notifications/progress" for m in messages)
    # far fewer progress steps than the whole call takes, and no response at all
    assert len(messages) < 400
    # the server is still serving after the cancellation
    (answer,) = page.evaluate(SEND_SCRIPT, [SESSION[2]])
    assert answer == native_answers([SESSION[2]])[0]


def test_bad_input_is_answered_with_an_error_never_left_unanswered(controlled_page: Page) -> None:
    page = controlled_page
    start_worker(page)
    bad: list[Any] = [{"jsonrpc": "2.0", "id": 7}, "not an object", {"jsonrpc": "2.0", "id": 8, "method": 5}]
    answers = page.evaluate(SEND_SCRIPT, bad)
    assert answers == native_answers(bad)
    assert [a[0]["message"]["error"]["code"] for a in answers] == [-32600, -32600, -32600]


def test_works_offline_from_the_cache_with_the_server_stopped(
    controlled_page: Page, server: ServerProcess, console: ConsoleWatch
) -> None:
    page = controlled_page
    server.stop()
    page.context.set_offline(True)
    reload_controlled(page)
    assert page.evaluate("navigator.onLine") is False
    start_worker(page)
    assert_same_as_native(page)
    assert console.errors == [] and console.csp_violations() == []


# -- through the service-worker router and the page's MCP host, as the app itself calls local tools --------------

#: POSTs each message to the router URL of the tool server; returns the JSON-RPC messages of each answer.
ROUTER_SCRIPT = """
async (messages) => {
  const answers = [];
  for (const message of messages) {
    const response = await fetch('/mcp/' + encodeURIComponent('io.satchel/tools'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify(message),
    });
    const text = await response.text();
    const type = response.headers.get('content-type') ?? '';
    answers.push({
      status: response.status,
      messages: type.startsWith('text/event-stream')
        ? text.split('\\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)))
        : text ? [JSON.parse(text)] : [],
    });
  }
  return answers;
}
"""

#: The handshake, tools/list and the calls the issue asks for: redact and summarize_extractive.
ROUTER_SESSION = [message for message in SESSION if message.get("id") in (None, 0, 1, 2, 3, 5, 6)]


def local_tool_button(page: Page, label: str):  # type: ignore[no-untyped-def]
    server = page.locator("#server-list > li").filter(has=page.get_by_role("heading", name="Local tools"))
    return server.get_by_role("button", name=label, exact=True)


def assert_router_answers_like_native(page: Page) -> None:
    answers = page.evaluate(ROUTER_SCRIPT, ROUTER_SESSION)
    expected = native_answers(ROUTER_SESSION)
    for message, got, want in zip(ROUTER_SESSION, answers, expected, strict=True):
        assert got["status"] == (200 if "id" in message else 202)
        assert got["messages"] == [w["message"] for w in want], f"different answers to id={message.get('id')}"


def run_local_tool(page: Page, label: str, fields: dict[str, str]) -> Any:
    """Run a tool of the local server from its form (read-only local tools need no approval); its structured result."""
    local_tool_button(page, label).click()
    expect(page.locator("#tool-view .tool-title")).to_have_text(label)
    for name, value in fields.items():
        page.locator(f"#tool-view [data-field='{name}'] :is(input, textarea, select)").fill(value)
    page.locator("#tool-view").get_by_role("button", name="Run").click()
    result = page.locator("#tool-view .result")
    expect(result).to_have_class("result result-ok")
    return json.loads(result.locator("pre.result-json").text_content() or "null")


def native_structured(name: str, arguments: dict[str, Any]) -> Any:
    (response,) = default_server().handle(call(1, name, arguments))
    return response["result"]["structuredContent"]


def test_router_sends_local_calls_to_the_worker_online_and_offline_with_native_results(
    controlled_page: Page, server: ServerProcess, console: ConsoleWatch
) -> None:
    page = controlled_page
    # The page's MCP host lists every server's tools at start: for this one, that loads Pyodide in its worker.
    expect(local_tool_button(page, "Redact personal data")).to_be_visible()
    assert_router_answers_like_native(page)

    server.stop()
    page.context.set_offline(True)
    reload_controlled(page)
    expect(local_tool_button(page, "Summarise text (extractive)")).to_be_visible()
    assert_router_answers_like_native(page)

    names = ["Marie-Claire Dubois", "Jonas Weber", "Jonas"]
    redacted = run_local_tool(
        page, "Redact personal data", {"text": SUPPORT_EMAIL, "names": "\n".join(names)}
    )
    assert redacted == native_structured("redact", {"text": SUPPORT_EMAIL, "names": names, "keep_last": 0})
    assert "marie.dubois@example.fr" not in redacted["text"] and "Jonas" not in redacted["text"]
    summary = run_local_tool(page, "Summarise text (extractive)", {"text": REPORT, "sentence_count": "3"})
    assert summary == native_structured("summarize_extractive", {"text": REPORT, "sentence_count": 3})
    assert console.errors == [] and console.csp_violations() == []
