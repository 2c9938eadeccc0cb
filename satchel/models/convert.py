"""Converts checkpoint folders into model files with the upstream projects' own tools, and records the result.

A Hugging Face folder becomes a quantised GGUF: step 1 is llama.cpp's `convert_hf_to_gguf.py` from the
llama-cpp-python sdist (run in a subprocess, so its imports, torch and transformers among them, never touch ours);
step 2 is `llama_model_quantize` (see `quantize.py`). A CTranslate2 (faster-whisper) folder becomes whisper.cpp
ggml F16 through `whisper_ct2`, then optionally goes through whisper.cpp's own quantiser. Intermediate files and
outputs are written under the store's work area and moved into the store only when every step succeeded, so a
failed conversion never leaves something that looks like a model.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from satchel.digests import file_sha256
from satchel.models.ct2 import SUPPORTED_VERSION
from satchel.models.quantize import LLAMA_FTYPES, WHISPER_TYPES, quantize_gguf, quantize_whisper
from satchel.models.sdists import llama_cpp_dir, whisper_models_dir
from satchel.models.store import ModelStore, StoredModel

# Outputs the converter can write itself; anything else is made from F16 by the quantiser.
CONVERTER_OUTTYPES = {"F32": "f32", "F16": "f16", "BF16": "bf16", "Q8_0": "q8_0"}


class ConversionError(RuntimeError):
    """The checkpoint could not be converted; the message carries the converter's own last words."""


@dataclass(frozen=True)
class GgufConversion:
    """What `convert_checkpoint` produced and how long each step took."""

    record: StoredModel
    architecture: str
    convert_seconds: float
    quantize_seconds: float


def checkpoint_architecture(checkpoint: Path) -> str:
    """The `architectures[0]` of the checkpoint's config.json, checked before starting the converter."""
    config_path = checkpoint / "config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConversionError(
            f"{checkpoint} is not a Hugging Face checkpoint: it has no config.json"
        ) from None
    architectures = config.get("architectures") or []
    if not architectures:
        raise ConversionError(f"{config_path} names no architectures")
    if not any(checkpoint.glob("*.safetensors")) and not any(checkpoint.glob("*.bin")):
        raise ConversionError(f"{checkpoint} has no weights (*.safetensors or *.bin)")
    return str(architectures[0])


def run_converter(
    checkpoint: Path,
    output: Path,
    outtype: str,
    *,
    pre_tokenizer: str | None = None,
    sdist_cache: Path | None = None,
) -> None:
    """Run llama.cpp's convert_hf_to_gguf.py on `checkpoint`, writing `output` at `outtype` (f16, q8_0, ...)."""
    command = [sys.executable, "-m", "satchel.models.hf_to_gguf_runner", str(llama_cpp_dir(sdist_cache))]
    if pre_tokenizer:
        command += ["--pre-tokenizer", pre_tokenizer]
    command += ["--", str(checkpoint), "--outfile", str(output), "--outtype", outtype]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0 or not output.is_file():
        output.unlink(missing_ok=True)
        lines = (completed.stderr or completed.stdout).strip().splitlines()
        reason = lines[-1] if lines else f"exit status {completed.returncode}"
        if "pre-tokenizer was not recognized" in reason and not pre_tokenizer:
            reason += (
                " (llama.cpp does not know this tokenizer: if it follows a known one, name it with "
                "--pre-tokenizer, e.g. deepseek-llm, deepseek-coder, deepseek-r1-qwen)"
            )
        raise ConversionError(f"convert_hf_to_gguf.py failed on {checkpoint}: {reason}")


