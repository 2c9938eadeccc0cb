"""Ready time and per-call latency of the Python tool server on Pyodide in Chromium, against the native server.

Run: ``python bench/bench_pyodide.py [--calls N] [--runs N]`` (after ``make setup``). Everything is measured in
this run on this machine: the app is built into a temporary folder and served by ``satchel serve``; Debian's
Chromium starts ``/workers/pyodide-server.js`` from a page exactly as the page's worker pool does.

- ready time: from ``new Worker`` to the worker's ``ready`` status. *cold*: a fresh browser profile with service
  workers blocked, so every file comes over the network (local loopback, so this is mostly CPU: compiling the
  WebAssembly, unpacking the standard library and wheels). *cached*: a page controlled by the service worker,
  reloaded with the server stopped and the network off, so every file comes from the Cache API. The native
  reference is ``python -m satchel.tools`` from process start to its ``initialize`` response.
- latency of ``redact`` on the input of ``bench_tools_native.py``: from posting the call to the ``end`` on its port
  (worker), or from writing the request line to reading the response line (native stdio).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from bench_tools_native import INPUTS, percentile, start_tools_server  # noqa: E402

from satchel.build.pyodide_runtime import PYODIDE_VERSION  # noqa: E402
from tests.support.app_page import open_ready, reload_controlled  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, poll  # noqa: E402
from tests.support.served_app import BuiltSite, ServerProcess  # noqa: E402

WARM_UP = 3
REDACT = {
    "jsonrpc": "2.0",
    "method": "tools/call",
    "params": {"name": "redact", "arguments": INPUTS["redact"]},
}

#: Starts the worker as the page's pool does, waits for `ready`, then times `calls` redact calls after a warm-up.
MEASURE_SCRIPT = """
async ({ calls, warmUp, request }) => {
  const registry = await (await fetch('/registry.json')).json();
  const config = registry.servers.find((e) => e.server.name === 'io.satchel/tools').server._meta['io.satchel/local'];
  const started = performance.now();
  const worker = new Worker(`/workers/${config.worker}.js`, { type: 'module', name: 'io.satchel/tools' });
  const ready = new Promise((resolve, reject) => {
    worker.onmessage = ({ data }) => {
      if (data?.state === 'ready') resolve();
      if (data?.state === 'error') reject(new Error(data.detail.message));
    };
    worker.onerror = (event) => reject(new Error(event.message || 'worker error'));
  });
  worker.postMessage({ type: 'init', serverId: 'io.satchel/tools', config });
  await ready;
  const readyMs = performance.now() - started;
  const call = (message) => new Promise((resolve) => {
    const channel = new MessageChannel();
    const got = [];
    channel.port1.onmessage = ({ data }) => (data.type === 'end' ? resolve(got) : got.push(data.message));
    worker.postMessage({ type: 'rpc', message }, [channel.port2]);
  });
  const latencies = [];
  for (let i = 0; i < calls + warmUp; i++) {
    const before = performance.now();
    const answer = (await call({ ...request, id: i + 1 })).at(-1);
    const elapsed = performance.now() - before;
    if (!answer?.result || answer.result.isError) throw new Error(`redact failed: ${JSON.stringify(answer)}`);
    if (i >= warmUp) latencies.push(elapsed);
  }
  worker.terminate();
  return { readyMs, latencies };
}
"""


def measure(page: Page, calls: int) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        MEASURE_SCRIPT, {"calls": calls, "warmUp": WARM_UP, "request": REDACT}
    )
    return result


def cold_runs(browser: Browser, url: str, runs: int, calls: int) -> list[dict[str, Any]]:
    results = []
    for _ in range(runs):
        context = browser.new_context(service_workers="block")  # fresh profile: nothing cached anywhere
        page = context.new_page()
        page.goto(url)
        results.append(measure(page, calls))
        context.close()
    return results


def cached_runs(browser: Browser, server: ServerProcess, runs: int, calls: int) -> list[dict[str, Any]]:
    context = browser.new_context()
    page = context.new_page()
    open_ready(page, server.url)
    # The page lists every server's tools once at start (which loads its own Pyodide worker); wait for that, so the
    # mirror is fresh and later reloads start no worker besides the measured one.
    poll(
        page,
        "[...document.querySelectorAll('#server-list button')].some((b) => /Redact/.test(b.textContent))",
        timeout=180,
    )
    server.stop()
    context.set_offline(True)
    results = []
    for _ in range(runs):
        reload_controlled(page)
        results.append(measure(page, calls))
    context.close()
    return results


def native_runs(runs: int, calls: int) -> tuple[list[float], list[float]]:
    startups = []
    latencies: list[float] = []
    for run in range(runs):
        server, startup_seconds = start_tools_server()
        startups.append(startup_seconds * 1000)
        try:
            if run == 0:
                for index in range(calls + WARM_UP):
                    started = time.perf_counter()
                    reply = server.request("tools/call", REDACT["params"])  # type: ignore[arg-type]
                    elapsed = (time.perf_counter() - started) * 1000
                    if reply.get("result", {}).get("isError", True):
                        raise SystemExit(f"redact failed over stdio: {reply}")
                    if index >= WARM_UP:
                        latencies.append(elapsed)
        finally:
            server.close()
    return startups, latencies


def chromium_version() -> str:
    return subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, check=False).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=30, help="timed redact calls per path (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="ready-time runs per path (default 3)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="satchel-bench-") as tmp:
        site = BuiltSite(Path(tmp))
        site.build()
        server = ServerProcess(
            site.dist_dir, Path(tmp) / "server.log", Path(tmp) / "workspace.db", anonymous_workspace=True
        )
        server.start()
        try:
            startups, native_latencies = native_runs(args.runs, args.calls)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                cold = cold_runs(browser, server.url, args.runs, args.calls)
                cached = cached_runs(browser, server, args.runs, args.calls)
                browser.close()
        finally:
            server.stop()

    print(
        f"Pyodide {PYODIDE_VERSION} in {chromium_version()} vs native CPython {sys.version.split()[0]} (stdio)"
    )
    cold_ready = [r["readyMs"] for r in cold]
    cached_ready = [r["readyMs"] for r in cached]
    print(f"\n{f'ready time, ms ({args.runs} runs)':<34}{'median':>9}{'min':>9}{'max':>9}")
    for label, values in (
        ("native stdio start-up", startups),
        ("pyodide cold (network)", cold_ready),
        ("pyodide cached (offline)", cached_ready),
    ):
        print(f"  {label:<32}{statistics.median(values):>9.0f}{min(values):>9.0f}{max(values):>9.0f}")

    worker_latencies = [latency for r in cold + cached for latency in r["latencies"]]
    chars = len(INPUTS["redact"]["text"])
    print(f"\n{f'redact latency, ms ({chars} chars)':<34}{'p50':>9}{'p95':>9}{'calls':>9}")
    for label, values in (("native stdio", native_latencies), ("pyodide worker port", worker_latencies)):
        print(f"  {label:<32}{percentile(values, 0.5):>9.2f}{percentile(values, 0.95):>9.2f}{len(values):>9}")
    latency_ratio = statistics.median(worker_latencies) / statistics.median(native_latencies)
    ready_ratio = statistics.median(cached_ready) / statistics.median(startups)
    print(
        f"\nworker / native: {latency_ratio:.1f}x per redact call (median), {ready_ratio:.0f}x to ready (cached)"
    )


if __name__ == "__main__":
    main()
