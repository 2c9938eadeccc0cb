"""The WASM MCP servers the app can ship: the one table every other part reads.

`satchel wasm` builds each server's module, `satchel build --model KEY=PATH|ID` ships it with a model (a catalogue
id picks the server that runs its task), the build pins it in the registry under its name and renders the names
into `page/wasm-servers.js` for the page (app/page/wasm-servers.js.j2). A new server is one more row here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Site folder of the WASM modules (precached).
WASM_DIR = "wasm"
#: Site folder of the models (lazy: served, never precached; the worker that needs one fetches and keeps it).
MODELS_DIR = "models"


@dataclass(frozen=True)
class WasmServer:
    """One C++ MCP server of the repository's `wasm/` folder."""

    #: What `--model KEY=PATH` and the page call it, and the CMake `SATCHEL_SERVER` it is built as.
    key: str
    #: Its registry (server.json) name.
    name: str
    title: str
    description: str
    #: The catalogue task of the models it runs (satchel/models/catalog.py); one model per server.
    task: str
    #: The pinned sdist that vendors its C++ engine (satchel/wasm/sources.py), which `satchel wasm` builds from.
    engine_sdist: str

    @property
    def target(self) -> str:
        """The CMake target `satchel wasm` builds."""
        return f"{self.key}-server"

    @property
    def module(self) -> str:
        """The file `satchel wasm` writes for it (`.cache/wasm/out/wasm/<module>`), shipped as `wasm/<module>`."""
        return f"{self.target}.wasm"


SERVERS: tuple[WasmServer, ...] = (
    WasmServer(
        key="whisper",
        name="io.satchel/whisper",
        title="Speech to text",
        description="Transcribe speech (16 kHz WAV) with whisper.cpp, on this device",
        task="asr",
        engine_sdist="pywhispercpp",
    ),
    WasmServer(
        key="llama",
        name="io.satchel/llama",
        title="Text generation",
        description="Generate and summarise text with llama.cpp, on this device",
        task="llm",
        engine_sdist="llama-cpp-python",
    ),
)
BY_KEY = {server.key: server for server in SERVERS}
BY_TASK = {server.task: server for server in SERVERS}
