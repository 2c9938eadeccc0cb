"""The WASM servers are pure WASI reactors: what they import is WASI (plus emscripten's memory-growth hook) and
what they export is the worker's interface, so any WASI host (browser_wasi_shim in the worker) can run them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

LIST_INTERFACE = """
const m = new WebAssembly.Module(require("fs").readFileSync(process.argv[1]));
console.log(JSON.stringify({imports: WebAssembly.Module.imports(m), exports: WebAssembly.Module.exports(m)}));
"""


@pytest.mark.parametrize("server", ["whisper", "llama"])
def test_reactor_imports_only_wasi_and_exports_the_worker_interface(
    wasm_servers: dict[str, Path], server: str
) -> None:
    listed = subprocess.run(
        ["node", "-e", LIST_INTERFACE, str(wasm_servers[server])], capture_output=True, text=True, check=True
    )
    interface = json.loads(listed.stdout)
    foreign = [
        f"{i['module']}.{i['name']}"
        for i in interface["imports"]
        if i["module"] != "wasi_snapshot_preview1" and i["name"] != "emscripten_notify_memory_growth"
    ]
    assert foreign == []
    wasi = {i["name"] for i in interface["imports"] if i["module"] == "wasi_snapshot_preview1"}
    assert {"path_open", "fd_prestat_get", "fd_prestat_dir_name", "fd_read", "fd_write"} <= wasi
    exports = {e["name"] for e in interface["exports"]}
    assert {"handle", "satchel_alloc", "satchel_free", "memory", "_initialize"} <= exports
