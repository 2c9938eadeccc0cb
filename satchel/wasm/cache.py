"""When a server build can be skipped: each output has a stamp holding the key it was built from.

The key hashes what decides the bytes of the output: the pinned sdist archive (which identifies the vendored
tree and our patches), every file under `wasm/`, the CMake flags and the compiler's version. Same key and the
output still there → the build is skipped, so a second `satchel wasm` takes seconds. Incremental compilation
after a source change is ninja's job, in a build folder named by the platform's flags.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def tree_digest(root: Path) -> str:
    """Digest of every file under `root` (names and bytes), independent of listing order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def build_key(parts: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def stamp_path(output: Path) -> Path:
    return output.with_name(output.name + ".key")


def is_fresh(output: Path, key: str) -> bool:
    stamp = stamp_path(output)
    return output.is_file() and stamp.is_file() and stamp.read_text().strip() == key


def record(output: Path, key: str) -> None:
    stamp_path(output).write_text(key + "\n")
