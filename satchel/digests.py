"""The sha256 of a file, read in chunks: how models, WASM builds and bundles pin what they ship and check it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """Hex sha256 of the file at `path`, without reading it into memory at once."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class HashedFile:
    """A file with the sha256 it had when it was hashed, and the stat that tells whether it still has it.

    A large input (a model) is hashed once, where it enters (a `--model` path, a catalogue model checked against its
    pin), and travels with its path: later steps use `sha256` and `size` and copy the file by path, never reading it
    again. `current()` is the one check before use: a file changed since (a rebuild after an edit) is hashed anew.
    """

    path: Path
    sha256: str
    size: int
    #: The stat it was hashed at: a file whose size, mtime or inode differs has been changed or replaced since.
    mtime_ns: int
    inode: int

    @classmethod
    def of(cls, path: Path) -> HashedFile:
        """Hash `path` (OSError when it cannot be read); the stat is taken first, so a write while hashing shows."""
        stat = path.stat()
        return cls(path, file_sha256(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)

    def current(self) -> HashedFile:
        """This file as it is now: itself when unchanged since it was hashed, else hashed again."""
        stat = self.path.stat()
        if (stat.st_size, stat.st_mtime_ns, stat.st_ino) == (self.size, self.mtime_ns, self.inode):
            return self
        return HashedFile.of(self.path)
