"""Build step: ship the WebAssembly MCP servers (whisper.cpp, llama.cpp) built by `satchel wasm`, with their models.

The build compiles nothing: it takes what it is given (`satchel build --wasm-dir DIR --model whisper=PATH ...`,
i.e. `WasmServerSources`). For each server given a model, the `.wasm` module from `DIR` goes to `wasm/` (precached
like every file of the site) and the model to `models/`, which is *lazy*: it is served but left out of the precache
manifest, because models are large and only needed once a tool is called. The wasi-server worker fetches a model on
the first call that needs it, checks its sha256 and keeps it in its own cache, so it then works offline too
(app/workers/wasi-server.js). Without models, no WASM server is shipped, and that is not an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import satchel
from satchel.build.context import BuildContext, BuildError, sha256_hex
from satchel.registry import LocalFile, local_server

#: Site folder of the WASM modules (precached).
WASM_DIR = "wasm"
#: Site folder of the models, which the step marks lazy (`BuildContext.lazy_files`: served, never precached).
MODELS_DIR = "models"
WORKER = "wasi-server"


@dataclass(frozen=True)
class WasmServer:
    """One C++ MCP server of `wasm/` as the site ships it."""

    key: str
    name: str
    title: str
    description: str

    @property
    def module(self) -> str:
        """The file `satchel wasm` writes for it (`.cache/wasm/out/wasm/<module>`)."""
        return f"{self.key}-server.wasm"


SERVERS: tuple[WasmServer, ...] = (
    WasmServer(
        key="whisper",
        name="io.satchel/whisper",
        title="Speech to text",
        description="Transcribe speech (16 kHz WAV) with whisper.cpp, on this device",
    ),
    WasmServer(
        key="llama",
        name="io.satchel/llama",
        title="Text generation",
        description="Generate and summarise text with llama.cpp, on this device",
    ),
)
BY_KEY = {server.key: server for server in SERVERS}


@dataclass(frozen=True)
class WasmServerSources:
    """Where the WASM modules and the models come from (nothing given: no WASM server in the site)."""

    #: Folder with `<key>-server.wasm` files, as `satchel wasm` writes them (`.cache/wasm/out/wasm`).
    wasm_dir: Path | None = None
    #: Model file per server key (`whisper`, `llama`); a server is shipped exactly when it has one.
    models: Mapping[str, Path] = field(default_factory=dict)

    def check(self) -> None:
        """Raise `BuildError` for an unknown server, a missing `wasm_dir`, module or model file."""
        unknown = sorted(set(self.models) - BY_KEY.keys())
        if unknown:
            raise BuildError(
                f"no WASM server named {', '.join(unknown)}: --model takes one of {', '.join(BY_KEY)}"
            )
        if not self.models:
            return
        if self.wasm_dir is None:
            raise BuildError(
                "--model needs --wasm-dir: the folder of the WASM servers `satchel wasm` built "
                "(.cache/wasm/out/wasm)"
            )
        for key, model in sorted(self.models.items()):
            module = self.wasm_dir / BY_KEY[key].module
            if not module.is_file():
                raise BuildError(f"{module} not found: run `satchel wasm` or pass the right --wasm-dir")
            if not model.is_file():
                raise BuildError(f"--model {key}={model}: no such file")


def _local_file(path: str, data: bytes) -> LocalFile:
    return LocalFile(url="/" + path, sha256=sha256_hex(data), size=len(data))


def add_wasm_servers(ctx: BuildContext) -> None:
    sources = ctx.wasm_sources
    if sources is None:
        return
    sources.check()
    for key, model_path in sorted(sources.models.items()):
        server = BY_KEY[key]
        assert sources.wasm_dir is not None  # check() made sure
        module_path = f"{WASM_DIR}/{server.module}"
        module = (sources.wasm_dir / server.module).read_bytes()
        if not module.startswith(b"\0asm"):
            raise BuildError(f"{sources.wasm_dir / server.module} is not a WebAssembly module")
        model_site_path = f"{MODELS_DIR}/{model_path.name}"
        model = model_path.read_bytes()
        ctx.add(module_path, module)
        ctx.add(model_site_path, model)
        ctx.lazy_files.add(model_site_path)
        ctx.local_servers.append(
            local_server(
                name=server.name,
                title=server.title,
                description=server.description,
                version=satchel.__version__,
                worker=WORKER,
                # The worker takes the .wasm file as the module and the first other file as the --model.
                files=[_local_file(module_path, module), _local_file(model_site_path, model)],
            )
        )
