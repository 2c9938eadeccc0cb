"""`satchel serve`: the Starlette app that serves the built site, and the uvicorn runner around it.

Four things on one origin: the static site (with the headers the PWA depends on: cross-origin isolation, CSP,
MIME types, no caching of the service worker; Range requests come from Starlette's FileResponse), the registry API
(`/v0.1/servers`: the local servers of the build, the workspace, and any upstream registries), the workspace MCP
server (`/mcp/workspace`, with its OAuth sign-in: satchel/workspace/authorization.py), and the relay to remote MCP
servers that send no CORS headers (`/relay`, satchel/relay.py). With `--reload`, the app folder is watched and
rebuilt into the served folder on every change, so a browser sees the new build through its normal update flow.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import ipaddress
import json
import logging
import mimetypes
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click
import uvicorn
import watchfiles
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from satchel import __version__
from satchel.oauth_client import client_metadata_route
from satchel.policy import PolicyError
from satchel.registry import ServerJsonError, registry_routes, remote_server
from satchel.relay import Relay, RelayConfig
from satchel.security import MIME_TYPES, cache_control_for
from satchel.served_policy import ServedPolicy
from satchel.workspace import create_workspace
from satchel.workspace.server import DEFAULT_PATH as WORKSPACE_PATH
from satchel.workspace.server import WORKSPACE_NAME

if TYPE_CHECKING:
    from satchel.build.inputs import BuildInputs

log = logging.getLogger("satchel.server")

for _suffix, _type in MIME_TYPES.items():
    mimetypes.add_type(_type, _suffix)


class ServeError(Exception):
    """The server cannot start; the message says why and what to do."""


class SiteHeaders:
    """ASGI middleware adding the security headers (those of the served policy) and cache headers to every HTTP
    response."""

    def __init__(self, app: ASGIApp, security_headers: Callable[[], Mapping[str, str]]) -> None:
        self.app = app
        self.security_headers = security_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.security_headers().items():
                    headers.setdefault(name, value)
                headers.setdefault("Cache-Control", cache_control_for(path))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SiteFiles(StaticFiles):
    """The built site. Hidden files are not part of it: the build's marker records local paths (see
    satchel/build/inputs.py), which are nobody else's business."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if any(part.startswith(".") for part in Path(path).parts):
            raise HTTPException(status_code=404)
        return await super().get_response(path, scope)


def workspace_document() -> dict[str, Any]:
    return remote_server(
        WORKSPACE_NAME,
        "Notes and results from your devices, synced when they are online.",
        __version__,
        url=WORKSPACE_PATH,
        title="Workspace",
    )


