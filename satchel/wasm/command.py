"""The `satchel wasm` command line; cli.py registers it."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--native", "which", flag_value="native", help="Build only the native stdio servers.")
@click.option("--wasm", "which", flag_value="wasm", help="Build only the WASI reactor modules.")
@click.option("--all", "which", flag_value="all", default=True, help="Build both (the default).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where the built servers go, one folder per platform (default: .cache/wasm/out in the checkout).",
)
@click.option(
    "--jobs", "-j", default=2, show_default=True, type=click.IntRange(1, 64), help="Parallel compiles."
)
def wasm(which: str, out_dir: Path | None, jobs: int) -> None:
    """Build the whisper.cpp and llama.cpp MCP servers natively and to WebAssembly (cached)."""
    from satchel.wasm import DEFAULT_OUT_DIR, WasmError, build_servers

    platforms = ["native", "wasm"] if which == "all" else [which]
    out_dir = out_dir or DEFAULT_OUT_DIR
    try:
        built = build_servers(platforms, out_dir=out_dir, jobs=jobs, log=click.echo)
    except WasmError as exc:
        raise click.ClickException(str(exc)) from exc
    fresh = sum(1 for b in built if not b.cached)
    click.echo(f"{len(built)} server(s) ready in {out_dir} ({fresh} built, {len(built) - fresh} up to date)")
