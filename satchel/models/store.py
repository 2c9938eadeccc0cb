"""The model store: the folder model files live in, and its index of what is present and where each file came from.

One folder (default `~/.cache/satchel/models`, or `--models-dir`, or `$SATCHEL_MODELS_DIR`) holds finished model
files under their catalogue names, plus `index.json` recording for each one its sha256, size, source and whether
that hash was pinned by the catalogue or recorded on first fetch. Work in progress (downloads, conversions) lives
under `.work/` and only becomes a model by an atomic rename after its hash checks out.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from satchel.digests import file_sha256
from satchel.user_cache import user_cache_dir

INDEX_NAME = "index.json"
INDEX_VERSION = 1


def default_models_dir() -> Path:
    """`$SATCHEL_MODELS_DIR`, else `models/` of the per-user cache (`~/.cache/satchel/models`)."""
    configured = os.environ.get("SATCHEL_MODELS_DIR")
    if configured:
        return Path(configured)
    return user_cache_dir() / "models"


class StoreError(RuntimeError):
    """The store cannot do what was asked; the message says what to do next."""


@dataclass(frozen=True)
class StoredModel:
    """One index record: a model file present in the store."""

    id: str
    file: str
    sha256: str
    size: int
    source: str
    pinned: bool
    added: float
    notes: str = ""


class ModelStore:
    """A models folder and its index. Index updates are serialised with a file lock (several processes may fetch)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    @property
    def work_dir(self) -> Path:
        return self.root / ".work"

    def path_of(self, file: str) -> Path:
        return self.root / file

    def work_path(self, name: str) -> Path:
        """A private folder for one job's intermediate files (created on demand)."""
        path = self.work_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.root / ".index.lock")):
            yield

    def _read(self) -> dict[str, StoredModel]:
        try:
            document: Any = json.loads(self.index_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except json.JSONDecodeError as exc:
            raise StoreError(f"{self.index_path} is corrupt ({exc}); delete it and fetch again") from exc
        if not isinstance(document, dict) or document.get("version") != INDEX_VERSION:
            raise StoreError(f"{self.index_path} is not a version {INDEX_VERSION} store index")
        return {model_id: StoredModel(**record) for model_id, record in document.get("models", {}).items()}

    def _write(self, records: dict[str, StoredModel]) -> None:
        document = {
            "version": INDEX_VERSION,
            "models": {model_id: asdict(record) for model_id, record in sorted(records.items())},
        }
        partial = self.index_path.with_suffix(".json.partial")
        partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, self.index_path)

    def records(self) -> dict[str, StoredModel]:
        """Every indexed model whose file is still there."""
        with self._locked():
            return {mid: rec for mid, rec in self._read().items() if self.path_of(rec.file).is_file()}

    def get(self, model_id: str) -> StoredModel | None:
        return self.records().get(model_id)

    def add(
        self,
        model_id: str,
        staged: Path,
        file: str,
        *,
        sha256: str,
        source: str,
        pinned: bool,
        notes: str = "",
    ) -> StoredModel:
        """Move a verified file from the work area into the store under `file`, and index it."""
        target = self.path_of(file)
        with self._locked():
            records = self._read()
            os.replace(staged, target)
            record = StoredModel(
                id=model_id,
                file=file,
                sha256=sha256,
                size=target.stat().st_size,
                source=source,
                pinned=pinned,
                added=time.time(),
                notes=notes,
            )
            records[model_id] = record
            self._write(records)
        return record

    def remove(self, model_id: str) -> StoredModel:
        """Delete a model file and its index record, plus any work files left from fetching it."""
        with self._locked():
            records = self._read()
            record = records.pop(model_id, None)
            if record is None:
                raise StoreError(f"model {model_id!r} is not in the store at {self.root}")
            self.path_of(record.file).unlink(missing_ok=True)
            self._write(records)
        shutil.rmtree(self.work_dir / model_id, ignore_errors=True)
        return record

    def verify(self, model_id: str) -> bool:
        """True when the file on disk still has the hash recorded for it."""
        record = self.get(model_id)
        if record is None:
            raise StoreError(f"model {model_id!r} is not in the store at {self.root}")
        return file_sha256(self.path_of(record.file)) == record.sha256
