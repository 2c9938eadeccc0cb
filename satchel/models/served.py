"""Catalogue models as the app serves them: which WASM server runs each, and the verified file it runs.

`satchel build --model whisper-tiny.en --model smollm2-135m` and `satchel bundle --model ID` both name models by
catalogue id; both need the same answer: the stored file, checked against the sha256 the catalogue pins (an entry
with no pinned hash, `verified = false`, is refused: nobody could check what the app would run), and the server that
runs its task (the table of satchel/wasm/servers.py: whisper for `asr`, llama for `llm`, one model per server).
The file is hashed here, once: the build places it under `/models/` and pins that hash in the server's registry
entry (satchel/build/wasm_servers.py) without reading it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from satchel.digests import HashedFile
from satchel.models.catalog import Catalog, CatalogError, ModelEntry
from satchel.models.store import ModelStore, StoreError
from satchel.wasm.servers import BY_TASK, MODELS_DIR, WasmServer


class ModelChoiceError(ValueError):
    """A `--model ID` that cannot be served; the message names the id and what to do."""


@dataclass(frozen=True)
class ServedModel:
    """A catalogue model whose stored file matched the catalogue's sha256."""

    entry: ModelEntry
    #: The stored file, with the sha256 it was checked with.
    file: HashedFile

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def sha256(self) -> str:
        return self.file.sha256

    @property
    def server(self) -> WasmServer:
        """The WASM server that runs it."""
        return BY_TASK[self.entry.task]

    @property
    def url(self) -> str:
        """Where the site serves it (what the build writes into the server's registry entry)."""
        return f"/{MODELS_DIR}/{self.path.name}"


def served_models(model_ids: Sequence[str], catalog: Catalog, store: ModelStore) -> list[ServedModel]:
    """The verified models for `--model` ids; ModelChoiceError names the first that cannot be served, and why."""
    models: list[ServedModel] = []
    for model_id in model_ids:
        try:
            entry = catalog.get(model_id)
        except CatalogError as exc:
            raise ModelChoiceError(f"--model {model_id}: {exc}") from exc
        if entry.sha256 is None:
            raise ModelChoiceError(
                f"--model {model_id}: the catalogue pins no sha256 for it (verified = false), so its file could "
                f"not be checked; pin its hash in {catalog.path} first"
            )
        server = BY_TASK.get(entry.task)
        if server is None:
            raise ModelChoiceError(f"--model {model_id}: no WASM server runs {entry.task!r} models")
        taken = next((m for m in models if m.server == server), None)
        if taken is not None:
            raise ModelChoiceError(
                f"--model {model_id}: the {server.key} server already runs --model {taken.entry.id}; "
                "the app carries one model per server"
            )
        path = _stored_file(store, model_id, entry.file)
        file = HashedFile.of(path)
        if file.sha256 != entry.sha256:
            raise ModelChoiceError(
                f"--model {model_id}: {path} has sha256 {file.sha256}, the catalogue says {entry.sha256}: "
                f"fetch it again (satchel models remove {model_id} && satchel models fetch {model_id})"
            )
        models.append(ServedModel(entry=entry, file=file))
    return models


def _stored_file(store: ModelStore, model_id: str, file: str) -> Path:
    try:
        record = store.get(model_id)
    except StoreError as exc:
        raise ModelChoiceError(f"--model {model_id}: {exc}") from exc
    path = store.path_of(record.file if record is not None else file)
    if not path.is_file():
        raise ModelChoiceError(
            f"--model {model_id}: not in the model store {store.root}: run `satchel models fetch {model_id}` "
            "(or pass --models-dir)"
        )
    return path
