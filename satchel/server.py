"""`satchel serve`: the Starlette app that serves the built site, and the uvicorn runner around it.

Static files get the headers the PWA depends on (cross-origin isolation, CSP, MIME types, no caching of the
service worker); Range requests come from Starlette's FileResponse. With `--reload`, the app folder is watched and
rebuilt into the served folder on every change, so a browser sees the new build through its normal update flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections.abc import AsyncIterator
from pathlib import Path

import click
import uvicorn
import watchfiles
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satchel.security import MIME_TYPES, SECURITY_HEADERS, cache_control_for

log = logging.getLogger("satchel.server")

for _suffix, _type in MIME_TYPES.items():
    mimetypes.add_type(_type, _suffix)


class ServeError(Exception):
    """The server cannot start; the message says why and what to do."""


class SiteHeaders:
    """ASGI middleware adding the security and cache headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", cache_control_for(path))
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    dist_dir: Path, *, reload_app: Path | None = None, node_modules: Path | None = None
) -> Starlette:
    """The ASGI app serving `dist_dir`; with `reload_app`, that folder is rebuilt into it on change."""
    dist_dir = dist_dir.resolve()
    if reload_app is None and not (dist_dir / "index.html").is_file():
        raise ServeError(f"no built app in {dist_dir}: run `satchel build` first (or `make serve`)")

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if reload_app is not None:
                task = asyncio.create_task(_rebuild_on_change(reload_app, dist_dir, node_modules))
                stack.callback(task.cancel)
            yield

    dist_dir.mkdir(parents=True, exist_ok=True)
    routes = [Mount("/", app=StaticFiles(directory=dist_dir, html=True, check_dir=False), name="site")]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SiteHeaders)
    return app


def _source_fingerprint(app_dir: Path) -> tuple[tuple[str, int, int], ...]:
    stats = ((p, p.stat()) for p in app_dir.rglob("*") if p.is_file())
    return tuple(sorted((str(p), st.st_mtime_ns, st.st_size) for p, st in stats))


async def _rebuild_on_change(app_dir: Path, dist_dir: Path, node_modules: Path | None) -> None:
    from satchel.build import BuildError, build_app

    def rebuild() -> None:
        try:
            result = build_app(app_dir, dist_dir, node_modules=node_modules)
        except BuildError as exc:
            click.echo(f"rebuild failed (still serving the last good build): {exc}", err=True)
            return
        if result.written or result.removed:
            click.echo(
                f"rebuilt {dist_dir} (build {result.build_hash[:12]}): {len(result.written)} written, "
                f"{len(result.removed)} removed"
            )

    built = await asyncio.to_thread(_source_fingerprint, app_dir)
    await asyncio.to_thread(rebuild)
    # The watcher also wakes up every second with no changes: comparing fingerprints then catches an edit made
    # before the watcher was listening, which an event-only loop would miss.
    async for _changes in watchfiles.awatch(app_dir, yield_on_timeout=True, rust_timeout=1000):
        fingerprint = await asyncio.to_thread(_source_fingerprint, app_dir)
        if fingerprint != built:
            built = fingerprint
            await asyncio.to_thread(rebuild)


def run_server(dist_dir: Path, *, host: str, port: int, reload_app: Path | None = None) -> None:
    """Serve until interrupted, printing the URL to open."""
    if reload_app is not None and not reload_app.is_dir():
        raise ServeError(f"--reload: app folder not found: {reload_app}")
    app = create_app(dist_dir, reload_app=reload_app)
    shown_host = f"[{host}]" if ":" in host else host
    click.echo(f"Satchel is served at http://{shown_host}:{port}/ (Ctrl+C to stop)", err=False)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind; it has logged the system's reason
        server.started = False
    if not server.started:
        raise ServeError(f"cannot listen on {host}:{port} (is another server using that port?)")
