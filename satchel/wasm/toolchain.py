"""Finds the programs a build needs and says, in one line, which Debian package provides a missing one."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from satchel.wasm.errors import WasmError

#: program -> the Debian package that installs it (scripts/setup.sh installs them all).
PACKAGES = {
    "cmake": "cmake",
    "ninja": "ninja-build",
    "c++": "g++",
    "emcc": "emscripten",
    "emcmake": "emscripten",
    "wasm-opt": "binaryen",
}
#: Debian's emscripten runs its JS tools with NodeSource's node, which does not search Debian's module folder.
DEBIAN_NODE_PATH = "/usr/share/nodejs"


@dataclass(frozen=True)
class Toolchain:
    programs: dict[str, Path]
    versions: dict[str, str]
    """First line of `--version` of each compiler: part of the cache key, so a compiler upgrade rebuilds."""

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if Path(DEBIAN_NODE_PATH).is_dir():
            env["NODE_PATH"] = os.pathsep.join(p for p in (env.get("NODE_PATH"), DEBIAN_NODE_PATH) if p)
        return env


def find_program(name: str) -> Path:
    found = shutil.which(name)
    if found is None:
        package = PACKAGES.get(name, name)
        raise WasmError(
            f"{name} not found: install the Debian package '{package}' (apt-get install -y {package}, "
            "or run scripts/setup.sh)"
        )
    return Path(found)


def _version(program: Path, env: dict[str, str]) -> str:
    completed = subprocess.run(
        [str(program), "--version"], capture_output=True, text=True, check=False, env=env, timeout=120
    )
    lines = (completed.stdout or completed.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def find_toolchain(*, native: bool, wasm: bool) -> Toolchain:
    """The programs for the platforms asked for; raises WasmError naming the first one missing."""
    names = (
        ["cmake", "ninja"] + (["c++"] if native else []) + (["emcc", "emcmake", "wasm-opt"] if wasm else [])
    )
    programs = {name: find_program(name) for name in names}
    toolchain = Toolchain(programs=programs, versions={})
    env = toolchain.environment()
    for compiler in ("c++", "emcc"):
        if compiler in programs:
            toolchain.versions[compiler] = _version(programs[compiler], env)
    return toolchain
