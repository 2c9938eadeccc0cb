"""What a build was made from, kept next to its output so that a rebuild can use the same inputs.

`satchel build --policy P --wasm-dir W --model whisper=M` and then `satchel serve --reload` must rebuild the same
kind of site (managed, with its WASM servers), not a plain one: the rebuild would otherwise silently drop the
policy and the local servers from the registry. So every CLI build records its inputs, with absolute paths, in the
output's marker file (`.satchel-build`, which `write_site` uses to recognise its folders; the dev server does not
serve hidden files and bundles leave it out), and `serve --reload` reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from satchel.build.context import BuildError, BuildResult
from satchel.build.output import MARKER
from satchel.build.wasm_servers import WasmServerSources
from satchel.policy import PolicyError, load_policy

_NOTE = "This folder is written by `satchel build`; its contents are replaced on every build."


@dataclass(frozen=True)
class BuildInputs:
    """Everything `satchel build` takes besides the output folder."""

    app_dir: Path
    node_modules: Path | None = None
    policy_file: Path | None = None
    wasm_dir: Path | None = None
    #: Model file per WASM server key (`whisper`, `llama`).
    models: Mapping[str, Path] = field(default_factory=dict)

    def wasm_sources(self) -> WasmServerSources | None:
        if not self.models and self.wasm_dir is None:
            return None
        return WasmServerSources(wasm_dir=self.wasm_dir, models=dict(self.models))

    def watched_paths(self) -> list[Path]:
        """What a rebuild depends on besides the app folder: the policy and the model files."""
        return [p for p in (self.policy_file, *self.models.values()) if p is not None]

    def options(self) -> str:
        """The inputs as the `satchel build` options that give them (for messages)."""
        parts = [f"--policy {self.policy_file}"] if self.policy_file else []
        parts += [f"--wasm-dir {self.wasm_dir}"] if self.wasm_dir else []
        parts += [f"--model {key}={path}" for key, path in sorted(self.models.items())]
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        def text(path: Path | None) -> str | None:
            return str(path.resolve()) if path is not None else None

        return {
            "app_dir": text(self.app_dir),
            "node_modules": text(self.node_modules),
            "policy_file": text(self.policy_file),
            "wasm_dir": text(self.wasm_dir),
            "models": {key: text(path) for key, path in sorted(self.models.items())},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BuildInputs:
        def path(key: str) -> Path | None:
            value = data.get(key)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{key} is not a path")
            return Path(value) if value else None

        app_dir = path("app_dir")
        models = data.get("models") or {}
        if app_dir is None or not isinstance(models, dict):
            raise ValueError("no app_dir, or models is not a table")
        return cls(
            app_dir=app_dir,
            node_modules=path("node_modules"),
            policy_file=path("policy_file"),
            wasm_dir=path("wasm_dir"),
            models={str(key): Path(str(value)) for key, value in models.items()},
        )


def build_from_inputs(inputs: BuildInputs, out_dir: Path) -> BuildResult:
    """Build as `satchel build` does and record `inputs` in the output; raise `BuildError` on bad input (a bad
    policy included)."""
    from satchel.build import build_app  # the package imports this module's users

    try:
        policy = load_policy(inputs.policy_file) if inputs.policy_file is not None else None
    except PolicyError as exc:
        raise BuildError(str(exc)) from exc
    result = build_app(
        inputs.app_dir,
        out_dir,
        node_modules=inputs.node_modules,
        policy=policy,
        wasm_sources=inputs.wasm_sources(),
    )
    record = json.dumps({"note": _NOTE, "inputs": inputs.to_json()}, indent=2, sort_keys=True) + "\n"
    marker = out_dir / MARKER
    if not marker.is_file() or marker.read_text(encoding="utf-8", errors="replace") != record:
        marker.write_text(record, encoding="utf-8")
    return result


def recorded_inputs(out_dir: Path) -> BuildInputs | None:
    """The inputs of the CLI build in `out_dir`, or None when there is none (or it was made without a record)."""
    marker = out_dir / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        return BuildInputs.from_json(data["inputs"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
