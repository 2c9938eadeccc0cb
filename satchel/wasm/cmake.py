"""Runs one CMake configure + ninja build, turning ninja's `[n/m]` lines into a few progress lines."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from satchel.wasm.errors import WasmError

STEP = re.compile(r"^\[(\d+)/(\d+)\]")
PROGRESS_SECONDS = 15.0
"""At most one progress line per this many seconds (plus the last step)."""


def _run_logged(
    command: Sequence[str], log_file: Path, env: dict[str, str], on_line: Callable[[str], None]
) -> int:
    with (
        log_file.open("a") as log,
        subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            errors="replace",
        ) as process,
    ):
        assert process.stdout is not None
        log.write("$ " + " ".join(command) + "\n")
        for line in process.stdout:
            log.write(line)
            on_line(line.rstrip("\n"))
        return process.wait()


def _failure(what: str, log_file: Path) -> WasmError:
    lines = log_file.read_text(errors="replace").splitlines()
    first_error = next((line.strip() for line in lines if "error:" in line or "Error" in line), None)
    detail = f": {first_error[:300]}" if first_error else ""
    return WasmError(f"{what} failed{detail} (full log: {log_file})")


def configure_and_build(
    *,
    label: str,
    configure: Sequence[str],
    build_dir: Path,
    target: str,
    jobs: int,
    env: dict[str, str],
    log: Callable[[str], None],
) -> None:
    """Configure (when the build folder has no ninja file yet, or always: CMake is quick) and build `target`."""
    build_dir.mkdir(parents=True, exist_ok=True)
    log_file = build_dir / "satchel-build.log"
    log_file.write_text("")
    if _run_logged(configure, log_file, env, lambda _line: None) != 0:
        raise _failure(f"configuring {label}", log_file)

    last_report = time.monotonic()

    def report(line: str) -> None:
        nonlocal last_report
        match = STEP.match(line)
        if not match:
            return
        done, total = int(match.group(1)), int(match.group(2))
        now = time.monotonic()
        if done == total or now - last_report >= PROGRESS_SECONDS:
            last_report = now
            log(f"  {label}: {done}/{total} steps")

    command = ["ninja", "-C", str(build_dir), f"-j{jobs}", target]
    if _run_logged(command, log_file, env, report) != 0:
        raise _failure(f"building {label}", log_file)
