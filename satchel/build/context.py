"""State shared by the build steps: where sources are, and the site being assembled in memory."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from satchel.build.inputs import WasmServerSources
from satchel.digests import HashedFile
from satchel.policy import Policy

#: Source files that are inputs to a step rather than files of the site.
TEMPLATE_SUFFIX = ".j2"
#: Folders of `app/` whose files are build inputs only (bundled or rendered), never copied as they are.
SOURCE_ONLY_DIRS = ("vendor", "icons")


class BuildError(Exception):
    """A build that cannot go on; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class BuildResult:
    """What a build did to the output folder."""

    build_hash: str
    written: tuple[str, ...]
    unchanged: int
    removed: tuple[str, ...]


@dataclass
class BuildContext:
    """Sources of one build and the site it produces (URL path without leading slash → bytes, or → the file to
    copy for a lazy file)."""

    app_dir: Path
    out_dir: Path
    node_modules: Path
    files: dict[str, bytes] = field(default_factory=dict)
    #: Values every template sees.
    template_vars: dict[str, object] = field(default_factory=dict)
    #: server.json documents of the local MCP servers this build ships (see `satchel.registry.local_server`);
    #: the steps that add a server's files add its document here, and the registry snapshot lists them.
    local_servers: list[dict[str, Any]] = field(default_factory=list)
    #: Files of the site that are served but not precached (models: large, and fetched by the worker that needs
    #: them, which keeps them itself): never read into memory, but copied by path when the site is written, with
    #: the sha256 and size they were hashed with. No path is both here and in `files`.
    lazy_files: dict[str, HashedFile] = field(default_factory=dict)
    #: The organisation's managed policy (`--policy`), or None for an unmanaged site.
    policy: Policy | None = None
    #: WASM servers and models to ship (`--wasm-dir`, `--model`), or None for none.
    wasm_sources: WasmServerSources | None = None
    #: The bundle release this site belongs to (`satchel bundle --release`, dotted numbers), or None for a plain
    #: build; installed apps never move to a lower release (app/sw/precache.js).
    release: str | None = None

    @classmethod
    def create(
        cls,
        app_dir: Path,
        out_dir: Path,
        *,
        node_modules: Path | None = None,
        policy: Policy | None = None,
        wasm_sources: WasmServerSources | None = None,
        release: str | None = None,
    ) -> BuildContext:
        app_dir = app_dir.resolve()
        out_dir = out_dir.resolve()
        if not app_dir.is_dir():
            raise BuildError(f"app folder not found: {app_dir} (run from the repository root or pass --app)")
        if out_dir == app_dir or app_dir in out_dir.parents or out_dir in app_dir.parents:
            raise BuildError(
                f"output folder {out_dir} must not contain or be inside the app folder {app_dir}"
            )
        modules = (node_modules or app_dir.parent / "node_modules").resolve()
        return cls(
            app_dir=app_dir,
            out_dir=out_dir,
            node_modules=modules,
            policy=policy,
            wasm_sources=wasm_sources,
            release=release,
        )

    def add(self, path: str, data: bytes) -> None:
        """Add one file of the site; two steps producing the same path is a bug in the app layout."""
        self._claim(path)
        self.files[path] = data

    def add_lazy(self, path: str, file: HashedFile) -> None:
        """Add one lazy file of the site (see `lazy_files`), copied from `file` as it was hashed."""
        self._claim(path)
        self.lazy_files[path] = file

    def _claim(self, path: str) -> None:
        if path in self.files or path in self.lazy_files:
            raise BuildError(f"two build steps produce {path}: rename one of the sources in {self.app_dir}")

    def source_files(self) -> list[Path]:
        """Every file under the app folder, in a stable order (hidden files and folders skipped)."""
        return sorted(
            p
            for p in self.app_dir.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(self.app_dir).parts)
        )

    def relative(self, path: Path) -> str:
        return path.relative_to(self.app_dir).as_posix()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
