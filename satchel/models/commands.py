"""The `satchel models` subcommands: thin click wrappers that turn model errors into one clear line each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from satchel.models.catalog import DEFAULT_CATALOG, CatalogError, load_catalog
from satchel.models.store import ModelStore, StoreError, default_models_dir

F = TypeVar("F", bound=Callable[..., Any])


#: `--models-dir`, for every command that reads or writes the model store (models, build, bundle).
models_dir_option = click.option(
    "--models-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Model store folder (default: $SATCHEL_MODELS_DIR or ~/.cache/satchel/models).",
)


def _store_options(command: F) -> F:
    command = click.option(
        "--catalog",
        "catalog_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=DEFAULT_CATALOG,
        show_default=True,
        help="Model catalogue (TOML).",
    )(command)
    return models_dir_option(command)


def _human(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


@click.command("list")
@_store_options
def list_models(models_dir: Path | None, catalog_path: Path) -> None:
    """List catalogue models and what is present in the store, with sizes."""
    try:
        catalog = load_catalog(catalog_path)
        store = ModelStore(models_dir or default_models_dir())
        present = store.records()
    except (CatalogError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{'ID':34} {'TASK':4} {'QUANT':6} {'SIZE':>9}  {'STATE':10} LICENCE")
    for entry in catalog.entries:
        record = present.pop(entry.id, None)
        if record is None:
            state = "-"
        elif entry.sha256 is not None and record.sha256 != entry.sha256:
            state = "stale"
        else:
            state = "present"
        size = record.size if record else entry.size
        approx = "~" if record is None and not entry.verified else ""
        click.echo(
            f"{entry.id:34} {entry.task:4} {entry.quantisation:6} {approx + _human(size):>9}  {state:10} "
            f"{entry.licence}"
        )
    for record in present.values():
        click.echo(f"{record.id:34} {'':4} {'':6} {_human(record.size):>9}  {'local':10} ({record.source})")
    click.echo(f"store: {store.root}")


@click.command("fetch")
@click.argument("model_id")
@click.option("--force", is_flag=True, help="Fetch again even if the store has it.")
@_store_options
def fetch_model(model_id: str, force: bool, models_dir: Path | None, catalog_path: Path) -> None:
    """Download (or extract, or convert) MODEL_ID into the store and verify its sha256."""
    from satchel.models.convert import ConversionError
    from satchel.models.fetch import Fetcher, FetchError
    from satchel.models.quantize import QuantizeError
    from satchel.models.sdists import SdistError

    try:
        fetcher = Fetcher(load_catalog(catalog_path), ModelStore(models_dir or default_models_dir()))
        result = fetcher.fetch(model_id, force=force)
    except (CatalogError, StoreError, FetchError, ConversionError, QuantizeError, SdistError) as exc:
        raise click.ClickException(str(exc)) from exc
    record = result.record
    verb = "already present" if result.already_present else "fetched"
    click.echo(f"{model_id}: {verb}, {_human(record.size)}, sha256 {record.sha256}")


@click.command("convert")
@click.argument("checkpoint", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--id", "model_id", required=True, help="Name to record the result under in the store.")
@click.option(
    "--quantisation",
    "-q",
    default=None,
    help="Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, F16… (default: Q4_0 for language models, F16 for whisper).",
)
@click.option(
    "--pre-tokenizer", default=None, help="llama.cpp pre-tokenizer to use if the converter does not know it."
)
@_store_options
def convert_model(
    checkpoint: Path,
    model_id: str,
    quantisation: str | None,
    pre_tokenizer: str | None,
    models_dir: Path | None,
    catalog_path: Path,
) -> None:
    """Convert CHECKPOINT into the store: a Hugging Face folder to GGUF, or a faster-whisper folder to ggml."""
    from satchel.models.convert import (
        ConversionError,
        convert_checkpoint,
        convert_whisper_checkpoint,
        is_ct2_whisper,
    )
    from satchel.models.quantize import QuantizeError
    from satchel.models.sdists import SdistError
    from satchel.models.whisper_ct2 import WhisperConversionError

    store = ModelStore(models_dir or default_models_dir())
    whisper = is_ct2_whisper(checkpoint)
    chosen = (quantisation or ("F16" if whisper else "Q4_0")).upper()
    try:
        if whisper:
            result = convert_whisper_checkpoint(
                checkpoint, store, model_id, f"{model_id}.{chosen}.bin", chosen
            )
        else:
            file = f"{model_id}.{chosen}.gguf"
            result = convert_checkpoint(
                checkpoint, store, model_id, file, chosen, pre_tokenizer=pre_tokenizer
            )
    except (ConversionError, WhisperConversionError, QuantizeError, SdistError, StoreError) as exc:
        raise click.ClickException(str(exc)) from exc
    record = result.record
    click.echo(
        f"{model_id}: {result.architecture} -> {record.file} ({_human(record.size)}, sha256 {record.sha256}); "
        f"convert {result.convert_seconds:.1f} s, quantise {result.quantize_seconds:.1f} s"
    )


@click.command("remove")
@click.argument("model_id")
@_store_options
def remove_model(model_id: str, models_dir: Path | None, catalog_path: Path) -> None:
    """Delete MODEL_ID's file from the store."""
    try:
        record = ModelStore(models_dir or default_models_dir()).remove(model_id)
    except StoreError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{model_id}: removed {record.file} ({_human(record.size)})")


@click.command("build-whisper-tools")
def build_whisper_tools_command() -> None:
    """Build whisper.cpp's native quantiser and CLI (cmake, from the pywhispercpp sdist) into .cache/."""
    from satchel.models.quantize import QuantizeError, build_whisper_tools
    from satchel.models.sdists import SdistError

    try:
        bin_dir = build_whisper_tools()
    except (QuantizeError, SdistError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"built whisper.cpp tools in {bin_dir}")


COMMANDS = (list_models, fetch_model, convert_model, remove_model, build_whisper_tools_command)
