"""Latency of a trivial local MCP call through the service-worker router, against the same call on a direct port.

Both paths use the same SDK client and the same Pyodide tool server in a Web Worker; only the route differs:
  router  client → fetch /mcp/io.satchel%2Ftools → service worker → page bridge → worker (and back, as SSE)
  direct  client → MessagePort transport → worker (the floor: what a page could do with no router at all)
Run: .venv/bin/python bench/bench_router.py [--calls N]   (builds the app into a temporary folder first)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.app_page import open_controlled
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.served_app import BuiltSite, ServerProcess

MEASURE = """
async ({ calls }) => {
  const { Client, CfWorkerJsonSchemaValidator } = await import("/vendor/mcp-sdk.js");
  const { connectClient } = await import("/common/mcp-client.js");
  const arguments_ = { text: "The train left the tunnel. Signal came back at once." };

  /** A minimal SDK transport over the worker port protocol: one MessageChannel per message. */
  class PortTransport {
    constructor(worker) { this.worker = worker; }
    async start() {}
    async close() { this.worker.terminate(); this.onclose?.(); }
    async send(message) {
      const channel = new MessageChannel();
      channel.port1.onmessage = ({ data }) => {
        if (data.type === "message") this.onmessage?.(data.message);
        else if (data.type === "end") channel.port1.close();
      };
      this.worker.postMessage({ type: "rpc", message }, [channel.port2]);
    }
  }

  async function time(client) {
    const ping = [], call = [];
    for (let i = 0; i < 5; i++) await client.ping();  // warm up both ends
    for (let i = 0; i < calls; i++) {
      let t = performance.now(); await client.ping(); ping.push(performance.now() - t);
      t = performance.now();
      await client.callTool({ name: "text_stats", arguments: arguments_ });
      call.push(performance.now() - t);
    }
    return { ping, call };
  }

  const routed = await connectClient("/mcp/" + encodeURIComponent("io.satchel/tools"));
  const router = await time(routed);
  await routed.close();

  const registry = await (await fetch("/registry.json")).json();
  const config = registry.servers.find((e) => e.server.name === "io.satchel/tools").server._meta["io.satchel/local"];
  const worker = new Worker(`/workers/${config.worker}.js`, { type: "module" });
  worker.postMessage({ type: "init", serverId: "io.satchel/tools", config });
  const validator = new CfWorkerJsonSchemaValidator();
  const direct = new Client({ name: "bench", version: "1" }, { jsonSchemaValidator: validator });
  await direct.connect(new PortTransport(worker));
  const port = await time(direct);
  await direct.close();
  return { router, port };
}
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        site = BuiltSite(root)
        site.build()
        server = ServerProcess(
            site.dist_dir, root / "server.log", root / "workspace.db", anonymous_workspace=True
        )
        server.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page()
                open_controlled(page, server.url)
                figures = page.evaluate(MEASURE, {"calls": args.calls})
                browser.close()
        finally:
            server.stop()
    print(f"trivial local calls, {args.calls} each, Pyodide tool server in a Web Worker (ms)")
    print(f"{'call':<22}{'path':<10}{'p50':>8}{'p95':>8}{'mean':>8}")
    for kind, label in (("ping", "ping"), ("call", "tools/call text_stats")):
        for path in ("port", "router"):
            values = figures[path][kind]
            print(
                f"{label:<22}{path:<10}{percentile(values, 0.5):>8.2f}{percentile(values, 0.95):>8.2f}"
                f"{statistics.fmean(values):>8.2f}"
            )
        ratio = percentile(figures["router"][kind], 0.5) / percentile(figures["port"][kind], 0.5)
        print(f"{'':<22}{'router/port p50':<18}{ratio:>6.2f}x")


if __name__ == "__main__":
    main()
