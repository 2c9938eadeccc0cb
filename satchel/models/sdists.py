"""Gets the upstream trees the model tools need from PyPI sdists: llama.cpp's converter, whisper.cpp's model headers.

No hub or git host is reachable, but PyPI is: the `llama-cpp-python` sdist vendors llama.cpp (with
`convert_hf_to_gguf.py`, its `conversion/` package and `gguf-py/`), and the `pywhispercpp` sdist vendors whisper.cpp
(with the weightless `models/for-tests-ggml-*.bin` headers). Sdists are downloaded once into a shared cache folder
(the WASM build uses the same one), under a file lock so that concurrent jobs never clobber a half-written archive,
and only the needed members are extracted, into `extracted/<archive stem>-<hash of the member set>/`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

REPO_ROOT = Path(__file__).resolve().parents[2]


class SdistError(RuntimeError):
    """An sdist could not be downloaded or does not hold what we need."""


@dataclass(frozen=True)
class Sdist:
    """One pinned sdist and the member prefixes (inside its top folder) that the model tools use."""

    package: str
    version: str
    members: tuple[str, ...]

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"

    @property
    def archive_name(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}.tar.gz"


LLAMA_CPP = Sdist(
    "llama-cpp-python",
    "0.3.36",
    (
        "vendor/llama.cpp/convert_hf_to_gguf.py",
        "vendor/llama.cpp/conversion/",
        "vendor/llama.cpp/gguf-py/",
        "vendor/llama.cpp/LICENSE",
    ),
)
WHISPER_CPP = Sdist("pywhispercpp", "1.5.1", ("whisper.cpp/models/for-tests-ggml-", "whisper.cpp/LICENSE"))


def default_sdist_cache() -> Path:
    """`$SATCHEL_SDIST_CACHE`; else `.cache/sdists` of a source checkout; else `~/.cache/satchel/sdists`."""
    configured = os.environ.get("SATCHEL_SDIST_CACHE")
    if configured:
        return Path(configured)
    if (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT / ".cache" / "sdists"
    return Path.home() / ".cache" / "satchel" / "sdists"


def ensure_archive(sdist: Sdist, cache: Path) -> Path:
    """The sdist archive in `cache`, downloaded with pip if it is not there yet."""
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / sdist.archive_name
    with FileLock(str(cache / f"{sdist.archive_name}.lock")):
        if archive.is_file() and tarfile.is_tarfile(archive):
            return archive
        with_partial = cache / f".download-{sdist.package}-{sdist.version}"
        shutil.rmtree(with_partial, ignore_errors=True)
        command = [
            sys.executable, "-m", "pip", "download", "-q", "--no-deps",
            "--no-binary", sdist.package, sdist.requirement, "-d", str(with_partial),
        ]  # fmt: skip
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        downloaded = with_partial / sdist.archive_name
        if completed.returncode != 0 or not downloaded.is_file():
            shutil.rmtree(with_partial, ignore_errors=True)
            reason = (completed.stderr.strip().splitlines() or ["no archive was written"])[-1]
            raise SdistError(
                f"could not download the {sdist.requirement} sdist from PyPI (offline?): {reason}"
            )
        os.replace(downloaded, archive)
        shutil.rmtree(with_partial, ignore_errors=True)
    return archive


def ensure_tree(sdist: Sdist, cache: Path) -> Path:
    """The sdist's top folder with the needed members extracted (once), under `cache/extracted/`."""
    archive = ensure_archive(sdist, cache)
    stem = archive.name.removesuffix(".tar.gz")
    # Different users want different members of one archive: each member set gets its own folder, so a partial
    # extraction made for one never passes for another's complete tree.
    selection = hashlib.sha256("\n".join(sorted(sdist.members)).encode()).hexdigest()[:12]
    root = cache / "extracted" / f"{stem}-{selection}"
    target = root / stem
    marker = root / ".complete"
    with FileLock(str(cache / f"{stem}-{selection}.extract.lock")):
        if marker.is_file():
            return target
        shutil.rmtree(root, ignore_errors=True)
        root.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            wanted = [
                member
                for member in tar.getmembers()
                if (member.isfile() or member.isdir())
                and member.name.startswith(f"{stem}/")
                and member.name.removeprefix(f"{stem}/").startswith(sdist.members)
            ]
            if not wanted:
                raise SdistError(f"{archive} holds none of {', '.join(sdist.members)}")
            tar.extractall(root, members=wanted, filter="data")
        marker.write_text(sdist.requirement + "\n", encoding="utf-8")
    return target


def llama_cpp_dir(cache: Path | None = None) -> Path:
    """llama.cpp's tree (converter, gguf-py) from the llama-cpp-python sdist."""
    return ensure_tree(LLAMA_CPP, cache or default_sdist_cache()) / "vendor" / "llama.cpp"


def whisper_models_dir(cache: Path | None = None) -> Path:
    """whisper.cpp's models/ folder (weightless test headers) from the pywhispercpp sdist."""
    return ensure_tree(WHISPER_CPP, cache or default_sdist_cache()) / "whisper.cpp" / "models"
