"""Models pre-placed in a bundle, so a kiosk's first launch downloads nothing from outside.

Each model the admin names (`--model ID`) is taken from the local model store and checked against the sha256 the
catalogue pins before it goes in; an entry the catalogue has not pinned (`verified = false`) is refused, since a
bundle must not carry bytes nobody can check. A model is only useful with the WASM server that runs it, so the
bundle builds the site with that server (`WasmServerSources`: whisper for an `asr` model, llama for an `llm` one);
the build places the file under `/models/` and pins it in the server's registry entry, which is what the app reads.
`/models/models.json` lists the pre-placed models for admins and tools.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from satchel.build.wasm_servers import MODELS_DIR
from satchel.bundle.spec import BundleError
from satchel.digests import file_sha256
from satchel.models.catalog import Catalog, CatalogError, ModelEntry
from satchel.models.store import ModelStore, StoreError

#: The WASM server (a `satchel build --model` key) that runs the models of each catalogue task.
SERVER_FOR_TASK = {"asr": "whisper", "llm": "llama"}


@dataclass(frozen=True)
class BundledModel:
    """A catalogue model whose stored file matched the catalogue's sha256."""

    entry: ModelEntry
    path: Path
    sha256: str

    @property
    def server(self) -> str:
        return SERVER_FOR_TASK[self.entry.task]

    @property
    def url(self) -> str:
        """Where the site serves it (what the build writes into the server's registry entry)."""
        return f"/{MODELS_DIR}/{self.path.name}"


def bundled_models(model_ids: tuple[str, ...], catalog: Catalog, store: ModelStore) -> list[BundledModel]:
    """The verified models for `--model` ids; BundleError names the first that cannot go in, and why."""
    models: list[BundledModel] = []
    for model_id in model_ids:
        try:
            entry = catalog.get(model_id)
        except CatalogError as exc:
            raise BundleError(f"--model {model_id}: {exc}") from exc
        if entry.sha256 is None:
            raise BundleError(
                f"--model {model_id}: the catalogue pins no sha256 for it (verified = false), so the bundle could "
                f"not be checked; pin its hash in {catalog.path} first"
            )
        server = SERVER_FOR_TASK.get(entry.task)
        if server is None:
            raise BundleError(f"--model {model_id}: no WASM server runs {entry.task!r} models")
        taken = next((m for m in models if m.server == server), None)
        if taken is not None:
            raise BundleError(
                f"--model {model_id}: the {server} server already runs --model {taken.entry.id}; "
                "a bundle carries one model per server"
            )
        path = _stored_file(store, model_id, entry.file)
        actual = file_sha256(path)
        if actual != entry.sha256:
            raise BundleError(
                f"--model {model_id}: {path} has sha256 {actual}, the catalogue says {entry.sha256}: "
                f"fetch it again (satchel models remove {model_id} && satchel models fetch {model_id})"
            )
        models.append(BundledModel(entry=entry, path=path, sha256=actual))
    return models


def models_index(models: list[BundledModel]) -> bytes:
    """`/models/models.json`: what is pre-placed, for admins and tools."""
    index = [
        {
            "id": model.entry.id,
            "task": model.entry.task,
            "server": model.server,
            "url": model.url,
            "sha256": model.sha256,
            "size": model.path.stat().st_size,
            "quantisation": model.entry.quantisation,
            "licence": model.entry.licence,
            "tools": list(model.entry.tools),
        }
        for model in models
    ]
    return (json.dumps({"version": 1, "models": index}, indent=2) + "\n").encode()


def _stored_file(store: ModelStore, model_id: str, file: str) -> Path:
    try:
        record = store.get(model_id)
    except StoreError as exc:
        raise BundleError(f"--model {model_id}: {exc}") from exc
    path = store.path_of(record.file if record is not None else file)
    if not path.is_file():
        raise BundleError(
            f"--model {model_id}: not in the model store {store.root}: run `satchel models fetch {model_id}` "
            "(or pass --models-dir)"
        )
    return path
