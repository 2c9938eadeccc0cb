"""Write the assembled site to the output folder, touching only what changed.

Unchanged files keep their bytes and mtimes (so HTTP validators and the browser's update check stay quiet), files
from an earlier build that no longer exist are removed, and a folder that was not made by `satchel build` is never
emptied: a mistyped `--out` must not delete someone's files. Lazy files (models) are copied by path, never read
into memory, and keep their source's mtime: a copy with the source's size and mtime is taken as unchanged.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO

from satchel.build.context import BuildContext, BuildError, BuildResult
from satchel.digests import HashedFile

#: Marks a folder as a Satchel build output, so stale files in it may be removed.
MARKER = ".satchel-build"


def _write_atomically(path: Path, data: bytes | BinaryIO) -> None:
    """Write `data` (bytes, or a stream copied to its end) into a temporary file that then replaces `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                shutil.copyfileobj(data, handle)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _copy_is_current(target: Path, file: HashedFile) -> bool:
    """The copy in the output has the size and mtime that `_copy` gives a copy of `file`."""
    stat = target.stat()
    return (stat.st_size, stat.st_mtime_ns) == (file.size, file.mtime_ns)


def _copy(file: HashedFile, target: Path) -> None:
    """Copy a lazy file by path; one that changed since it was hashed would not match its pinned sha256."""
    with file.path.open("rb") as source:
        _write_atomically(target, source)
        stat = os.fstat(source.fileno())
    if (stat.st_size, stat.st_mtime_ns) != (file.size, file.mtime_ns):
        target.unlink()
        raise BuildError(f"{file.path} changed while the site was being written: build again")
    os.utime(target, ns=(file.mtime_ns, file.mtime_ns))


def _existing_files(out_dir: Path) -> set[str]:
    return {p.relative_to(out_dir).as_posix() for p in out_dir.rglob("*") if p.is_file() and p.name != MARKER}


def write_site(ctx: BuildContext) -> BuildResult:
    out = ctx.out_dir
    if out.exists() and not out.is_dir():
        raise BuildError(f"output path {out} exists and is not a folder")
    existing = _existing_files(out) if out.is_dir() else set()
    if existing and not (out / MARKER).exists():
        raise BuildError(
            f"output folder {out} is not empty and was not made by `satchel build`: "
            "choose an empty or new folder"
        )
    written: list[str] = []
    for rel, data in sorted(ctx.files.items()):
        target = out / rel
        if rel in existing and target.read_bytes() == data:
            continue
        _write_atomically(target, data)
        written.append(rel)
    for rel, file in sorted(ctx.lazy_files.items()):
        target = out / rel
        if rel in existing and _copy_is_current(target, file):
            continue
        _copy(file, target)
        written.append(rel)
    removed = sorted(existing - ctx.files.keys() - ctx.lazy_files.keys())
    for rel in removed:
        (out / rel).unlink()
    for folder in sorted((p for p in out.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    marker = out / MARKER
    if not marker.exists():
        marker.write_text(
            "This folder is written by `satchel build`; its contents are replaced on every build.\n"
        )
    return BuildResult(
        build_hash=str(ctx.template_vars["build_hash"]),
        written=tuple(written),
        unchanged=len(ctx.files) + len(ctx.lazy_files) - len(written),
        removed=tuple(removed),
    )
