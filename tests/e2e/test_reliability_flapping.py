"""Reliability under a flapping network: 1,000 calls queued offline for 3 remote servers are delivered while the network
goes down and up 50 times and the service worker is stopped 5 times mid-way; every call takes effect exactly once,
in the order it was queued for its server, and none is lost.

The servers are real remote MCP servers on other origins (the Python SDK's, counting every delivery of each
idempotency key and keeping the notes in the order they first arrived), added by URL as a person does. The calls
are queued as the page's MCP client makes them: JSON-RPC `tools/call` POSTs to the router while offline. The network
is cut with the browser's own offline switch (pages and service worker alike) as soon as each server has taken at
least one more call since it came back, so flushes are interrupted mid-way; the service worker is stopped through
the DevTools protocol, as the browser does to an idle worker. Figures are printed (`-s`): deliveries including
retries, duplicates absorbed by the servers' idempotency, the time each phase took.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.conformance.app_client import add_server
from tests.support.app_page import open_ready, restart_service_worker
from tests.support.browser import STATE_TIMEOUT_S
from tests.support.oauth_mcp_server import IDEMPOTENCY_META_KEY, OAuthMcpServer
from tests.support.served_app import ServerProcess

CALLS = 1_000
SERVERS = 3
FLAPS = 50
SERVICE_WORKER_STOPS = 5

#: Queues `calls` save_note calls round-robin over `names` (the page is offline), one after the other as a person's
#: clicks would; returns the idempotency key of each call in order, or throws with the first answer that was not
#: "queued".
QUEUE_CALLS = """async ({ names, calls, keyMeta }) => {
  const keys = [];
  for (let i = 0; i < calls; i++) {
    const server = names[i % names.length];
    const key = `flap-${i}`;
    const body = {
      jsonrpc: "2.0", id: i, method: "tools/call",
      params: { name: "save_note", arguments: { title: `call ${i}`, body: server }, _meta: { [keyMeta]: key } },
    };
    const response = await fetch(`/mcp/${encodeURIComponent(server)}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify(body),
    });
    const answer = await response.json();
    if (!answer.result?._meta?.["io.satchel/queued"]) throw new Error(`call ${i}: ${JSON.stringify(answer)}`);
    keys.push(key);
  }
  return keys;
}"""


@pytest.fixture
def counting_servers(tmp_path: Path) -> Iterator[list[OAuthMcpServer]]:
    with ExitStack() as stack:
        servers = []
        for index in range(SERVERS):
            folder = tmp_path / f"counting-{index}"
            folder.mkdir()
            servers.append(stack.enter_context(OAuthMcpServer(folder, auth=False)))
        yield servers


def applied(servers: list[OAuthMcpServer]) -> int:
    """How many distinct calls the servers have taken, all together."""
    return sum(len(server.state()["notes"]) for server in servers)


def wait_for_more(page: Page, servers: list[OAuthMcpServer], than: int) -> int:
    """Wait until the servers have taken more calls than `than` (or all of them); returns how many they have."""
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while time.monotonic() < deadline:
        now = applied(servers)
        if now > than or now == CALLS:
            return now
        time.sleep(0.05)
    raise AssertionError(
        f"no call delivered within {STATE_TIMEOUT_S:.0f} s of the network coming back ({than} so far)\n"
        f"{outbox_report(page)}"
    )


def outbox_report(page: Page) -> str:
    """What the Outbox shows of the calls still waiting, and why (for a failure's message)."""
    waiting = [
        line for line in page.locator("#outbox-list").inner_text().splitlines() if not line.startswith("sent")
    ]
    return "the Outbox says:\n" + "\n".join(waiting[:30])


def test_queued_calls_survive_a_flapping_network_and_service_worker_restarts_exactly_once_and_in_order(
    page: Page, context: BrowserContext, server: ServerProcess, counting_servers: list[OAuthMcpServer]
) -> None:
    open_ready(page, server.url)
    names = []
    for counting in counting_servers:
        entry = add_server(page, counting.mcp_url)
        expect(entry.get_by_role("button", name="Save a note")).to_be_visible()
        names.append(str(entry.get_attribute("data-server")))

    context.set_offline(True)
    expect(page.locator("#network-status")).to_have_text("Offline")
    started = time.monotonic()
    keys: list[str] = page.evaluate(
        QUEUE_CALLS, {"names": names, "calls": CALLS, "keyMeta": IDEMPOTENCY_META_KEY}
    )
    queued_s = time.monotonic() - started
    counts = page.locator("#outbox-counts")
    expect(counts).to_have_text(f"{CALLS} pending · 0 sent · 0 failed")

    started = time.monotonic()
    progress = [0]
    for flap in range(FLAPS):
        context.set_offline(False)
        progress.append(wait_for_more(page, counting_servers, progress[-1]))
        context.set_offline(True)
        if flap % (FLAPS // SERVICE_WORKER_STOPS) == FLAPS // SERVICE_WORKER_STOPS - 1:
            restart_service_worker(page)
    context.set_offline(False)
    try:
        expect(counts).to_have_text(f"0 pending · {CALLS} sent · 0 failed")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{outbox_report(page)}") from None
    delivered_s = time.monotonic() - started

    deliveries = 0
    for index, counting in enumerate(counting_servers):
        state = counting.state()
        expected = keys[index::SERVERS]
        # Exactly once and in order: each key made one note, in the order the calls were queued for this server.
        assert [note["key"] for note in state["notes"]] == expected, (
            f"server {index}: notes out of order or missing"
        )
        assert set(state["deliveries"]) == set(expected)
        deliveries += sum(state["deliveries"].values())
    print(
        f"\nflapping: {CALLS} calls queued in {queued_s:.1f} s; delivered to {SERVERS} servers across {FLAPS} "
        f"network cuts and {SERVICE_WORKER_STOPS} service-worker stops in {delivered_s:.1f} s; "
        f"{deliveries} deliveries ({deliveries - CALLS} repeats absorbed by idempotency); "
        f"calls taken between cuts: {[b - a for a, b in itertools.pairwise(progress)]}"
    )
