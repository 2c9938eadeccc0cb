"""Models in the browser (app/common/model-store.js, the Models panel): a model is downloaded when a tool first needs
it or when the user makes it available offline, with a progress bar (bytes, rate, time left); it is verified and kept
in OPFS, so it loads offline; a copy damaged in storage is refused with a clear message, deleted and downloaded again
once the network is back; a quota too small gives a clear "not enough space" message and stores nothing; a dropped
download resumes with an HTTP Range request; the user can remove a model.

Every test uses its own browser context (its own OPFS), against the one site of `wasm_site` (tests/e2e/conftest.py).
"""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.e2e.dropping_proxy import DroppingProxy
from tests.e2e.wasm_site import (
    GENERATE,
    LLAMA,
    WasmSite,
    call,
    go_offline_and_reload,
    open_app,
    reload_ready,
    stored_models,
)
from tests.support.browser import ConsoleWatch
from tests.support.served_app import ServerProcess

MODEL = "tiny-llama.gguf"
SHORT = {**GENERATE, "max_tokens": 4}

#: Records every progress text the Models panel shows, and counts the page's requests for persistent storage.
RECORD_PANEL = """
window.__modelProgress = [];
window.__persistRequests = 0;
const persist = StorageManager.prototype.persist;
StorageManager.prototype.persist = function () {
  window.__persistRequests += 1;
  return persist.call(this);
};
document.addEventListener('DOMContentLoaded', () => {
  new MutationObserver(() => {
    const lines = document.querySelectorAll('#model-list .model-rate');
    for (const line of lines) window.__modelProgress.push(line.textContent);
  }).observe(document.getElementById('model-list'), { childList: true, subtree: true });
});
"""


#: Makes the page's navigator.storage.estimate() report `quota` (the real answer stays in window.__realEstimate).
REPORT_QUOTA = """
(quota) => {
  window.__realEstimate = StorageManager.prototype.estimate;
  StorageManager.prototype.estimate = async function () {
    return { ...(await window.__realEstimate.call(this)), quota };
  };
}
"""


def model_row(page: Page, name: str = MODEL) -> Locator:
    return page.locator(f"#model-list > li[data-model='{name}']")


def test_first_use_downloads_with_progress_and_the_model_then_loads_offline(
    page: Page, served: ServerProcess, wasm_site: WasmSite, console: ConsoleWatch
) -> None:
    page.add_init_script(RECORD_PANEL)
    open_app(page, served.url)
    row = model_row(page)
    expect(row).to_have_attribute("data-state", "missing")
    expect(row.locator(".model-state")).to_have_text("Not on this device · 9.1 MB to download")

    first = call(page, LLAMA, "generate", SHORT)
    assert "result" in first, first

    progress = page.evaluate("window.__modelProgress")
    assert progress, "the Models panel showed no progress while the worker downloaded the model"
    line = re.compile(r"^[\d.]+ (B|KB|MB) of 9\.1 MB · [\d.]+ (B|KB|MB|GB)/s · (\d+ s|\d+ min \d+ s) left$")
    assert all(line.match(text) for text in progress), progress
    assert progress[-1].startswith("9.1 MB of 9.1 MB"), progress
    assert page.evaluate("window.__persistRequests") >= 1, "persistent storage was not asked for"
    expect(row).to_have_attribute("data-state", "stored")
    expect(row.locator(".model-state")).to_have_text("On this device · 9.1 MB")
    assert stored_models(page) == [{"sha256": wasm_site.sha256(MODEL), "size": 9066112, "complete": True}]

    go_offline_and_reload(page, served)
    offline = call(page, LLAMA, "generate", SHORT)
    assert "result" in offline, offline
    assert offline["result"]["structuredContent"] == first["result"]["structuredContent"]
    expect(model_row(page)).to_have_attribute("data-state", "stored")
    assert console.csp_violations() == []