def convert_checkpoint(
    checkpoint: Path,
    store: ModelStore,
    model_id: str,
    file: str,
    quantisation: str,
    *,
    pre_tokenizer: str | None = None,
    expected_sha256: str | None = None,
    source: str = "",
    sdist_cache: Path | None = None,
) -> GgufConversion:
    """Convert `checkpoint` to GGUF at `quantisation` and add it to `store` as `model_id` (file name `file`)."""
    if quantisation not in CONVERTER_OUTTYPES and quantisation not in LLAMA_FTYPES:
        offered = sorted(set(CONVERTER_OUTTYPES) | set(LLAMA_FTYPES))
        raise ConversionError(f"quantisation {quantisation} is not offered ({', '.join(offered)})")
    architecture = checkpoint_architecture(checkpoint)
    work = store.work_path(model_id)
    direct = quantisation in CONVERTER_OUTTYPES
    converted = work / (file if direct else f"{Path(file).stem}.F16.gguf")
    started = time.perf_counter()
    run_converter(
        checkpoint,
        converted,
        CONVERTER_OUTTYPES.get(quantisation, "f16"),
        pre_tokenizer=pre_tokenizer,
        sdist_cache=sdist_cache,
    )
    convert_seconds = time.perf_counter() - started
    quantize_seconds = 0.0
    final = converted
    if not direct:
        final = work / file
        started = time.perf_counter()
        try:
            quantize_gguf(converted, final, quantisation)
        finally:
            converted.unlink(missing_ok=True)
        quantize_seconds = time.perf_counter() - started
    digest = file_sha256(final)
    if expected_sha256 is not None and digest != expected_sha256:
        final.unlink(missing_ok=True)
        raise ConversionError(
            f"{model_id}: the converted file has sha256 {digest}, the catalogue pins {expected_sha256}; "
            "the converter or its input differs from the pinned one, so the result was discarded"
        )
    record = store.add(
        model_id,
        final,
        file,
        sha256=digest,
        source=source or f"converted from {checkpoint} ({architecture}) to {quantisation}",
        pinned=expected_sha256 is not None,
    )
    return GgufConversion(record, architecture, convert_seconds, quantize_seconds)


def is_ct2_whisper(checkpoint: Path) -> bool:
    """True for a faster-whisper folder: a CTranslate2 `model.bin` whose spec is WhisperSpec."""
    model_bin = checkpoint / "model.bin"
    if not model_bin.is_file():
        return False
    with model_bin.open("rb") as stream:
        head = stream.read(18)
    return int.from_bytes(head[:4], "little") == SUPPORTED_VERSION and head[6:17] == b"WhisperSpec"


def convert_whisper_checkpoint(
    checkpoint: Path,
    store: ModelStore,
    model_id: str,
    file: str,
    quantisation: str = "F16",
    *,
    sdist_cache: Path | None = None,
) -> GgufConversion:
    """Convert a faster-whisper folder to whisper.cpp ggml (F16, or quantised by whisper.cpp) into `store`."""
    from satchel.models.whisper_ct2 import convert_ct2_to_ggml

    if quantisation != "F16" and quantisation not in WHISPER_TYPES:
        offered = ", ".join(WHISPER_TYPES)
        raise ConversionError(f"whisper quantisation {quantisation} is not offered (F16, {offered})")
    work = store.work_path(model_id)
    started = time.perf_counter()
    f16 = work / (file if quantisation == "F16" else f"{Path(file).stem}.F16.bin")
    result = convert_ct2_to_ggml(checkpoint / "model.bin", whisper_models_dir(sdist_cache), f16)
    convert_seconds = time.perf_counter() - started
    final, quantize_seconds = f16, 0.0
    if quantisation != "F16":
        final = work / file
        started = time.perf_counter()
        try:
            quantize_whisper(f16, final, quantisation)
        finally:
            f16.unlink(missing_ok=True)
        quantize_seconds = time.perf_counter() - started
    record = store.add(
        model_id,
        final,
        file,
        sha256=file_sha256(final),
        source=f"converted from CTranslate2 {checkpoint} to whisper.cpp {quantisation}",
        pinned=False,
    )
    architecture = (
        f"whisper ({result.hparams['n_audio_layer']} layers, {result.hparams['n_audio_state']} wide)"
    )
    return GgufConversion(record, architecture, convert_seconds, quantize_seconds)
