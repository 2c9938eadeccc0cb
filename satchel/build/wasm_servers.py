"""Build step: ship the WebAssembly MCP servers (whisper.cpp, llama.cpp) built by `satchel wasm`, with their models.

The build compiles nothing: it takes what it is given (`satchel build --wasm-dir DIR --model whisper=PATH ...`,
i.e. `WasmServerSources`). For each server given a model, the `.wasm` module from `DIR` goes to `wasm/` (precached
like every file of the site) and the model to `models/`, which is *lazy*: it is served but left out of the precache
manifest, because models are large and only needed once a tool is called. The wasi-server worker fetches a model on
the first call that needs it, checks its sha256 and keeps it in its own cache, so it then works offline too
(app/workers/wasi-server.js). Without models, no WASM server is shipped, and that is not an error.

A model arrives hashed (`HashedFile`): its registry entry pins that sha256 and size, and the site gets a copy made
by path when it is written (satchel/build/output.py); the step never reads it. Which servers exist, and their names,
is the table in satchel/wasm/servers.py.
"""

from __future__ import annotations

from pathlib import Path

import satchel
from satchel.build.context import BuildContext, BuildError, sha256_hex
from satchel.build.inputs import WasmServerSources
from satchel.digests import HashedFile
from satchel.registry import LocalFile, local_server
from satchel.wasm.servers import BY_KEY, MODELS_DIR, WASM_DIR

WORKER = "wasi-server"


def _unknown_server(keys: list[str]) -> BuildError:
    return BuildError(f"no WASM server named {', '.join(keys)}: --model takes one of {', '.join(BY_KEY)}")


def _no_such_model(key: str, path: Path) -> BuildError:
    return BuildError(f"--model {key}={path}: no such file")


def hash_model(key: str, path: Path) -> HashedFile:
    """The model file given for server `key` (`--model KEY=PATH`), hashed: where a path enters the build."""
    if key not in BY_KEY:
        raise _unknown_server([key])
    try:
        return HashedFile.of(path)
    except OSError as exc:
        raise _no_such_model(key, path) from exc


def check_sources(sources: WasmServerSources) -> None:
    """Raise `BuildError` for an unknown server, a missing `wasm_dir`, module or model file."""
    unknown = sorted(set(sources.models) - BY_KEY.keys())
    if unknown:
        raise _unknown_server(unknown)
    if not sources.models:
        return
    if sources.wasm_dir is None:
        raise BuildError(
            "--model needs --wasm-dir: the folder of the WASM servers `satchel wasm` built (.cache/wasm/out/wasm)"
        )
    for key, model in sorted(sources.models.items()):
        module = sources.wasm_dir / BY_KEY[key].module
        if not module.is_file():
            raise BuildError(f"{module} not found: run `satchel wasm` or pass the right --wasm-dir")
        if not model.path.is_file():
            raise _no_such_model(key, model.path)


def add_wasm_servers(ctx: BuildContext) -> None:
    sources = ctx.wasm_sources
    if sources is None:
        return
    check_sources(sources)
    for key, given in sorted(sources.models.items()):
        server = BY_KEY[key]
        assert sources.wasm_dir is not None  # check_sources() made sure
        module_path = f"{WASM_DIR}/{server.module}"
        module = (sources.wasm_dir / server.module).read_bytes()
        if not module.startswith(b"\0asm"):
            raise BuildError(f"{sources.wasm_dir / server.module} is not a WebAssembly module")
        try:
            # Hashed again only if it changed since it was given (a rebuild after an edit).
            model = given.current()
        except OSError as exc:
            raise _no_such_model(key, given.path) from exc
        model_path = f"{MODELS_DIR}/{model.path.name}"
        ctx.add(module_path, module)
        ctx.add_lazy(model_path, model)
        ctx.local_servers.append(
            local_server(
                name=server.name,
                title=server.title,
                description=server.description,
                version=satchel.__version__,
                worker=WORKER,
                # The worker takes the .wasm file as the module and the first other file as the --model.
                files=[
                    LocalFile(url="/" + module_path, sha256=sha256_hex(module), size=len(module)),
                    LocalFile(url="/" + model_path, sha256=model.sha256, size=model.size),
                ],
            )
        )