def test_a_model_damaged_in_storage_is_refused_then_downloaded_again_online(
    page: Page, served: ServerProcess, wasm_site: WasmSite
) -> None:
    open_app(page, served.url)
    good = call(page, LLAMA, "generate", SHORT)
    assert "result" in good, good
    sha256 = wasm_site.sha256(MODEL)
    # One byte in the middle flipped: same size, so only the sha256 can tell.
    page.evaluate(
        """async (sha256) => {
          const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('models');
          const handle = await dir.getFileHandle(sha256);
          const [byte] = new Uint8Array(await (await handle.getFile()).slice(4096, 4097).arrayBuffer());
          const writable = await handle.createWritable({ keepExistingData: true });
          await writable.seek(4096);
          await writable.write(new Uint8Array([byte ^ 0xff]));
          await writable.close();
        }""",
        sha256,
    )

    go_offline_and_reload(page, served)
    refused = call(page, LLAMA, "generate", SHORT)
    assert "error" in refused, refused
    message = f"{MODEL} was damaged (sha256 mismatch) and has been removed; it will be downloaded again"
    assert message in refused["error"]
    expect(model_row(page).locator(".model-error")).to_contain_text(message)
    expect(model_row(page)).to_have_attribute("data-state", "missing")
    assert stored_models(page) == [], "the damaged copy must be deleted, never run"

    served.start()
    page.context.set_offline(False)
    again = call(page, LLAMA, "generate", SHORT)
    assert "result" in again, again
    assert again["result"]["structuredContent"] == good["result"]["structuredContent"]
    expect(model_row(page)).to_have_attribute("data-state", "stored")
    expect(model_row(page).locator(".model-error")).to_have_count(0)


def test_a_quota_too_small_says_not_enough_space_and_stores_nothing(
    page: Page, served: ServerProcess, wasm_site: WasmSite
) -> None:
    model_path = f"/models/{MODEL}"
    proxy = DroppingProxy(served.port, path=model_path)  # it only logs requests here
    proxy.start()
    try:
        open_app(page, proxy.url)
        usage = page.evaluate("async () => (await navigator.storage.estimate()).usage")
        cdp = page.context.new_cdp_session(page)
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": proxy.url, "quotaSize": usage + 4_000_000})
        # Chromium enforces that quota on writes, but navigator.storage.estimate() goes on reporting the disk's room.
        # In the page, make it report the quota being enforced, as it does for a browser near its limit.
        page.evaluate(REPORT_QUOTA, usage + 4_000_000)
        row = model_row(page)

        # From the panel: the estimate is checked first, so nothing is even requested.
        row.get_by_role("button", name="Make available offline").click()
        error = row.locator(".model-error")
        expect(error).to_contain_text(
            re.compile(rf"Not enough space for {MODEL}: it needs 9\.1 MB and only [\d.]+ MB is free")
        )
        assert proxy.requests_for(model_path) == []
        assert stored_models(page) == []

        # From a tool call, in a worker whose estimate shows room: the download goes until the browser refuses a
        # write, then the partial file is deleted.
        refused = call(page, LLAMA, "generate", SHORT)
        assert "error" in refused, refused
        assert (
            f"Not enough space for {MODEL}: it needs 9.1 MB and the browser refused to store more"
            in refused["error"]
        )
        assert len(proxy.requests_for(model_path)) == 1
        expect(error).to_contain_text("the browser refused to store more")
        assert stored_models(page) == [], "nothing half-stored may remain"

        # With room again, the model arrives.
        cdp.send("Storage.overrideQuotaForOrigin", {"origin": proxy.url})
        page.evaluate("() => { StorageManager.prototype.estimate = window.__realEstimate; }")
        row.get_by_role("button", name="Make available offline").click()
        expect(row).to_have_attribute("data-state", "stored")
        expect(error).to_have_count(0)
    finally:
        proxy.stop()


