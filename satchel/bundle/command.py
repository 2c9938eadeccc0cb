"""The `satchel bundle` command group: make a bundle (`satchel bundle --out ...`, signed with `--sign-key KEY`),
check one (`... verify PATH [--key KEY.pub]`), and make a signing key pair (`... keygen --out KEY`)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import click

from satchel.bundle.spec import (
    DEFAULT_INSTALL_DIR,
    DEFAULT_LISTEN,
    DEFAULT_RELEASE,
    DEFAULT_URL,
    BundleError,
    BundleSpec,
)
from satchel.models.catalog import DEFAULT_CATALOG
from satchel.models.commands import models_dir_option
from satchel.policy import Policy, PolicyError, load_policy
from satchel.wasm import DEFAULT_WASM_DIR


@click.group(invoke_without_command=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to write the bundle: FILE.tar.gz (reproducible archive) or a new folder.",
)
@click.option("--app", "app_dir", type=click.Path(path_type=Path), default=Path("app"), show_default=True)
@click.option("--node-modules", type=click.Path(path_type=Path), default=None)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Organisation policy (TOML). Without it: every bundled server, upstream registries off.",
)
@click.option("--url", default=DEFAULT_URL, show_default=True, help="The address browsers open the app at.")
@click.option(
    "--listen", default=DEFAULT_LISTEN, show_default=True, help="host:port the device's own web server uses."
)
@click.option(
    "--install-dir",
    default=str(DEFAULT_INSTALL_DIR),
    show_default=True,
    help="Where the bundle is unpacked on devices (the configs point there).",
)
@click.option(
    "--release",
    default=DEFAULT_RELEASE,
    show_default=True,
    help="This bundle's release (dotted numbers, e.g. 2026.11.25): devices never go back to a lower one.",
)
@click.option(
    "--api-upstream",
    default=None,
    metavar="URL",
    help="A `satchel serve` (workspace, registry API) the web servers proxy /mcp/ and /v0.1/ to, "
    "e.g. http://127.0.0.1:8471.",
)
@click.option(
    "--resolver",
    "resolvers",
    multiple=True,
    metavar="ADDRESS",
    help="DNS server nginx asks for the host names of the policy's servers.origins, when a request comes "
    "(repeatable; needed when an origin is a name), e.g. 127.0.0.53.",
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Catalogue id of a model to pre-place, with the WASM server that runs it (repeatable).",
)
@click.option(
    "--wasm-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=DEFAULT_WASM_DIR,
    show_default=True,
    help="Folder of the WASM servers `satchel wasm` built, for --model.",
)
@models_dir_option
@click.option(
    "--sign-key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="KEY",
    help="Sign SHA256SUMS with this Ed25519 private key (`satchel bundle keygen`): SHA256SUMS.sig in the bundle.",
)
@click.option(
    "--catalog",
    "catalog_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=DEFAULT_CATALOG,
    help="Model catalogue the --model hashes are checked against.",
)
@click.pass_context
def bundle(
    ctx: click.Context,
    out: Path | None,
    app_dir: Path,
    node_modules: Path | None,
    policy_file: Path | None,
    url: str,
    listen: str,
    install_dir: str,
    release: str,
    api_upstream: str | None,
    resolvers: tuple[str, ...],
    models: tuple[str, ...],
    wasm_dir: Path,
    models_dir: Path | None,
    sign_key: Path | None,
    catalog_path: Path,
) -> None:
    """Package the managed app, models, server configs and browser policies for kiosks and fleets."""
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise click.UsageError("say where to write the bundle: --out satchel-bundle.tar.gz (or a new folder)")
    from satchel.bundle.assemble import make_bundle
    from satchel.bundle.signing import load_private_key

    try:
        key = load_private_key(sign_key) if sign_key is not None else None  # a bad key fails before the build
        policy = (
            load_policy(policy_file)
            if policy_file is not None
            else Policy(organization=urlsplit(url).hostname or url)
        )
        spec = BundleSpec(
            policy=policy,
            url=url,
            listen=listen,
            install_dir=PurePosixPath(install_dir),
            models=models,
            release=release,
            api_upstream=api_upstream,
            resolvers=resolvers,
        )
        result = make_bundle(
            spec,
            out,
            app_dir=app_dir,
            node_modules=node_modules,
            catalog_path=catalog_path,
            models_dir=models_dir,
            wasm_dir=wasm_dir,
            sign_key=key,
        )
    except (BundleError, PolicyError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"bundle {result.out}: release {spec.release}, {result.files} files, build {result.build_hash[:12]}, "
        f"policy of {policy.organization}, models: {', '.join(models) or 'none'}, "
        + (f"signed with {sign_key}" if result.signed else "unsigned")
    )


@bundle.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "public_key",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    metavar="KEY.pub",
    help="The bundle maker's public key: refuse a bundle it did not sign.",
)
def verify(path: Path, public_key: Path | None) -> None:
    """Check a bundle folder or .tar.gz against its SHA256SUMS and its policy, and with --key its signature."""
    from satchel.bundle.signing import load_public_key
    from satchel.bundle.verify import verify_bundle

    try:
        key = load_public_key(public_key) if public_key is not None else None
    except BundleError as exc:
        raise click.ClickException(str(exc)) from exc
    result = verify_bundle(path, key)
    if not result.ok:
        for problem in result.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{path} is not intact: {len(result.problems)} problem(s) above")
    if result.signature_verified:
        signature = f"signed by the key in {public_key}"
    elif result.signed:
        signature = "signed, but the signature is not checked: give the maker's public key with --key"
    else:
        signature = "unsigned: anyone could have rewritten it with its SHA256SUMS (verify --key refuses it)"
    click.echo(
        f"{path}: {result.files} files match SHA256SUMS; policy of {result.organization} is valid; {signature}"
    )


@bundle.command()
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    metavar="KEY",
    help="Where to write the private key (KEY, mode 0600); the public key goes to KEY.pub.",
)
def keygen(out: Path) -> None:
    """Make an Ed25519 key pair for signing bundles (`satchel bundle --sign-key KEY`)."""
    from satchel.bundle.signing import write_key_pair

    try:
        public_key = write_key_pair(out)
    except BundleError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"private key {out}: signs bundles (--sign-key); keep it off the devices and back it up\n"
        f"public key {public_key}: give it to whoever checks bundles (satchel bundle verify --key {public_key})"
    )
