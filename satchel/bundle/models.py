"""Models pre-placed in a bundle, so a kiosk's first launch downloads nothing from outside.

Each model the admin names (`--model ID`) is resolved as `satchel build --model ID` resolves it
(satchel/models/served.py: the stored file, checked against the catalogue's pinned sha256, and the WASM server that
runs it); the bundle builds the site with those servers, so the registry entries pin the bundled files.
`/models/models.json` lists the pre-placed models for admins and tools.
"""

from __future__ import annotations

import json

from satchel.bundle.spec import BundleError
from satchel.models.catalog import Catalog
from satchel.models.served import ModelChoiceError, ServedModel, served_models
from satchel.models.store import ModelStore

#: A bundle's model is a served model (satchel/models/served.py) that the bundle also lists in `/models/models.json`.
BundledModel = ServedModel


def bundled_models(model_ids: tuple[str, ...], catalog: Catalog, store: ModelStore) -> list[BundledModel]:
    """The verified models for `--model` ids; BundleError names the first that cannot go in, and why."""
    try:
        return served_models(model_ids, catalog, store)
    except ModelChoiceError as exc:
        raise BundleError(str(exc)) from exc


def models_index(models: list[BundledModel]) -> bytes:
    """`/models/models.json`: what is pre-placed, for admins and tools."""
    index = [
        {
            "id": model.entry.id,
            "task": model.entry.task,
            "server": model.server.key,
            "url": model.url,
            "sha256": model.sha256,
            "size": model.file.size,
            "quantisation": model.entry.quantisation,
            "licence": model.entry.licence,
            "tools": list(model.entry.tools),
        }
        for model in models
    ]
    return (json.dumps({"version": 1, "models": index}, indent=2) + "\n").encode()