def test_a_dropped_download_resumes_with_a_range_request(
    page: Page, served: ServerProcess, wasm_site: WasmSite
) -> None:
    size = wasm_site.model(MODEL).stat().st_size
    proxy = DroppingProxy(served.port, path=f"/models/{MODEL}", cut_after=size // 2, drops=1)
    proxy.start()
    try:
        open_app(page, proxy.url)
        result = call(page, LLAMA, "generate", SHORT)
        assert "result" in result, result
        first, second = proxy.requests_for(f"/models/{MODEL}")
        assert first.range is None
        assert second.range is not None, "the second request did not resume"
        resumed_at = int(re.fullmatch(r"bytes=(\d+)-", second.range).group(1))  # type: ignore[union-attr]
        assert 0 < resumed_at <= size // 2, second.range
        assert stored_models(page) == [{"sha256": wasm_site.sha256(MODEL), "size": size, "complete": True}]
    finally:
        proxy.stop()


def test_a_download_that_keeps_dropping_stops_and_the_next_try_resumes_after_a_reload(
    page: Page, served: ServerProcess, wasm_site: WasmSite
) -> None:
    size = wasm_site.model(MODEL).stat().st_size
    model_path = f"/models/{MODEL}"
    # Every response for the model loses its connection after 1/8 of the file, until the test says otherwise.
    proxy = DroppingProxy(served.port, path=model_path, cut_after=size // 8, drops=1000)
    proxy.start()
    try:
        open_app(page, proxy.url)
        stopped = call(page, LLAMA, "generate", SHORT)
        assert "error" in stopped, stopped
        assert re.search(
            rf"the download of {MODEL} stopped at [\d.]+ (KB|MB) of 9\.1 MB", stopped["error"]
        ), stopped
        tries = proxy.requests_for(model_path)
        assert 2 <= len(tries) <= 4, "a first request, then immediate resumes while each one makes progress"
        row = model_row(page)
        expect(row).to_have_attribute("data-state", "partial")
        expect(row.locator(".model-state")).to_contain_text("Partly downloaded")
        (kept,) = stored_models(page)
        assert kept["complete"] is False and 0 < kept["size"] < size

        proxy.drops = 0
        reload_ready(page)  # a new worker: only the partial file remains
        resumed = call(page, LLAMA, "generate", SHORT)
        assert "result" in resumed, resumed
        ranges = [request.range for request in proxy.requests_for(model_path)]
        assert ranges[0] is None and len(ranges) == len(tries) + 1, ranges
        assert ranges[-1] == f"bytes={kept['size']}-", "the next try must continue after what was kept"
        assert stored_models(page) == [{"sha256": wasm_site.sha256(MODEL), "size": size, "complete": True}]
        expect(row).to_have_attribute("data-state", "stored")
    finally:
        proxy.stop()


def test_the_page_and_a_worker_never_download_the_same_model_at_once(
    page: Page, served: ServerProcess, wasm_site: WasmSite
) -> None:
    model_path = f"/models/{MODEL}"
    proxy = DroppingProxy(served.port, path=model_path, pace_s=0.01)  # about 1.5 s for the whole model
    proxy.start()
    try:
        open_app(page, proxy.url)
        page.evaluate(
            "([server, args]) => { window.__call = window.wasmCalls.call(server, 'generate', args); }",
            [LLAMA, SHORT],
        )
        expect(model_row(page)).to_have_attribute(
            "data-state", "downloading"
        )  # the worker holds the model's lock
        # The page asks for the same model meanwhile (as a kiosk's pre-loading does): it waits, then finds it stored.
        ensured = page.evaluate(
            """async (name) => {
              const { ensureModel, modelFiles } = await import('/common/model-store.js');
              const { listServers, localConfig } = await import('/common/mirror.js');
              const files = (await listServers()).flatMap((server) => modelFiles(localConfig(server)));
              return ensureModel(files.find((file) => file.url.endsWith('/' + name)));
            }""",
            MODEL,
        )
        assert ensured == {"sha256": wasm_site.sha256(MODEL), "size": wasm_site.model(MODEL).stat().st_size}
        result = page.evaluate("window.__call")
        assert "result" in result, result
        assert len(proxy.requests_for(model_path)) == 1, "the model was downloaded twice"
    finally:
        proxy.stop()


def test_make_available_offline_then_remove_from_the_models_panel(
    page: Page, served: ServerProcess, wasm_site: WasmSite
) -> None:
    open_app(page, served.url)
    row = model_row(page, "tiny-whisper.bin")
    expect(row.locator(".badge")).to_have_text("Speech to text")
    row.get_by_role("button", name="Make available offline").click()
    expect(row).to_have_attribute("data-state", "stored")
    expect(row.locator(".model-state")).to_have_text("On this device · 8.0 MB")
    assert [m["sha256"] for m in stored_models(page)] == [wasm_site.sha256("tiny-whisper.bin")]

    row.get_by_role("button", name="Remove").click()
    expect(row).to_have_attribute("data-state", "missing")
    expect(row.get_by_role("button", name="Remove")).to_have_count(0)
    assert stored_models(page) == []
    # Still listed after a reload, as not stored.
    reload_ready(page)
    expect(model_row(page, "tiny-whisper.bin")).to_have_attribute("data-state", "missing")


def test_a_model_kept_by_an_earlier_version_moves_to_the_store_and_works_offline(
    page: Page, served: ServerProcess, wasm_site: WasmSite
) -> None:
    open_app(page, served.url)
    # Earlier versions kept models in the Cache API cache "satchel-models", by URL.
    page.evaluate(
        """async (url) => {
          const response = await fetch(url);
          await (await caches.open('satchel-models')).put(url, response);
        }""",
        f"/models/{MODEL}",
    )
    go_offline_and_reload(page, served)
    offline = call(page, LLAMA, "generate", SHORT)
    assert "result" in offline, offline
    assert [m["sha256"] for m in stored_models(page)] == [wasm_site.sha256(MODEL)]
    assert page.evaluate("caches.has('satchel-models')") is False
