"""Quantises model files with the projects' own quantisers: llama.cpp's via llama-cpp-python, whisper.cpp's tool.

GGUF language models go through `llama_model_quantize` in the llama.cpp library that llama-cpp-python loads, so the
result is exactly what llama.cpp itself would write. whisper.cpp ggml files go through whisper.cpp's `quantize`
example (target `whisper-quantize`), which must be built natively: `find_whisper_quantize` looks where our builds put
it, and `build_whisper_tools` builds it (with `whisper-cli`) from the whisper.cpp sources of the pywhispercpp sdist.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from satchel.models.sdists import REPO_ROOT, WHISPER_CPP, Sdist, default_sdist_cache, ensure_tree

# llama.cpp's llama_ftype values for the quantisations we offer.
LLAMA_FTYPES = {"F16": 1, "Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q5_1": 9}
WHISPER_TYPES = {"Q4_0": "q4_0", "Q4_1": "q4_1", "Q5_0": "q5_0", "Q5_1": "q5_1", "Q8_0": "q8_0"}
WHISPER_TOOLS = ("whisper-quantize", "whisper-cli")
WHISPER_SOURCE = Sdist(WHISPER_CPP.package, WHISPER_CPP.version, ("whisper.cpp/",))


class QuantizeError(RuntimeError):
    """A quantiser is missing or failed; the message says which and what to do."""


def quantize_gguf(source: Path, output: Path, quantisation: str, threads: int = 0) -> None:
    """Quantise a GGUF (F32/F16/BF16) model to `quantisation` with llama.cpp's own quantiser."""
    if quantisation not in LLAMA_FTYPES:
        raise QuantizeError(
            f"llama.cpp quantisation {quantisation} is not offered ({', '.join(LLAMA_FTYPES)})"
        )
    try:
        import llama_cpp
    except ImportError as exc:
        raise QuantizeError("llama-cpp-python is not installed: run `make setup`") from exc
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = LLAMA_FTYPES[quantisation]
    params.nthread = threads
    output.parent.mkdir(parents=True, exist_ok=True)
    # llama.cpp reports every tensor (and token texts cut mid-character) through llama-cpp-python's logger: keep
    # only errors while quantising.
    chatty = logging.getLogger("llama-cpp-python")
    level = chatty.level
    chatty.setLevel(logging.ERROR)
    try:
        status = llama_cpp.llama_model_quantize(str(source).encode(), str(output).encode(), params)
    finally:
        chatty.setLevel(level)
    if status != 0 or not output.is_file():
        output.unlink(missing_ok=True)
        raise QuantizeError(f"llama_model_quantize failed ({status}) turning {source} into {quantisation}")


def default_whisper_build_dir() -> Path:
    return REPO_ROOT / ".cache" / "whisper-native"


def find_whisper_tool(name: str) -> Path | None:
    """A native whisper.cpp tool: `$SATCHEL_WHISPER_BIN_DIR`, our build, the WASM helper's native build, PATH."""
    candidates = []
    configured = os.environ.get("SATCHEL_WHISPER_BIN_DIR")
    if configured:
        candidates.append(Path(configured) / name)
    candidates += [
        default_whisper_build_dir() / "bin" / name,
        REPO_ROOT / ".cache" / "wasm" / "build" / "whisper-native" / "bin" / name,
    ]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


def build_whisper_tools(build_dir: Path | None = None, sdist_cache: Path | None = None) -> Path:
    """Build whisper.cpp's `whisper-quantize` and `whisper-cli` natively (cmake); returns the bin folder."""
    build_dir = build_dir or default_whisper_build_dir()
    source = ensure_tree(WHISPER_SOURCE, sdist_cache or default_sdist_cache()) / "whisper.cpp"
    if shutil.which("cmake") is None:
        raise QuantizeError("cmake is needed to build whisper.cpp's quantiser: apt-get install cmake")
    configure = [
        "cmake", "-S", str(source), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
        "-DGGML_NATIVE=OFF", "-DGGML_OPENMP=OFF", "-DBUILD_SHARED_LIBS=OFF",
        "-DWHISPER_BUILD_EXAMPLES=ON", "-DWHISPER_BUILD_TESTS=OFF", "-DWHISPER_BUILD_SERVER=OFF",
    ]  # fmt: skip
    for command in (configure, ["cmake", "--build", str(build_dir), "-j2", "--target", *WHISPER_TOOLS]):
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            tail = "\n".join(completed.stderr.strip().splitlines()[-5:])
            raise QuantizeError(f"building whisper.cpp failed ({' '.join(command[:2])}):\n{tail}")
    return build_dir / "bin"


def quantize_whisper(source: Path, output: Path, quantisation: str) -> None:
    """Quantise a whisper.cpp ggml F16/F32 model with whisper.cpp's own quantiser."""
    if quantisation not in WHISPER_TYPES:
        raise QuantizeError(
            f"whisper.cpp quantisation {quantisation} is not offered ({', '.join(WHISPER_TYPES)})"
        )
    tool = find_whisper_tool("whisper-quantize")
    if tool is None:
        raise QuantizeError(
            "whisper.cpp's quantiser is not built: run `satchel models build-whisper-tools` (needs cmake and g++)"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [str(tool), str(source), str(output), WHISPER_TYPES[quantisation]],
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0 or not output.is_file():
        output.unlink(missing_ok=True)
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-3:])
        raise QuantizeError(f"whisper-quantize failed turning {source} into {quantisation}:\n{tail}")
