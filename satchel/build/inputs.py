"""What a build is made from besides `app/`: the policy file and the WASM servers with their models.

Plain data, read by the build steps through `BuildContext` and recorded next to the output (satchel/build/record.py),
so it imports no build step. A model is a `HashedFile`: hashed once where it entered (the CLI, the catalogue check,
a recorded build), then carried by path to the step that ships it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from satchel.digests import HashedFile


@dataclass(frozen=True)
class WasmServerSources:
    """Where the WASM modules and the models come from (nothing given: no WASM server in the site)."""

    #: Folder with `<key>-server.wasm` files, as `satchel wasm` writes them (`.cache/wasm/out/wasm`).
    wasm_dir: Path | None = None
    #: Model file per server key (satchel/wasm/servers.py); a server is shipped exactly when it has one.
    models: Mapping[str, HashedFile] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildInputs:
    """Everything `satchel build` takes besides the output folder."""

    app_dir: Path
    node_modules: Path | None = None
    policy_file: Path | None = None
    wasm_dir: Path | None = None
    #: Model file per WASM server key (`whisper`, `llama`).
    models: Mapping[str, HashedFile] = field(default_factory=dict)

    def wasm_sources(self) -> WasmServerSources | None:
        if not self.models and self.wasm_dir is None:
            return None
        return WasmServerSources(wasm_dir=self.wasm_dir, models=dict(self.models))

    def watched_paths(self) -> list[Path]:
        """What a rebuild depends on besides the app folder: the policy and the model files."""
        models = [model.path for model in self.models.values()]
        return [p for p in (self.policy_file, *models) if p is not None]

    def options(self) -> str:
        """The inputs as the `satchel build` options that give them (for messages)."""
        parts = [f"--policy {self.policy_file}"] if self.policy_file else []
        parts += [f"--wasm-dir {self.wasm_dir}"] if self.wasm_dir else []
        parts += [f"--model {key}={model.path}" for key, model in sorted(self.models.items())]
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        def text(path: Path | None) -> str | None:
            return str(path.resolve()) if path is not None else None

        def model(file: HashedFile) -> dict[str, Any]:
            stamp = {"sha256": file.sha256, "size": file.size, "mtime_ns": file.mtime_ns, "inode": file.inode}
            return {"path": text(file.path), **stamp}

        return {
            "app_dir": text(self.app_dir),
            "node_modules": text(self.node_modules),
            "policy_file": text(self.policy_file),
            "wasm_dir": text(self.wasm_dir),
            "models": {key: model(file) for key, file in sorted(self.models.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BuildInputs:
        """The recorded inputs; a model keeps the hash it was recorded with (a rebuild hashes it again only if it
        changed since: `HashedFile.current`). Raises ValueError (or OSError) for a record it cannot read."""

        def path(key: str) -> Path | None:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} is not a path")
            return Path(value) if value else None

        def model(value: Any) -> HashedFile:
            if isinstance(value, str):  # recorded before models carried their hash
                return HashedFile.of(Path(value))
            return HashedFile(
                path=Path(str(value["path"])),
                sha256=str(value["sha256"]),
                size=int(value["size"]),
                mtime_ns=int(value["mtime_ns"]),
                inode=int(value["inode"]),
            )

        app_dir = path("app_dir")
        models = data.get("models") or {}
        if app_dir is None or not isinstance(models, dict):
            raise ValueError("no app_dir, or models is not a table")
        return cls(
            app_dir=app_dir,
            node_modules=path("node_modules"),
            policy_file=path("policy_file"),
            wasm_dir=path("wasm_dir"),
            models={str(key): model(value) for key, value in models.items()},
        )
