"""Builds each C++ MCP server for each platform asked for, skipping those whose cache key has not changed."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from satchel.user_cache import user_cache_dir
from satchel.wasm.cache import build_key, is_fresh, record, tree_digest
from satchel.wasm.cmake import configure_and_build
from satchel.wasm.emscripten import WASM
from satchel.wasm.errors import WasmError
from satchel.wasm.native import NATIVE
from satchel.wasm.platforms import Platform
from satchel.wasm.servers import SERVERS as WASM_SERVERS
from satchel.wasm.sources import (
    DEFAULT_SDIST_DIR,
    SDISTS,
    WHISPER_SDIST,
    Sdist,
    Sources,
    fetch_sources,
)
from satchel.wasm.toolchain import find_toolchain

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_SOURCES = REPO_ROOT / "wasm"
"""The C++ sources of the servers (the repository's `wasm/` folder; builds need a source checkout)."""
DEFAULT_OUT_DIR = REPO_ROOT / ".cache" / "wasm" / "out"
DEFAULT_BUILD_DIR = REPO_ROOT / ".cache" / "wasm" / "build"
#: Where the WASM modules land, which `satchel build --model` and `satchel bundle --model` take by default.
DEFAULT_WASM_DIR = DEFAULT_OUT_DIR / "wasm"
PLATFORMS = {"native": NATIVE, "wasm": WASM}


@dataclass(frozen=True)
class Server:
    """A server of the one table (satchel/wasm/servers.py), with the sdist that vendors its engine."""

    name: str
    target: str
    sdist: Sdist


SDIST_BY_NAME = {sdist.name: sdist for sdist in SDISTS}
SERVERS = tuple(Server(row.key, row.target, SDIST_BY_NAME[row.engine_sdist]) for row in WASM_SERVERS)


@dataclass(frozen=True)
class BuiltServer:
    server: str
    platform: str
    path: Path
    cached: bool
    seconds: float


def _vendor_dir(server: Server, sources: Sources) -> Path:
    return sources.whisper_cpp if server.sdist is WHISPER_SDIST else sources.llama_cpp


def _configure_command(
    platform: Platform, server: Server, sources: Sources, build_dir: Path, programs: dict[str, Path]
) -> list[str]:
    definitions = {
        **platform.definitions,
        "SATCHEL_SERVER": server.name,
        "SATCHEL_VENDOR_DIR": str(_vendor_dir(server, sources)),
        "SATCHEL_JSON_DIR": str(sources.json_include_dir),
    }
    wrapper = [str(programs[name]) for name in platform.wrapper]
    return [
        *wrapper, str(programs["cmake"]), "-G", "Ninja", "-S", str(SERVER_SOURCES), "-B", str(build_dir),
        *(f"-D{key}={value}" for key, value in sorted(definitions.items())),
    ]  # fmt: skip


def shared_output(
    platform: Platform, server: Server, sources: Sources, server_digest: str, compiler: str
) -> Path:
    """Where the user cache keeps a finished server, named by what decides its bytes (the same inputs as the
    checkout's key, without the checkout's paths), so that every clone of the same sources reuses it."""
    key = build_key(
        [
            sources.digests[server.sdist.name],
            server_digest,
            *(f"{name}={value}" for name, value in sorted(platform.definitions.items())),
            compiler,
        ]
    )
    return user_cache_dir() / "wasm" / f"{server.target}-{platform.name}-{key[:32]}{platform.suffix}"


def _install(source: Path, target: Path, key: str | None = None) -> None:
    """Copy `source` to `target` atomically (another clone may read it at the same time), then stamp its key."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    shutil.copy2(source, temporary)
    temporary.replace(target)
    if key is not None:
        record(target, key)


def build_servers(
    platforms: Sequence[str],
    *,
    out_dir: Path = DEFAULT_OUT_DIR,
    build_dir: Path = DEFAULT_BUILD_DIR,
    jobs: int = 2,
    log: Callable[[str], None] = print,
) -> list[BuiltServer]:
    """Build (or reuse) every server for `platforms` ("native", "wasm"); outputs go to `out_dir/<platform>/`."""
    unknown = [p for p in platforms if p not in PLATFORMS]
    if unknown:
        raise WasmError(f"unknown platform(s): {', '.join(unknown)} (choose from {', '.join(PLATFORMS)})")
    if not (SERVER_SOURCES / "CMakeLists.txt").is_file():
        raise WasmError(f"{SERVER_SOURCES} is missing: satchel wasm builds from a source checkout of Satchel")
    toolchain = find_toolchain(native="native" in platforms, wasm="wasm" in platforms)
    sources = fetch_sources(REPO_ROOT / DEFAULT_SDIST_DIR, log=log)
    server_digest = tree_digest(SERVER_SOURCES)
    env = toolchain.environment()
    built: list[BuiltServer] = []
    for platform_name in platforms:
        platform = PLATFORMS[platform_name]
        for server in SERVERS:
            started = time.monotonic()
            output = out_dir / platform.name / f"{server.target}{platform.suffix}"
            # A flag change gets a fresh folder (CMake does not redo its platform checks in an old one); a source
            # change keeps the folder, and ninja recompiles only what changed.
            flags = build_key(f"{name}={value}" for name, value in sorted(platform.definitions.items()))
            folder = (build_dir / f"{server.name}-{platform.name}-{flags[:8]}").resolve()
            configure = _configure_command(platform, server, sources, folder, toolchain.programs)
            key = build_key(
                [
                    sources.digests[server.sdist.name],
                    server_digest,
                    " ".join(configure),
                    toolchain.versions[platform.compiler],
                ]
            )
            label = f"{server.target} ({platform.name})"
            shared = shared_output(
                platform, server, sources, server_digest, toolchain.versions[platform.compiler]
            )
            if not is_fresh(output, key) and shared.is_file():
                _install(shared, output, key)
                log(f"{label}: taken from the user cache ({shared})")
            if is_fresh(output, key):
                log(f"{label}: up to date ({output})")
                built.append(
                    BuiltServer(server.name, platform.name, output, True, time.monotonic() - started)
                )
                continue
            log(f"{label}: building in {folder}")
            configure_and_build(
                label=label,
                configure=configure,
                build_dir=folder,
                target=server.target,
                jobs=jobs,
                env=env,
                log=log,
            )
            produced = folder / server.name / f"{server.target}{platform.suffix}"
            if not produced.is_file():
                raise WasmError(f"{label}: the build succeeded but {produced} is missing")
            _install(produced, output, key)
            _install(produced, shared)
            seconds = time.monotonic() - started
            log(f"{label}: built {output} ({output.stat().st_size / 1e6:.1f} MB) in {seconds:.0f} s")
            built.append(BuiltServer(server.name, platform.name, output, False, seconds))
    return built
