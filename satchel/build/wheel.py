"""Deterministic pure-Python wheels: the same sources always give the same bytes.

`satchel build` ships the project's own Python (the tool servers) to the browser as a wheel that Pyodide installs.
A wheel made by a build backend carries the time it was made, so each build would change its bytes, its sha256 in
the registry and the precache, and the service worker would download it again. Writing the zip here, with fixed
timestamps and permissions and entries in a fixed order, makes an unchanged source tree give an unchanged wheel.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: The earliest time a zip entry can hold; every entry gets it, so the bytes never depend on the clock.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644 << 16
_COMPRESSION_LEVEL = 9
WHEEL_TAG = "py3-none-any"


@dataclass(frozen=True)
class Wheel:
    """A built wheel: its PEP 427 file name and its bytes."""

    filename: str
    data: bytes


def escape_name(name: str) -> str:
    """The distribution name as it appears in wheel file and `.dist-info` names (PEP 427 / PEP 503)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def record_hash(data: bytes) -> str:
    """A RECORD digest: `sha256=` and the urlsafe base64 of the digest without padding."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(
    name: str,
    version: str,
    files: Mapping[str, bytes],
    *,
    summary: str,
    requires_python: str,
    requires_dist: Sequence[str] = (),
) -> Wheel:
    """A pure-Python wheel of `files` (paths inside site-packages, `/`-separated → bytes)."""
    stem = f"{escape_name(name)}-{version}"
    dist_info = f"{stem}.dist-info"
    if any(
        path.startswith(f"{dist_info}/") or path.startswith("/") or ".." in path.split("/") for path in files
    ):
        raise ValueError(f"wheel files must be relative paths outside {dist_info}/")
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        f"Summary: {summary}",
        f"Requires-Python: {requires_python}",
        *(f"Requires-Dist: {requirement}" for requirement in requires_dist),
    ]
    wheel_info = [
        "Wheel-Version: 1.0",
        "Generator: satchel build",
        "Root-Is-Purelib: true",
        f"Tag: {WHEEL_TAG}",
    ]
    entries = [(path, files[path]) for path in sorted(files)]
    entries.append((f"{dist_info}/METADATA", ("\n".join(metadata) + "\n").encode()))
    entries.append((f"{dist_info}/WHEEL", ("\n".join(wheel_info) + "\n").encode()))
    record_path = f"{dist_info}/RECORD"
    record = [f"{path},{record_hash(data)},{len(data)}" for path, data in entries]
    entries.append((record_path, ("\n".join([*record, f"{record_path},,"]) + "\n").encode()))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in entries:
            info = zipfile.ZipInfo(path, date_time=ZIP_EPOCH)
            info.external_attr = _FILE_MODE
            info.create_system = 3  # Unix, so the mode bits mean the same everywhere
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data, compresslevel=_COMPRESSION_LEVEL)
    return Wheel(filename=f"{stem}-{WHEEL_TAG}.whl", data=buffer.getvalue())
