"""The `satchel` CLI: exit codes and one-line messages that say what to do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from satchel.cli import main
from tests.conftest import NODE_MODULES


def test_build_reports_what_it_wrote(app_copy: Path, tmp_path: Path) -> None:
    args = [
        "build",
        "--app",
        str(app_copy),
        "--out",
        str(tmp_path / "dist"),
        "--node-modules",
        str(NODE_MODULES),
    ]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "file(s) written, 0 unchanged, 0 removed" in first.output
    second = CliRunner().invoke(main, args)
    assert second.exit_code == 0 and " 0 file(s) written" in second.output


def test_build_without_app_folder_fails_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["build", "--app", str(tmp_path / "nope"), "--out", str(tmp_path / "d")]
    )
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: app folder not found: {tmp_path / 'nope'} (run from the repository root or pass --app)"
    ]


def test_build_with_broken_template_fails_naming_it(app_copy: Path, tmp_path: Path) -> None:
    (app_copy / "manifest.webmanifest.j2").write_text("{% if %}")
    result = CliRunner().invoke(
        main,
        ["build", "--app", str(app_copy), "--out", str(tmp_path / "d"), "--node-modules", str(NODE_MODULES)],
    )
    assert result.exit_code == 1
    assert "Error: template manifest.webmanifest.j2, line 1" in result.output


def test_serve_without_build_fails_with_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", "--dist", str(tmp_path / "dist"), "--port", "0"])
    assert result.exit_code == 1
    assert "run `satchel build` first" in result.output


def test_serve_on_a_busy_port_fails_clearly(app_copy: Path, tmp_path: Path) -> None:
    import socket

    CliRunner().invoke(
        main,
        ["build", "--app", str(app_copy), "--out", str(tmp_path / "d"), "--node-modules", str(NODE_MODULES)],
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "satchel", "serve", "--dist", str(tmp_path / "d"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            # Its default workspace database is in the user's data folder: never this user's real one.
            env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")},
        )
    assert proc.returncode == 1
    assert f"Error: cannot listen on 127.0.0.1:{port}" in proc.stderr
