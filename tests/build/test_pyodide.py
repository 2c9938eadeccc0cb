"""`satchel build` ships the Python tool server to the browser: Pyodide runtime, wheels, lock file, registry entry."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

import satchel
from satchel.build import BuildError, build_app
from satchel.build.context import BuildContext
from satchel.build.pyodide_packages import PINS_FILE, WHEEL_CACHE, add_pyodide_packages, read_pins
from satchel.build.pyodide_runtime import RUNTIME_FILES
from satchel.build.wheel import build_wheel, record_hash
from satchel.digests import file_sha256
from satchel.tools import default_server
from tests.conftest import NODE_MODULES, REPO
from tests.support.served_app import precache_of

PYODIDE = "vendor/pyodide"
WHEEL_NAME = f"satchel_tools-{satchel.__version__}-py3-none-any.whl"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site") / "dist"
    build_app(REPO / "app", out, node_modules=NODE_MODULES)
    return out


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def test_runtime_files_are_copied_unchanged_from_the_npm_package(dist: Path) -> None:
    for name in RUNTIME_FILES:
        assert (dist / PYODIDE / name).read_bytes() == (NODE_MODULES / "pyodide" / name).read_bytes()


def test_tools_wheel_is_byte_identical_across_builds(dist: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    build_app(REPO / "app", again, node_modules=NODE_MODULES)
    assert (again / PYODIDE / WHEEL_NAME).read_bytes() == (dist / PYODIDE / WHEEL_NAME).read_bytes()
    # and rebuilding into the same folder writes nothing at all
    assert build_app(REPO / "app", again, node_modules=NODE_MODULES).written == ()


def test_wheel_bytes_do_not_depend_on_the_order_files_are_given() -> None:
    files = {"pkg/__init__.py": b"", "pkg/a.py": b"A = 1\n", "pkg/sub/b.py": b"B = 2\n"}
    forward = build_wheel("my-pkg", "1.0", files, summary="s", requires_python=">=3.11")
    backward = build_wheel(
        "my-pkg", "1.0", dict(reversed(files.items())), summary="s", requires_python=">=3.11"
    )
    assert forward == backward
    assert forward.filename == "my_pkg-1.0-py3-none-any.whl"


def test_tools_wheel_holds_the_tool_sources_and_a_correct_record(dist: Path) -> None:
    with zipfile.ZipFile(dist / PYODIDE / WHEEL_NAME) as wheel:
        names = wheel.namelist()
        dist_info = f"satchel_tools-{satchel.__version__}.dist-info"
        sources = {p.relative_to(REPO).as_posix() for p in (REPO / "satchel" / "tools").rglob("*.py")} | {
            "satchel/__init__.py"
        }
        assert set(names) == sources | {f"{dist_info}/{n}" for n in ("METADATA", "WHEEL", "RECORD")}
        assert names[-1] == f"{dist_info}/RECORD"
        for name in sources:
            assert wheel.read(name) == (REPO / name).read_bytes()
        record = [line.split(",") for line in wheel.read(f"{dist_info}/RECORD").decode().splitlines()]
        assert {row[0] for row in record} == set(names)
        for path, digest, size in record:
            if path.endswith("RECORD"):
                assert (digest, size) == ("", "")
            else:
                data = wheel.read(path)
                assert (digest, int(size)) == (record_hash(data), len(data))
        metadata = wheel.read(f"{dist_info}/METADATA").decode()
        assert "Name: satchel-tools\n" in metadata and f"Version: {satchel.__version__}\n" in metadata
        assert "Root-Is-Purelib: true" in wheel.read(f"{dist_info}/WHEEL").decode()
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in wheel.infolist())


def test_tools_wheel_installs_and_serves_tools_list_with_the_host_python(dist: Path, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(dist / PYODIDE / WHEEL_NAME) as wheel:
        wheel.extractall(site)
    script = (
        "import json, satchel.tools\n"
        "print(json.dumps({'file': satchel.tools.__file__, 'out': satchel.tools.default_server().handle("
        "{'jsonrpc': '2.0', 'id': 1, 'method': 'tools/list'})}))\n"
    )
    # -I: ignore the environment and the checkout, so only the wheel's copy of satchel can be imported
    proc = subprocess.run(
        [sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(site)!r})\n{script}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    answer = json.loads(proc.stdout)
    assert Path(answer["file"]).is_relative_to(site)
    names = [t["name"] for t in answer["out"][0]["result"]["tools"]]
    assert names == [t.name for t in default_server().tools]
    assert {"redact", "summarize_extractive", "csv_query", "date_math"} <= set(names)


def test_lock_file_lists_exactly_the_served_wheels_with_their_sha256(dist: Path) -> None:
    lock = read_json(dist / PYODIDE / "pyodide-lock.json")
    assert lock["info"] == read_json(NODE_MODULES / "pyodide" / "pyodide-lock.json")["info"]
    served = {p.name for p in (dist / PYODIDE).glob("*.whl")}
    assert {entry["file_name"] for entry in lock["packages"].values()} == served
    assert WHEEL_NAME in served and any(name.startswith("tzdata-") for name in served)
    for key, entry in lock["packages"].items():
        assert key == entry["name"]
        assert entry["sha256"] == file_sha256(dist / PYODIDE / entry["file_name"])
        assert set(entry["depends"]) <= set(lock["packages"])
    tools = lock["packages"]["satchel-tools"]
    assert tools["imports"] == ["satchel"] and tools["depends"] == ["tzdata"]
    assert lock["packages"]["tzdata"]["imports"] == ["tzdata"]


def test_served_tzdata_wheel_is_the_pinned_one(dist: Path) -> None:
    (pin,) = [p for p in read_pins(REPO / PINS_FILE) if p.name == "tzdata"]
    assert file_sha256(dist / PYODIDE / f"tzdata-{pin.version}-py2.py3-none-any.whl") == pin.sha256


def test_registry_lists_the_tools_server_with_every_file_it_loads(dist: Path) -> None:
    entries = read_json(dist / "registry.json")["servers"]
    (server,) = [e["server"] for e in entries if e["server"]["name"] == "io.satchel/tools"]
    assert server["version"] == satchel.__version__
    local = server["_meta"]["io.satchel/local"]
    assert local["worker"] == "pyodide-server"
    pyodide_files = {"/" + p.relative_to(dist).as_posix() for p in (dist / PYODIDE).iterdir()}
    assert {f["url"] for f in local["files"]} == pyodide_files
    for file in local["files"]:
        path = dist / file["url"].lstrip("/")
        assert (file["sha256"], file["size"]) == (file_sha256(path), path.stat().st_size)
    _, manifest = precache_of(dist)
    precached = {str(e["url"]): e["sha256"] for e in manifest}
    assert all(precached[f["url"]] == f["sha256"] for f in local["files"])
    assert precached["/workers/pyodide-server.js"]


def packages_context(tmp_path: Path) -> BuildContext:
    """A project with the real npm pyodide package and pins file, but nothing downloaded yet."""
    modules = tmp_path / "node_modules"
    modules.mkdir()
    (modules / "pyodide").symlink_to(NODE_MODULES / "pyodide")
    shutil.copy(REPO / PINS_FILE, tmp_path / PINS_FILE)
    return BuildContext(app_dir=REPO / "app", out_dir=tmp_path / "dist", node_modules=modules)


def test_missing_tzdata_wheel_fails_the_build_saying_to_run_make_setup(tmp_path: Path) -> None:
    ctx = packages_context(tmp_path)
    with pytest.raises(BuildError, match=r"wheel tzdata==\S+ for Pyodide not found in .*run `make setup`"):
        add_pyodide_packages(ctx)
    assert ctx.files == {}


def test_wheel_that_does_not_match_its_pin_fails_the_build(tmp_path: Path) -> None:
    ctx = packages_context(tmp_path)
    (pin,) = read_pins(tmp_path / PINS_FILE)
    cache = tmp_path / WHEEL_CACHE
    cache.mkdir(parents=True)
    (cache / f"tzdata-{pin.version}-py2.py3-none-any.whl").write_bytes(b"not the pinned wheel")
    with pytest.raises(BuildError, match=r"does not match the sha256 pinned in requirements-pyodide\.lock"):
        add_pyodide_packages(ctx)


def test_malformed_pin_names_the_line(tmp_path: Path) -> None:
    pins = tmp_path / "pins.lock"
    pins.write_text("# comment\n\ntzdata>=2025\n")
    with pytest.raises(BuildError, match=r"pins.lock:3: expected `name==version --hash=sha256:"):
        read_pins(pins)
