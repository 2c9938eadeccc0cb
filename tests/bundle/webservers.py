"""Real web servers for bundle tests: nginx and Caddy started on a free port with the bundle's own generated config.

No Satchel Python process serves anything: what a test sees is what a kiosk's nginx (or Caddy) would send.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from satchel.bundle import BundleSpec
from satchel.bundle.webserver import caddyfile, nginx_conf
from tests.support.ports import free_port, stop_process, wait_until_listening
from tests.support.served_app import ServerProcess

NGINX = "/usr/sbin/nginx"
CADDY = "/usr/bin/caddy"


class WebServer:
    """nginx or Caddy serving an unpacked bundle (made with `install_dir` = `bundle_dir`, listening on `port`)."""

    def __init__(self, kind: str, bundle_dir: Path, port: int, work: Path) -> None:
        self.kind = kind
        self.bundle_dir = bundle_dir
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.work = work
        self.log_path = work / f"{kind}.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        if self.kind == "nginx":
            runtime = self.work / "run"
            runtime.mkdir(parents=True, exist_ok=True)
            command = [
                NGINX,
                "-p",
                f"{runtime}/",
                "-c",
                str(self.bundle_dir / "server/nginx.conf"),
                "-e",
                "stderr",
            ]
            if (
                os.geteuid() == 0
            ):  # as root, workers would drop to `nobody`, who cannot read a private tmp folder
                command += ["-g", "user root;"]
            return command
        return [CADDY, "run", "--config", str(self.bundle_dir / "server/Caddyfile"), "--adapter", "caddyfile"]

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.work), "XDG_DATA_HOME": str(self.work / "data")}
        env["XDG_CONFIG_HOME"] = str(self.work / "config")
        with self.log_path.open("ab") as log:
            self._proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, env=env)
        wait_until_listening(self._proc, self.port, self.kind, self.log_path)

    def stop(self) -> None:
        if self._proc is None:
            return
        stop_process(self._proc, signal.SIGTERM)
        self._proc = None


def check_config(kind: str, root: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """The server's own check (`nginx -t`, `caddy validate`) of the configs in `root/server/`."""
    work.mkdir(parents=True, exist_ok=True)
    if kind == "nginx":
        command = [NGINX, "-t", "-p", f"{work}/", "-c", str(root / "server/nginx.conf"), "-e", "stderr"]
    else:
        command = [CADDY, "validate", "--config", str(root / "server/Caddyfile"), "--adapter", "caddyfile"]
    env = {**os.environ, "HOME": str(work), "XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work)}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def available(kind: str) -> bool:
    return shutil.which(NGINX if kind == "nginx" else CADDY) is not None


class KioskDevice:
    """A device's install folder served by nginx at one fixed URL, switched between unpacked bundles the way an admin
    updates a kiosk: `install_dir` is a link to the bundle in use, and every bundle is made for that path."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.listen = f"127.0.0.1:{self.port}"
        self.install_dir = root / "installed"
        self.server = WebServer("nginx", self.install_dir, self.port, root / "nginx")

    def install(self, bundle_dir: Path) -> None:
        """Point the install folder at `bundle_dir` (atomically, as `ln -sfn` would)."""
        link = self.root / "installed.new"
        self.root.mkdir(parents=True, exist_ok=True)
        link.unlink(missing_ok=True)
        link.symlink_to(bundle_dir, target_is_directory=True)
        os.replace(link, self.install_dir)

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def workspace(self, folder: Path, *, upstreams: Sequence[str] = ()) -> ServerProcess:
        """The `satchel serve` that the device's nginx proxies `/mcp/` and `/v0.1/` to (not started), accepting the
        device's Host; its log and notes database go in `folder`."""
        return ServerProcess(
            self.install_dir / "dist",
            folder / "workspace.log",
            folder / "workspace.db",
            anonymous_workspace=True,
            allowed_hosts=[f"localhost:{self.port}"],
            upstreams=upstreams,
        )


def write_tiny_site(root: Path, spec: BundleSpec, site: Sequence[str]) -> Path:
    """The bundle's nginx and Caddy configs for `spec`, over a site of placeholder `site` files in `root`: what the
    proxy and relay tests need, without building the app."""
    (root / "server").mkdir(parents=True)
    (root / "dist").mkdir()
    for name in site:
        (root / "dist" / name).write_text(f"<!-- {name} -->\n")
    (root / "server" / "nginx.conf").write_text(nginx_conf(spec, site))
    (root / "server" / "Caddyfile").write_text(caddyfile(spec, site))
    return root