def bundled_servers(dist_dir: Path, *, with_workspace: bool) -> list[dict[str, Any]]:
    """The build's local servers (its registry snapshot) and, when served, the workspace."""
    snapshot = dist_dir / "registry.json"
    docs: list[dict[str, Any]] = []
    if snapshot.is_file():
        try:
            docs = [entry["server"] for entry in json.loads(snapshot.read_text())["servers"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise ServeError(
                f"{snapshot} is not a registry snapshot ({exc}): rebuild with `satchel build`"
            ) from exc
    if with_workspace:
        docs.append(workspace_document())
    return docs


def default_allowed_hosts(host: str, port: int) -> list[str]:
    """Host header values the workspace accepts: the address served on, and the loopback names."""
    names = {host, "127.0.0.1", "localhost", "[::1]"} - {"0.0.0.0", "::"}
    return sorted(
        f"[{name}]:{port}" if ":" in name and not name.startswith("[") else f"{name}:{port}" for name in names
    )


def is_loopback(host: str) -> bool:
    """Whether `host` (a --host value) is this machine only: `localhost` or a loopback address."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def workspace_public_url(host: str, port: int, *, tls: bool, public_url: str | None) -> str:
    """The workspace's issuer: the site's origin as devices reach it. `public_url` when given (a proxy's or a LAN
    name's origin), else `--host`/`--port`. Stable: it never depends on a request's Host header. Plain http only
    for a loopback name, since OAuth 2.1 sends passwords and tokens only over TLS."""
    if public_url is not None:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise ServeError(
                f"--public-url {public_url!r} is not an origin: give scheme://host[:port] with no path, "
                "e.g. https://satchel.example.org"
            )
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ServeError(f"--public-url {public_url!r} must not carry credentials, a query or a fragment")
        origin = f"{parts.scheme}://{parts.netloc}".lower()
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ServeError(
                f"--public-url {public_url!r}: workspace sign-in needs https on any name but localhost "
                "(serve with --certfile/--keyfile, or behind a TLS proxy)"
            )
        return origin
    if host in ("0.0.0.0", "::", ""):
        raise ServeError(
            f"--host {host or repr(host)} listens on every address, so the workspace cannot tell at which URL devices "
            "sign in: give it with --public-url https://NAME[:PORT]"
        )
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    origin = f"{'https' if tls else 'http'}://{shown}:{port}"
    if not tls and not is_loopback(host):
        raise ServeError(
            f"the workspace at {origin} would take passwords over plain http: serve with --certfile/--keyfile, or "
            "behind a TLS proxy with --public-url https://NAME"
        )
    return origin


def create_app(
    dist_dir: Path,
    *,
    reload: BuildInputs | None = None,
    db_path: Path | None = None,
    workspace_url: str | None = None,
    workspace_anonymous: bool = False,
    upstreams: Sequence[str] = (),
    allowed_hosts: Sequence[str] = ("127.0.0.1:*", "localhost:*"),
    oauth_client_id: str | None = None,
    relay: RelayConfig | None = None,
) -> Starlette:
    """The ASGI app serving `dist_dir`, the registry API, (with `db_path`) the workspace and (with `relay`) the
    relay. The workspace signs users in at `workspace_url` (its public origin, see `workspace_public_url`), or with
    `workspace_anonymous` lets anyone in as the local user (the caller checks that it listens on loopback only).

    With `reload`, its app folder (and policy and model files) are watched and rebuilt into `dist_dir` on every
    change.
    """
    dist_dir = dist_dir.resolve()
    if reload is None and not (dist_dir / "index.html").is_file():
        raise ServeError(f"no built app in {dist_dir}: run `satchel build` first (or `make serve`)")
    served_policy = ServedPolicy(dist_dir)
    try:
        served_policy.check()
    except PolicyError as exc:
        raise ServeError(
            f"the site's policy cannot be enforced: {exc} (rebuild with `satchel build`)"
        ) from exc
    relay_endpoint = Relay(relay, policy=served_policy.current) if relay is not None else None
    workspace = None
    if db_path is not None:
        if not workspace_anonymous and workspace_url is None:
            raise ServeError("the workspace needs its public URL to sign users in, or to be anonymous")
        try:
            db_path.parent.mkdir(parents=True, exist_ok=True)
            workspace = create_workspace(
                db_path,
                allowed_hosts=allowed_hosts,
                public_url=None if workspace_anonymous else workspace_url,
                anonymous=workspace_anonymous,
                policy=served_policy.current,
            )
        except (OSError, ValueError) as exc:
            raise ServeError(f"cannot open the workspace database {db_path}: {exc}") from exc
    try:
        registry = registry_routes(bundled_servers(dist_dir, with_workspace=workspace is not None), upstreams)
    except (ServerJsonError, ValueError) as exc:
        raise ServeError(f"the registry cannot be served: {exc}") from exc

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if workspace is not None:
                await stack.enter_async_context(workspace.lifespan())
            if reload is not None:
                task = asyncio.create_task(_rebuild_on_change(reload, dist_dir))
                stack.callback(task.cancel)
            if relay_endpoint is not None:
                stack.push_async_callback(relay_endpoint.aclose)
            yield

    dist_dir.mkdir(parents=True, exist_ok=True)
    routes: list[BaseRoute] = [*registry, client_metadata_route(oauth_client_id)]
    if workspace is not None:
        routes.extend(workspace.routes)
    if relay_endpoint is not None:
        routes.append(relay_endpoint.route())
    routes.append(Mount("/", app=SiteFiles(directory=dist_dir, html=True, check_dir=False), name="site"))
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(SiteHeaders, security_headers=served_policy.headers)
    return app


def _source_fingerprint(inputs: BuildInputs) -> tuple[tuple[str, int, int], ...]:
    files = [p for p in inputs.app_dir.rglob("*") if p.is_file()] + inputs.watched_paths()
    stats = ((p, p.stat()) for p in files if p.exists())
    return tuple(sorted((str(p), st.st_mtime_ns, st.st_size) for p, st in stats))


async def _rebuild_on_change(inputs: BuildInputs, dist_dir: Path) -> None:
    from satchel.build import BuildError, build_from_inputs

    def rebuild() -> None:
        try:
            result = build_from_inputs(inputs, dist_dir)
        except BuildError as exc:
            click.echo(f"rebuild failed (still serving the last good build): {exc}", err=True)
            return
        if result.written or result.removed:
            click.echo(
                f"rebuilt {dist_dir} (build {result.build_hash[:12]}): {len(result.written)} written, "
                f"{len(result.removed)} removed"
            )

    built = await asyncio.to_thread(_source_fingerprint, inputs)
    await asyncio.to_thread(rebuild)
    watched = [inputs.app_dir, *(p for p in inputs.watched_paths() if p.exists())]
    # The watcher also wakes up every second with no changes: comparing fingerprints then catches an edit made
    # before the watcher was listening, which an event-only loop would miss.
    async for _changes in watchfiles.awatch(*watched, yield_on_timeout=True, rust_timeout=1000):
        fingerprint = await asyncio.to_thread(_source_fingerprint, inputs)
        if fingerprint != built:
            built = fingerprint
            await asyncio.to_thread(rebuild)


def reload_inputs(app_dir: Path, dist_dir: Path) -> BuildInputs:
    """What `serve --reload` rebuilds from: `app_dir` with the options of the last `satchel build` of `dist_dir`
    (policy, WASM servers and models), so the rebuilt site is the same kind of site."""
    from satchel.build import BuildInputs, recorded_inputs

    recorded = recorded_inputs(dist_dir)
    if recorded is None:
        return BuildInputs(app_dir=app_dir)
    return dataclasses.replace(recorded, app_dir=app_dir)


def run_server(
    dist_dir: Path,
    *,
    host: str,
    port: int,
    reload_app: Path | None = None,
    db_path: Path | None = None,
    workspace_anonymous: bool = False,
    public_url: str | None = None,
    upstreams: Sequence[str] = (),
    allowed_hosts: Sequence[str] = (),
    certfile: Path | None = None,
    keyfile: Path | None = None,
    oauth_client_id: str | None = None,
    relay: RelayConfig | None = None,
) -> None:
    """Serve until interrupted, printing the URL to open; over TLS with `certfile`/`keyfile` (checked by the CLI);
    with `relay`, the relay too. The workspace signs users in at `public_url` (default: from `host` and `port`), or,
    with `workspace_anonymous` and only on a loopback `host`, lets anyone on this machine in as the local user."""
    workspace_url = None
    if db_path is not None:
        if workspace_anonymous:
            if not is_loopback(host):
                raise ServeError(
                    f"--workspace-anonymous is only for a workspace on this machine, not on --host {host}: "
                    "drop it and sign in (see `satchel workspace users add`)"
                )
        else:
            workspace_url = workspace_public_url(host, port, tls=certfile is not None, public_url=public_url)
    reload = None
    if reload_app is not None:
        if not reload_app.is_dir():
            raise ServeError(f"--reload: app folder not found: {reload_app}")
        reload = reload_inputs(reload_app, dist_dir)
        if reload.options():
            click.echo(f"rebuilding with the options of the last build: {reload.options()}")
    hosts = [*default_allowed_hosts(host, port), *allowed_hosts]
    if workspace_url is not None and urlsplit(workspace_url).netloc not in hosts:
        hosts.append(urlsplit(workspace_url).netloc)
    app = create_app(
        dist_dir,
        reload=reload,
        db_path=db_path,
        workspace_url=workspace_url,
        workspace_anonymous=workspace_anonymous,
        upstreams=upstreams,
        allowed_hosts=hosts,
        oauth_client_id=oauth_client_id,
        relay=relay,
    )
    shown_host = f"[{host}]" if ":" in host else host
    scheme = "https" if certfile is not None else "http"
    click.echo(f"Satchel is served at {scheme}://{shown_host}:{port}/ (Ctrl+C to stop)")
    if db_path is not None:
        click.echo(f"workspace notes: {db_path}")
        if workspace_anonymous:
            click.echo("workspace: anonymous (anyone on this machine uses the local user's notes)")
        else:
            click.echo(
                f"workspace: users sign in at {workspace_url} (add them with `satchel workspace users add`)"
            )
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # Request lines are never logged: a relayed URL's query string may hold a token.
        access_log=False,
        lifespan="on",
        ssl_certfile=str(certfile) if certfile is not None else None,
        ssl_keyfile=str(keyfile) if keyfile is not None else None,
    )
    server = uvicorn.Server(config)
    try:
        server.run()
    except SystemExit:  # uvicorn exits when it cannot bind; it has logged the system's reason
        server.started = False
    if not server.started:
        raise ServeError(f"cannot listen on {host}:{port} (is another server using that port?)")
