"""The WASM whisper and llama servers shipped by `satchel build --wasm-dir --model`, called as the app calls them: an
MCP client on `/mcp/<name>`, answered by the service worker's router through the page's worker pool.

Each test opens the app online (the service worker precaches the WASM modules but not the models) and makes one call
per server, which makes the worker fetch the model, check its sha256 and keep it in its model cache. Then the server
process is stopped, the context goes offline and the page reloads (fresh workers, nothing in memory), and the
calls are answered offline exactly as the native servers answer the same input: same tokens, same transcription,
with progress notifications reaching the page. A cancelled `generate` stops the worker and the next call works.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from satchel.build import WasmServerSources, build_app
from satchel.models.tiny import make_tiny_models
from satchel.wasm import build_servers
from tests.e2e.harness import REPO, ConsoleWatch, ServerProcess, poll
from tests.e2e.host_page import open_ready
from tests.wasm.conftest import TinyModels, response, run_native, spoken_wav, tool_call

LLAMA = "io.satchel/llama"
WHISPER = "io.satchel/whisper"
GENERATE = {"prompt": "Once upon a time, in a small village,", "max_tokens": 24, "seed": 7}

#: Installs `window.wasmCalls.call(server, name, args, {progress, abortAfterProgress})`: one MCP client per call on
#: the router's URL for `server`, the way the app makes them; resolves with the result, the progress notifications
#: seen and the error (an aborted call rejects).
CLIENT_SCRIPT = """
async () => {
  const { connectClient, callToolRaw } = await import('/common/mcp-client.js');
  const call = async (server, name, args, { progress = false, abortAfterProgress = 0 } = {}) => {
    const client = await connectClient('/mcp/' + encodeURIComponent(server));
    const seen = [];
    const controller = new AbortController();
    const options = { signal: controller.signal, timeout: 300000 };
    if (progress) {
      options.onprogress = (update) => {
        seen.push(update);
        if (abortAfterProgress && seen.length === abortAfterProgress) controller.abort('cancelled by the test');
      };
    }
    const started = performance.now();
    try {
      const result = await callToolRaw(client, { name, arguments: args }, options);
      return { result, progress: seen, ms: performance.now() - started };
    } catch (error) {
      return { error: String(error?.message ?? error), progress: seen, ms: performance.now() - started };
    } finally {
      await client.close();
    }
  };
  window.wasmCalls = { call };
  return true;
}
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    llama, whisper = make_tiny_models(tmp_path_factory.mktemp("tiny"), seed=0, log=lambda _line: None)
    return TinyModels(llama=llama, whisper=whisper)


@pytest.fixture(scope="module")
def native() -> dict[str, Path]:
    return {b.server: b.path for b in build_servers(["native"], log=lambda _line: None)}


@pytest.fixture(scope="module")
def wasm_dir() -> Path:
    (built, *_) = build_servers(["wasm"], log=lambda _line: None)
    return built.path.parent


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spoken_wav(tmp_path_factory.mktemp("audio"))


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory, tiny: TinyModels, wasm_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("site")
    out = root / "dist"
    build_app(
        REPO / "app",
        out,
        node_modules=REPO / "node_modules",
        wasm_sources=WasmServerSources(
            wasm_dir=wasm_dir, models={"llama": tiny.llama, "whisper": tiny.whisper}
        ),
    )
    return out


