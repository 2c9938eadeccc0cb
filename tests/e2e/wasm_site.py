"""The app built with the WASM whisper and llama servers and tiny models, and how tests reach them from the page:
an MCP client per call on the router's URL (as the app makes them), a reload with the network cut, and a look into
the model store (OPFS). Shared by test_wasm_servers.py and test_model_downloads.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from satchel.build import WasmServerSources, build_app
from satchel.digests import HashedFile
from satchel.models.tiny import make_tiny_models
from satchel.wasm import build_servers
from satchel.wasm.servers import BY_KEY
from tests.conftest import REPO
from tests.e2e.host_page import open_with_workspace_tools
from tests.support import app_page
from tests.support.served_app import ServerProcess
from tests.wasm.conftest import TinyModels

LLAMA = BY_KEY["llama"].name
WHISPER = BY_KEY["whisper"].name
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


@dataclass(frozen=True)
class WasmSite:
    """A built `dist/` that ships both WASM servers, with the tiny models it was built from."""

    dist: Path
    tiny: TinyModels

    def model(self, name: str) -> Path:
        """A model as the site serves it (`/models/<name>`)."""
        return self.dist / "models" / name

    def sha256(self, name: str) -> str:
        return hashlib.sha256(self.model(name).read_bytes()).hexdigest()


def build_wasm_site(root: Path) -> WasmSite:
    """Tiny models (`satchel models make-tiny`), the WASM servers (`satchel wasm`, cached) and the app built with
    both into `root/dist`."""
    llama, whisper = make_tiny_models(root / "tiny", seed=0, log=lambda _line: None)
    (built, *_) = build_servers(["wasm"], log=lambda _line: None)
    dist = root / "dist"
    build_app(
        REPO / "app",
        dist,
        node_modules=REPO / "node_modules",
        wasm_sources=WasmServerSources(
            wasm_dir=built.path.parent,
            models={"llama": HashedFile.of(llama), "whisper": HashedFile.of(whisper)},
        ),
    )
    return WasmSite(dist=dist, tiny=TinyModels(llama=llama, whisper=whisper))


def open_app(page: Page, url: str) -> None:
    open_with_workspace_tools(page, url)
    page.evaluate(CLIENT_SCRIPT)


def call(page: Page, server: str, name: str, arguments: dict[str, Any], **options: Any) -> dict[str, Any]:
    outcome: dict[str, Any] = page.evaluate(
        "([server, name, args, options]) => window.wasmCalls.call(server, name, args, options)",
        [server, name, arguments, options],
    )
    return outcome


def reload_ready(page: Page) -> None:
    """Reload (new workers, nothing in memory) and wait until the service worker controls the page again."""
    app_page.reload_ready(page)
    page.evaluate(CLIENT_SCRIPT)


def go_offline_and_reload(page: Page, served: ServerProcess) -> None:
    """Cut the network, then reload: new workers, so models can only come from what the browser kept."""
    served.stop()
    page.context.set_offline(True)
    reload_ready(page)


def stored_models(page: Page) -> list[dict[str, Any]]:
    """What the model store holds: `{sha256, size, complete}` for each file, partial downloads included."""
    models: list[dict[str, Any]] = page.evaluate(
        "async () => (await import('/common/model-store.js')).storedModels()"
    )
    return models
