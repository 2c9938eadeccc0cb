"""`satchel wasm` itself: a missing tool is named with the Debian package that provides it, the cache key decides
when a build is skipped, and a second run with nothing changed does no work."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from satchel.cli import main
from satchel.wasm import WasmError
from satchel.wasm.cache import build_key, is_fresh, record, tree_digest
from satchel.wasm.toolchain import find_toolchain


def test_missing_emscripten_is_named_with_its_debian_package(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for tool in ("cmake", "ninja"):  # present, so emcc is the first one missing
        (tmp_path / tool).symlink_to(f"/usr/bin/{tool}")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(WasmError) as failure:
        find_toolchain(native=False, wasm=True)
    assert str(failure.value) == (
        "emcc not found: install the Debian package 'emscripten' (apt-get install -y emscripten, "
        "or run scripts/setup.sh)"
    )


def test_cli_reports_a_missing_tool_in_one_line_and_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    result = CliRunner().invoke(main, ["wasm", "--native"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: cmake not found: install the Debian package 'cmake' "
        "(apt-get install -y cmake, or run scripts/setup.sh)\n"
    )


def test_tree_digest_follows_names_and_bytes_only(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.cpp").write_text("int x;")
    (tmp_path / "b.cpp").write_text("int b;")
    before = tree_digest(tmp_path)
    os.utime(tmp_path / "b.cpp", (0, 0))
    assert tree_digest(tmp_path) == before
    (tmp_path / "b.cpp").write_text("int c;")
    assert tree_digest(tmp_path) != before


def test_an_output_is_fresh_only_for_the_key_it_was_built_from(tmp_path: Path) -> None:
    output = tmp_path / "server.wasm"
    key = build_key(["sdist digest", "sources digest", "-DGGML_NATIVE=OFF", "emcc 3.1.6"])
    assert not is_fresh(output, key)
    output.write_bytes(b"\0asm")
    record(output, key)
    assert is_fresh(output, key)
    assert not is_fresh(
        output, build_key(["sdist digest", "sources digest", "-DGGML_NATIVE=ON", "emcc 3.1.6"])
    )
    output.unlink()
    assert not is_fresh(output, key)


def test_a_second_build_with_nothing_changed_compiles_nothing(native_servers: dict[str, Path]) -> None:
    before = {server: path.stat().st_mtime_ns for server, path in native_servers.items()}
    result = CliRunner().invoke(main, ["wasm", "--native"])
    assert result.exit_code == 0, result.output
    assert result.output.endswith("(0 built, 2 up to date)\n")
    assert "building in" not in result.output
    assert {server: path.stat().st_mtime_ns for server, path in native_servers.items()} == before
