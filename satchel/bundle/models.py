"""Models pre-placed in a bundle, so a kiosk's first launch downloads nothing from outside.

Each model the admin names (`--model ID`) is taken from the local model store and checked against the sha256 the
catalogue pins before it goes in; an entry the catalogue has not pinned (`verified = false`) is refused, since a
bundle must not carry bytes nobody can check. The files are served from `/models/`, listed in `/models/models.json`.
"""

from __future__ import annotations

import json
from pathlib import Path

from satchel.bundle.contents import Contents, Entry
from satchel.bundle.spec import MODELS_DIR, MODELS_INDEX, BundleError
from satchel.digests import file_sha256
from satchel.models.catalog import Catalog, CatalogError
from satchel.models.store import ModelStore, StoreError

MODELS_URL = "/" + MODELS_DIR.removeprefix("dist/")


def add_models(contents: Contents, model_ids: tuple[str, ...], catalog: Catalog, store: ModelStore) -> None:
    index = []
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
        path = _stored_file(store, model_id, entry.file)
        actual = file_sha256(path)
        if actual != entry.sha256:
            raise BundleError(
                f"--model {model_id}: {path} has sha256 {actual}, the catalogue says {entry.sha256}: "
                f"fetch it again (satchel models remove {model_id} && satchel models fetch {model_id})"
            )
        contents[f"{MODELS_DIR}/{entry.file}"] = Entry(f"{MODELS_DIR}/{entry.file}", source=path)
        index.append(
            {
                "id": entry.id,
                "task": entry.task,
                "url": f"{MODELS_URL}/{entry.file}",
                "sha256": entry.sha256,
                "size": path.stat().st_size,
                "quantisation": entry.quantisation,
                "licence": entry.licence,
                "tools": list(entry.tools),
            }
        )
    if index:
        data = (json.dumps({"version": 1, "models": index}, indent=2) + "\n").encode()
        contents[MODELS_INDEX] = Entry(MODELS_INDEX, data=data)


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
