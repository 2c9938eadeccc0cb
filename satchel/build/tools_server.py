"""Build step: list the Python tool server (`satchel/tools/` on Pyodide) among the site's local MCP servers.

Its registry document names the worker that hosts it and pins every file that worker loads (the Pyodide runtime,
the wheels and the lock file) by sha256 and size, taken from the files this build produced.
"""

from __future__ import annotations

import satchel
from satchel.build.context import BuildContext, BuildError, sha256_hex
from satchel.build.pyodide_runtime import PYODIDE_DIR
from satchel.registry import LocalFile, local_server

SERVER_NAME = "io.satchel/tools"
WORKER = "pyodide-server"


def register_tools_server(ctx: BuildContext) -> None:
    prefix = f"{PYODIDE_DIR}/"
    files = [
        LocalFile(url="/" + path, sha256=sha256_hex(data), size=len(data))
        for path, data in sorted(ctx.files.items())
        if path.startswith(prefix)
    ]
    if not any(f.url.endswith(".whl") for f in files):
        raise BuildError(
            f"no wheels under {prefix}: the Pyodide steps must run before {register_tools_server.__name__}"
        )
    ctx.local_servers.append(
        local_server(
            name=SERVER_NAME,
            title="Local tools",
            description="Redact, summarise, query CSV, date maths, JSON patch and text stats, on this device",
            version=satchel.__version__,
            worker=WORKER,
            files=files,
        )
    )