@pytest.fixture
def served(dist: Path, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(dist, tmp_path / "server.log", tmp_path / "workspace.db")
    process.start()
    yield process
    process.stop()


def call(page: Page, server: str, name: str, arguments: dict[str, Any], **options: Any) -> dict[str, Any]:
    outcome: dict[str, Any] = page.evaluate(
        "([server, name, args, options]) => window.wasmCalls.call(server, name, args, options)",
        [server, name, arguments, options],
    )
    return outcome


def open_app(page: Page, url: str) -> None:
    open_ready(page, url)
    page.evaluate(CLIENT_SCRIPT)


def go_offline_and_reload(page: Page, served: ServerProcess) -> None:
    """Cut the network, then reload: new workers, so models can only come from what the browser kept."""
    served.stop()
    page.context.set_offline(True)
    page.reload()
    poll(page, "navigator.serviceWorker.controller !== null")
    expect(page.locator("#offline-status")).to_have_attribute("data-state", "ready", timeout=20_000)
    page.evaluate(CLIENT_SCRIPT)


def cached_urls(page: Page) -> dict[str, list[str]]:
    urls: dict[str, list[str]] = page.evaluate(
        """async () => {
          const out = {};
          for (const name of await caches.keys()) {
            out[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
          }
          return out;
        }"""
    )
    return urls


def audio(wav: Path) -> dict[str, str]:
    return {"audio": base64.b64encode(wav.read_bytes()).decode()}


def test_generate_and_transcribe_offline_through_the_router_match_native(
    page: Page,
    served: ServerProcess,
    dist: Path,
    tiny: TinyModels,
    native: dict[str, Path],
    speech: Path,
    console: ConsoleWatch,
) -> None:
    open_app(page, served.url)
    # Online, once: each worker fetches its model and keeps it.
    for server, name, arguments in ((LLAMA, "generate", GENERATE), (WHISPER, "transcribe", audio(speech))):
        warm = call(page, server, name, arguments)
        assert "result" in warm, warm
    caches = cached_urls(page)
    precache = next(urls for cache, urls in caches.items() if cache.startswith("satchel-precache-"))
    assert {"/wasm/llama-server.wasm", "/wasm/whisper-server.wasm"} <= set(precache)
    assert not any(url.startswith("/models/") for url in precache), "models must not be precached"
    assert sorted(caches["satchel-models"]) == ["/models/tiny-llama.gguf", "/models/tiny-whisper.bin"]

    go_offline_and_reload(page, served)
    generated = call(page, LLAMA, "generate", GENERATE, progress=True)
    transcribed = call(page, WHISPER, "transcribe", audio(speech), progress=True)

    llama_native = response(
        run_native(native["llama"], tiny.llama, [tool_call(1, "generate", GENERATE, token="g")]), 1
    )["result"]
    whisper_native = response(
        run_native(native["whisper"], tiny.whisper, [tool_call(1, "transcribe", audio(speech), token="w")]), 1
    )["result"]
    assert "result" in generated, generated
    assert generated["result"]["structuredContent"] == llama_native["structuredContent"]
    assert generated["result"]["content"] == llama_native["content"]
    assert [p["progress"] for p in generated["progress"]] == [8, 16, 24]
    assert "result" in transcribed, transcribed
    assert transcribed["result"]["structuredContent"] == whisper_native["structuredContent"]
    assert transcribed["progress"], "whisper's progress notifications did not reach the page"
    assert console.csp_violations() == []


def test_a_model_that_changed_in_the_cache_is_fetched_again_and_verified(
    page: Page, served: ServerProcess, dist: Path
) -> None:
    open_app(page, served.url)
    assert "result" in call(page, LLAMA, "generate", {**GENERATE, "max_tokens": 4})
    model = dist / "models" / "tiny-llama.gguf"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    # Damage the kept copy, then stop the worker (reload): the next start refuses the copy and fetches the model.
    page.evaluate(
        """async () => {
          const cache = await caches.open('satchel-models');
          await cache.put('/models/tiny-llama.gguf', new Response(new Uint8Array([1, 2, 3])));
        }"""
    )
    page.reload()
    poll(page, "navigator.serviceWorker.controller !== null")
    page.evaluate(CLIENT_SCRIPT)
    again = call(page, LLAMA, "generate", {**GENERATE, "max_tokens": 4})
    assert "result" in again, again
    stored = page.evaluate(
        """async () => {
          const response = await (await caches.open('satchel-models')).match('/models/tiny-llama.gguf');
          const digest = await crypto.subtle.digest('SHA-256', await response.arrayBuffer());
          return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
        }"""
    )
    assert stored == digest


def test_a_cancelled_generate_stops_its_worker_and_the_next_call_works_offline(
    page: Page, served: ServerProcess, tiny: TinyModels, native: dict[str, Path]
) -> None:
    open_app(page, served.url)
    assert "result" in call(page, LLAMA, "generate", {**GENERATE, "max_tokens": 4})
    go_offline_and_reload(page, served)

    long_run = {"prompt": "Once upon a time,", "max_tokens": 400, "seed": 1}
    cancelled = call(page, LLAMA, "generate", long_run, progress=True, abortAfterProgress=1)
    assert "error" in cancelled, cancelled
    assert "cancelled by the test" in cancelled["error"]
    assert len(cancelled["progress"]) < 400 // 8
    # The pool stopped the busy worker: the server list says why.
    llama_state = (
        page.locator("#server-list > li").filter(has_text="Text generation").locator(".server-state")
    )
    expect(llama_state).to_have_attribute("data-state", "stopped")
    expect(llama_state).to_contain_text("restarted after a cancelled call")

    after = call(page, LLAMA, "generate", GENERATE, progress=True)
    expected = response(
        run_native(native["llama"], tiny.llama, [tool_call(1, "generate", GENERATE, token="g")]), 1
    )["result"]
    assert "result" in after, after
    assert after["result"]["structuredContent"] == expected["structuredContent"]
    assert [p["progress"] for p in after["progress"]] == [8, 16, 24]
