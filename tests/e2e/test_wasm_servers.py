"""The WASM whisper and llama servers shipped by `satchel build --wasm-dir --model`, called as the app calls them: an
MCP client on `/mcp/<name>`, answered by the service worker's router through the page's worker pool.

Each test opens the app online (the service worker precaches the WASM modules but not the models) and makes one call
per server, which makes the worker fetch the model, check its sha256 and keep it in the model store (OPFS). Then the
server process is stopped, the context goes offline and the page reloads (fresh workers, nothing in memory), and the
calls are answered offline exactly as the native servers answer the same input: same tokens, same transcription,
with progress notifications reaching the page. A cancelled `generate` stops the worker and the next call works.
Downloads themselves (progress, resume, damaged copies, quota, removal) are tested in test_model_downloads.py.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from satchel.wasm import build_servers
from tests.e2e.wasm_site import (
    GENERATE,
    LLAMA,
    WHISPER,
    WasmSite,
    call,
    go_offline_and_reload,
    open_app,
    stored_models,
)
from tests.support.browser import ConsoleWatch
from tests.support.served_app import ServerProcess
from tests.support.speech import spoken_wav
from tests.support.stdio_mcp import response, run_native, tool_call


@pytest.fixture(scope="module")
def native() -> dict[str, Path]:
    return {b.server: b.path for b in build_servers(["native"], log=lambda _line: None)}


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spoken_wav(tmp_path_factory.mktemp("audio"))


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
    wasm_site: WasmSite,
    native: dict[str, Path],
    speech: Path,
    console: ConsoleWatch,
) -> None:
    tiny = wasm_site.tiny
    open_app(page, served.url)
    # Online, once: each worker fetches its model and keeps it.
    for server, name, arguments in ((LLAMA, "generate", GENERATE), (WHISPER, "transcribe", audio(speech))):
        warm = call(page, server, name, arguments)
        assert "result" in warm, warm
    caches = cached_urls(page)
    precache = next(urls for cache, urls in caches.items() if cache.startswith("satchel-precache-"))
    assert {"/wasm/llama-server.wasm", "/wasm/whisper-server.wasm"} <= set(precache)
    assert not any(url.startswith("/models/") for url in precache), "models must not be precached"
    stored = {(model["sha256"], model["complete"]) for model in stored_models(page)}
    kept = {(wasm_site.sha256(name), True) for name in ("tiny-llama.gguf", "tiny-whisper.bin")}
    assert stored == kept, "each model is kept once, complete, in the model store"

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


def test_a_cancelled_generate_stops_its_worker_and_the_next_call_works_offline(
    page: Page, served: ServerProcess, wasm_site: WasmSite, native: dict[str, Path]
) -> None:
    tiny = wasm_site.tiny
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
