"""The files of a bundle before they are written: bytes made in memory, or large files (models) read from disk.

Both writers (folder and tar.gz) and SHA256SUMS read entries through this one type, so what is summed is what is
written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class Entry:
    """One file of the bundle at `path` (POSIX, relative to the bundle root)."""

    path: str
    data: bytes | None = None
    source: Path | None = None
    executable: bool = False

    def __post_init__(self) -> None:
        if (self.data is None) == (self.source is None):
            raise ValueError(f"{self.path}: an entry has either bytes or a source file")

    @property
    def size(self) -> int:
        return len(self.data) if self.data is not None else self._source.stat().st_size

    @property
    def _source(self) -> Path:
        assert self.source is not None
        return self.source

    def chunks(self) -> Iterator[bytes]:
        if self.data is not None:
            yield self.data
            return
        with self._source.open("rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.chunks():
            digest.update(chunk)
        return digest.hexdigest()


Contents = dict[str, Entry]
