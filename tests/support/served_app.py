"""The app as browser tests and benchmarks get it: a private copy of `app/` built with `satchel build`, and a
`satchel serve` process that can be stopped (cutting the network) and restarted on the same origin."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from satchel.build import BuildResult, build_app
from tests.support.ports import free_port, stop_process, wait_until_listening

REPO = Path(__file__).resolve().parents[2]


class BuiltSite:
    """A copy of `app/` that a test may edit, built into its own `dist/`."""

    def __init__(self, root: Path) -> None:
        self.app_dir = root / "app"
        self.dist_dir = root / "dist"
        shutil.copytree(REPO / "app", self.app_dir)

    def build(self) -> BuildResult:
        return build_app(self.app_dir, self.dist_dir, node_modules=REPO / "node_modules")

    def edit(self, relative: str, transform: Callable[[str], str]) -> None:
        path = self.app_dir / relative
        path.write_text(transform(path.read_text()))


class ServerProcess:
    """`satchel serve` in its own process, so a test can cut the network by stopping it."""

    def __init__(
        self,
        dist_dir: Path,
        log_path: Path,
        db_path: Path,
        *,
        anonymous_workspace: bool,
        allowed_hosts: Sequence[str] = (),
        upstreams: Sequence[str] = (),
        extra_args: Sequence[str] = (),
    ) -> None:
        self.dist_dir = dist_dir
        self.db_path = db_path
        #: Whether anyone may use the workspace without signing in (`--workspace-anonymous`), or users sign in.
        self.anonymous_workspace = anonymous_workspace
        #: Host names the workspace also accepts (a proxy's, such as a kiosk's nginx, which passes its own on).
        self.allowed_hosts = tuple(allowed_hosts)
        #: Registries whose servers `satchel serve` merges into its registry API (`--upstream`).
        self.upstreams = tuple(upstreams)
        #: Any other `satchel serve` options (the relay's, the OAuth client id).
        self.extra_args = tuple(extra_args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self._proc is None, "server already running"
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "satchel",
                "serve",
                "--dist",
                str(self.dist_dir),
                "--port",
                str(self.port),
                "--db",
                str(self.db_path),
                *(["--workspace-anonymous"] if self.anonymous_workspace else []),
                *(arg for host in self.allowed_hosts for arg in ("--allowed-host", host)),
                *(arg for url in self.upstreams for arg in ("--upstream", url)),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        wait_until_listening(self._proc, self.port, "satchel serve", self.log_path)

    def stop(self) -> None:
        if self._proc is None:
            return
        stop_process(self._proc, signal.SIGINT)
        self._proc = None


def precache_of(out: Path) -> tuple[str, list[dict[str, object]]]:
    """The build hash and manifest embedded in the built service worker."""
    match = re.search(
        r"new Precache\((\"[0-9a-f]{64}\"), (\[.*?\]), \"/index.html\", null\)", (out / "sw.js").read_text()
    )
    assert match, "sw.js does not construct the precache from a manifest"
    return json.loads(match.group(1)), json.loads(match.group(2))
