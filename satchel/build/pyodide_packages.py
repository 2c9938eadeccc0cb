"""Build step: the wheels the browser's Python installs, and the `pyodide-lock.json` that lets it find them.

Two kinds of wheel are served from `vendor/pyodide/`: the project's own (`satchel/__init__.py` and
`satchel/tools/`, written deterministically by `wheel.py`), and the pure-Python wheels pinned with their sha256 in
`requirements-pyodide.lock`, which `scripts/setup.sh` downloads into `.cache/pyodide-wheels/` (the build never
touches the network). The generated lock lists exactly these wheels, with the `info` block of the npm package's
own lock (Python and ABI versions), so the worker installs them by name, offline, and Pyodide checks each
download against the sha256 in the lock.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import satchel
from satchel.build.context import BuildContext, BuildError, sha256_hex
from satchel.build.pyodide_runtime import PYODIDE_DIR, pyodide_package_dir
from satchel.build.wheel import Wheel, build_wheel, escape_name

#: Pins of the third-party wheels, relative to the project root (the folder holding node_modules/).
PINS_FILE = "requirements-pyodide.lock"
#: Where `scripts/setup.sh` downloads the pinned wheels, relative to the project root.
WHEEL_CACHE = ".cache/pyodide-wheels"
LOCK_FILE = f"{PYODIDE_DIR}/pyodide-lock.json"

#: The distribution holding the tool servers; the worker installs it (and its dependencies) by this name.
TOOLS_DISTRIBUTION = "satchel-tools"
#: What the wheel holds, relative to the folder above the `satchel` package.
TOOLS_SOURCES = ("satchel/__init__.py", "satchel/tools")

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)\s+--hash=sha256:(?P<sha256>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class PinnedWheel:
    name: str
    version: str
    sha256: str


def canonical_name(name: str) -> str:
    """The name Pyodide's lock file is keyed by (PEP 503 normalisation)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(path: Path) -> list[PinnedWheel]:
    """The `name==version --hash=sha256:...` lines of a pins file (comments and blank lines skipped)."""
    pins = []
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match is None:
            raise BuildError(f"{path}:{number}: expected `name==version --hash=sha256:<64 hex digits>`")
        pins.append(PinnedWheel(match["name"], match["version"], match["sha256"]))
    return pins


def project_root(ctx: BuildContext) -> Path:
    """Set-up outputs (node_modules/, .cache/) and the pins that drive them live side by side in the project."""
    return ctx.node_modules.parent


def pinned_wheel_file(cache: Path, pin: PinnedWheel) -> Path:
    """The downloaded wheel of `pin`, checked against its pinned sha256."""
    candidates = sorted(cache.glob(f"{escape_name(pin.name)}-{pin.version}-*.whl")) if cache.is_dir() else []
    if not candidates:
        raise BuildError(
            f"wheel {pin.name}=={pin.version} for Pyodide not found in {cache}: run `make setup` to download it"
        )
    for candidate in candidates:
        if hashlib.sha256(candidate.read_bytes()).hexdigest() == pin.sha256:
            return candidate
    raise BuildError(
        f"{candidates[0]} does not match the sha256 pinned in {PINS_FILE}: delete it and run `make setup`"
    )


def top_level_imports(wheel: bytes) -> list[str]:
    """The top-level packages and modules a wheel installs (what Pyodide's lock calls `imports`)."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        names = set()
        for entry in archive.namelist():
            first, _, rest = entry.partition("/")
            if first.endswith((".dist-info", ".data")):
                continue
            if rest:
                names.add(first)
            elif first.endswith(".py"):
                names.add(first.removesuffix(".py"))
    return sorted(names)


def tools_wheel(dependencies: list[str]) -> Wheel:
    """The project's own wheel: the `satchel` package root and the tool servers, as they are in this checkout."""
    source_root = Path(satchel.__file__).resolve().parent.parent
    files: dict[str, bytes] = {}
    for relative in TOOLS_SOURCES:
        path = source_root / relative
        sources = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for source in sources:
            files[source.relative_to(source_root).as_posix()] = source.read_bytes()
    return build_wheel(
        TOOLS_DISTRIBUTION,
        satchel.__version__,
        files,
        summary="Satchel's pure-Python MCP tool servers, packaged for Pyodide",
        requires_python=">=3.11",
        requires_dist=[f'{name}; sys_platform == "emscripten"' for name in dependencies],
    )


def lock_entry(name: str, version: str, file_name: str, data: bytes, depends: list[str]) -> dict[str, Any]:
    return {
        "name": name,
        "version": version,
        "file_name": file_name,
        "install_dir": "site",
        "sha256": sha256_hex(data),
        "package_type": "package",
        "imports": top_level_imports(data),
        "depends": depends,
        "unvendored_tests": False,
        "tool": {},
    }


def add_pyodide_packages(ctx: BuildContext) -> None:
    root = project_root(ctx)
    npm_lock = json.loads((pyodide_package_dir(ctx) / "pyodide-lock.json").read_text())
    pins_path = root / PINS_FILE
    if not pins_path.is_file():
        raise BuildError(f"{pins_path} not found: the build needs the pins of the wheels Pyodide serves")

    packages: dict[str, dict[str, Any]] = {}
    for pin in read_pins(pins_path):
        source = pinned_wheel_file(root / WHEEL_CACHE, pin)
        data = source.read_bytes()
        ctx.add(f"{PYODIDE_DIR}/{source.name}", data)
        packages[canonical_name(pin.name)] = lock_entry(
            canonical_name(pin.name), pin.version, source.name, data, []
        )

    dependencies = sorted(packages)
    wheel = tools_wheel(dependencies)
    ctx.add(f"{PYODIDE_DIR}/{wheel.filename}", wheel.data)
    packages[TOOLS_DISTRIBUTION] = lock_entry(
        TOOLS_DISTRIBUTION, satchel.__version__, wheel.filename, wheel.data, dependencies
    )

    lock = {"info": npm_lock["info"], "packages": dict(sorted(packages.items()))}
    ctx.add(LOCK_FILE, (json.dumps(lock, indent=2, sort_keys=True) + "\n").encode())
