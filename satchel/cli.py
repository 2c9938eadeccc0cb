"""The `satchel` command line: one subcommand per toolchain concern, errors as one clear line and a non-zero exit."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click

from satchel import __version__
from satchel.bundle.command import bundle as bundle_command
from satchel.digests import HashedFile
from satchel.models.commands import COMMANDS as MODEL_COMMANDS
from satchel.models.commands import models_dir_option
from satchel.models.tiny import make_tiny as make_tiny_command
from satchel.wasm.command import wasm as wasm_command
from satchel.workspace.command import default_db_path
from satchel.workspace.command import workspace as workspace_command

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8470


@click.group()
@click.version_option(__version__, prog_name="satchel")
def main() -> None:
    """Build, serve and package Satchel, the offline-first MCP client."""


@main.command()
@click.option(
    "--app",
    "app_dir",
    type=click.Path(path_type=Path),
    default=Path("app"),
    show_default=True,
    help="Source folder of the browser app.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder the static site is written to.",
)
@click.option(
    "--node-modules",
    type=click.Path(path_type=Path),
    default=None,
    help="node_modules folder with the browser dependencies (default: next to the app folder).",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Organisation policy (TOML): build a managed site that enforces it.",
)
@click.option(
    "--wasm-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder of the WASM servers built by `satchel wasm`, for --model (default: .cache/wasm/out/wasm).",
)
@click.option(
    "--model",
    "model_options",
    multiple=True,
    metavar="ID|SERVER=PATH",
    help="Ship the WASM server that runs this model (repeatable; the app fetches it when first needed): a "
    "catalogue id from the model store (e.g. whisper-tiny.en, smollm2-135m), or SERVER (whisper, llama)=FILE.",
)
@models_dir_option
def build(
    app_dir: Path,
    out_dir: Path,
    node_modules: Path | None,
    policy_file: Path | None,
    wasm_dir: Path | None,
    model_options: tuple[str, ...],
    models_dir: Path | None,
) -> None:
    """Render app/ into a static, precached dist/."""
    from satchel.build import BuildError, BuildInputs, build_from_inputs
    from satchel.wasm import DEFAULT_WASM_DIR

    models = _model_files(model_options, models_dir)
    if models and wasm_dir is None:
        wasm_dir = DEFAULT_WASM_DIR
    inputs = BuildInputs(
        app_dir=app_dir, node_modules=node_modules, policy_file=policy_file, wasm_dir=wasm_dir, models=models
    )
    try:
        result = build_from_inputs(inputs, out_dir)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"built {out_dir} (build {result.build_hash[:12]}): "
        f"{len(result.written)} file(s) written, {result.unchanged} unchanged, {len(result.removed)} removed"
    )


def _published_url(value: str | None) -> str | None:
    """`--oauth-client-id`: an absolute http(s) URL with a path (the document's own address)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path in ("", "/"):
        raise click.BadParameter(
            f"{value!r} is not where a document is published: give its absolute URL, "
            "e.g. https://satchel.example.org/oauth/client-metadata.json"
        )
    return value


def _model_files(options: tuple[str, ...], models_dir: Path | None) -> dict[str, HashedFile]:
    """The model file per WASM server for `--model` options, each hashed once, here: `SERVER=PATH` as given,
    catalogue ids through the model store (checked against the catalogue's sha256, server chosen by the model's
    task)."""
    from satchel.build import BuildError, hash_model
    from satchel.models.catalog import CatalogError, load_catalog
    from satchel.models.served import ModelChoiceError, served_models
    from satchel.models.store import ModelStore, default_models_dir

    paths: dict[str, Path] = {}
    ids = [option for option in options if "=" not in option]
    for option in options:
        key, sep, path = option.partition("=")
        if sep and (not key or not path):
            raise click.BadParameter(
                f"{option!r} is neither a catalogue id nor SERVER=PATH", param_hint="--model"
            )
        if sep:
            if key in paths:
                raise click.BadParameter(f"two models for the {key} server", param_hint="--model")
            paths[key] = Path(path)
    try:
        models = {key: hash_model(key, path) for key, path in paths.items()}
    except BuildError as exc:
        raise click.ClickException(str(exc)) from exc
    if ids:
        try:
            served = served_models(ids, load_catalog(), ModelStore(models_dir or default_models_dir()))
        except (CatalogError, ModelChoiceError) as exc:
            raise click.ClickException(str(exc)) from exc
        for model in served:
            if model.server.key in models:
                raise click.BadParameter(
                    f"two models for the {model.server.key} server", param_hint="--model"
                )
            models[model.server.key] = model.file
    return models


@main.command()
@click.option(
    "--dist",
    "dist_dir",
    type=click.Path(path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Built site to serve.",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--reload",
    "reload_app",
    type=click.Path(path_type=Path),
    default=None,
    is_flag=False,
    flag_value=Path("app"),
    help="Rebuild from this app folder (default app/) whenever it changes.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="SQLite file of the workspace's notes (default: satchel/workspace.db in the user's data folder).",
)
@click.option(
    "--workspace-anonymous",
    is_flag=True,
    help="Let anyone who reaches the workspace use it without signing in, as the built-in local user. Only with a "
    "loopback --host (127.0.0.1, ::1, localhost); without it, users sign in (`satchel workspace users add`).",
)
@click.option(
    "--public-url",
    default=None,
    metavar="ORIGIN",
    help="The origin devices reach this server at, when it is not --host:--port (behind a TLS proxy, or a LAN "
    "name), e.g. https://satchel.example.org: the workspace's sign-in issuer and resource URL derive from it.",
)
@click.option("--upstream", "upstreams", multiple=True, help="Base URL of another MCP registry to merge in.")
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    help="Extra Host header value the workspace accepts, e.g. satchel.example.org:8470 (LAN or proxy names).",
)
@click.option(
    "--oauth-client-id",
    default=None,
    callback=lambda _ctx, _param, value: _published_url(value),
    help="The https URL at which Satchel's OAuth Client ID Metadata Document is published (default: this server's "
    "/oauth/client-metadata.json; an http URL makes the app register with each authorization server instead).",
)
@click.option(
    "--certfile", type=click.Path(path_type=Path, dir_okay=False), default=None, help="TLS certificate (PEM)."
)
@click.option(
    "--keyfile", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Its private key (PEM)."
)
@click.option(
    "--no-relay",
    is_flag=True,
    help="Switch off /relay, through which the app reaches remote MCP servers that send no CORS headers.",
)
@click.option(
    "--relay-allow-private",
    is_flag=True,
    help="Let the relay reach loopback, private, link-local and other non-public addresses (tests, intranet "
    "kiosks). Without it the relay refuses any host that resolves to one.",
)
@click.option(
    "--relay-allow-host",
    "relay_allowed_hosts",
    multiple=True,
    metavar="HOST",
    help="A host name the relay may reach even when it resolves to a private address, e.g. mcp.intranet.example "
    "(repeatable).",
)
def serve(
    dist_dir: Path,
    host: str,
    port: int,
    reload_app: Path | None,
    db_path: Path | None,
    workspace_anonymous: bool,
    public_url: str | None,
    upstreams: tuple[str, ...],
    allowed_hosts: tuple[str, ...],
    oauth_client_id: str | None,
    certfile: Path | None,
    keyfile: Path | None,
    no_relay: bool,
    relay_allow_private: bool,
    relay_allowed_hosts: tuple[str, ...],
) -> None:
    """Serve dist/, the registry API, the workspace MCP server and the relay (over TLS with --certfile/--keyfile)."""
    from satchel.relay import RelayConfig
    from satchel.relay_guard import AddressRules, is_host
    from satchel.server import ServeError, run_server
    from satchel.tls import TlsError, check_tls_files

    if no_relay and (relay_allow_private or relay_allowed_hosts):
        raise click.UsageError("--relay-allow-private and --relay-allow-host need the relay: drop --no-relay")
    for host in relay_allowed_hosts:
        if not is_host(host):
            raise click.BadParameter(
                f"{host!r} is not a host name: give the name alone, e.g. mcp.intranet.example",
                param_hint="--relay-allow-host",
            )
    relay = None
    if not no_relay:
        rules = AddressRules.create(allow_private=relay_allow_private, allowed_hosts=relay_allowed_hosts)
        relay = RelayConfig(rules=rules)
    try:
        check_tls_files(certfile, keyfile)
        run_server(
            dist_dir,
            host=host,
            port=port,
            reload_app=reload_app,
            db_path=db_path or default_db_path(),
            workspace_anonymous=workspace_anonymous,
            public_url=public_url,
            upstreams=upstreams,
            allowed_hosts=allowed_hosts,
            certfile=certfile,
            keyfile=keyfile,
            oauth_client_id=oauth_client_id,
            relay=relay,
        )
    except (ServeError, TlsError) as exc:
        raise click.ClickException(str(exc)) from exc


@main.command()
def tools() -> None:
    """Run the pure-Python MCP tool server over stdio (for any MCP host)."""
    from satchel.tools.stdio import serve_stdio

    serve_stdio()


@main.group()
def models() -> None:
    """Model catalogue: list, fetch, convert, quantise and remove model files."""


main.add_command(wasm_command)
main.add_command(bundle_command)
main.add_command(workspace_command)
models.add_command(make_tiny_command)

for model_command in MODEL_COMMANDS:
    models.add_command(model_command)
