"""Write a bundle as a folder or as a byte-for-byte reproducible `.tar.gz`.

Reproducible means: entries sorted, folders listed before their files, every mtime the same fixed time, owner
root:root with no names, modes 0644/0755, PAX format (long paths), and a gzip header with no file name and mtime 0.
Same contents in, same bytes out, on any machine.
"""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path, PurePosixPath

from satchel.bundle.contents import Contents, Entry
from satchel.bundle.spec import BundleError

#: 2000-01-01T00:00:00Z; any fixed time would do, 0 makes some tools warn about 1970 dates.
FIXED_MTIME = 946684800


def _folders(paths: list[str]) -> list[str]:
    folders = {str(parent) for path in paths for parent in PurePosixPath(path).parents if str(parent) != "."}
    return sorted(folders)


def write_tar_gz(contents: Contents, target: Path, top: str) -> None:
    """Write `contents` under the folder `top/` into `target` (written beside it, then renamed)."""
    partial = target.with_name(target.name + ".partial")
    with (
        partial.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        # Sorted by name, a folder comes before its own files ("a" < "a.js" < "a/b").
        for relative in ["", *sorted([*_folders([*contents]), *contents])]:
            entry = contents.get(relative)
            info = tarfile.TarInfo(f"{top}/{relative}".rstrip("/"))
            info.mtime = FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if entry is None:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
            else:
                info.mode = 0o755 if entry.executable else 0o644
                info.size = entry.size
                tar.addfile(info, _Reader(entry))
    os.replace(partial, target)


class _Reader(io.RawIOBase):
    """A file object over an entry's chunks, so a large model is streamed into the archive, not loaded."""

    def __init__(self, entry: Entry) -> None:
        self._chunks = entry.chunks()
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        count = min(len(buffer), len(self._buffer))
        buffer[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count


def write_folder(contents: Contents, target: Path) -> None:
    """Write `contents` into `target`, which must not exist or be empty (a bundle is never merged into files)."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BundleError(
            f"--out {target} exists and is not an empty folder: choose a new folder or remove it"
        )
    for path in sorted(contents):
        entry = contents[path]
        destination = target / path
        destination.parent.mkdir(parents=True, exist_ok=True)
        with destination.open("wb") as stream:
            for chunk in entry.chunks():
                stream.write(chunk)
        destination.chmod(0o755 if entry.executable else 0o644)
