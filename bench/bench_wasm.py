"""Speed of the WebAssembly whisper.cpp and llama.cpp servers against the native builds of the same source.

Run: ``python bench/bench_wasm.py [--tokens N] [--llama-model GGUF] [--whisper-model BIN]`` (after ``make setup``).
Both builds come from ``satchel wasm`` (cached) and are measured in this run, on this machine, on the same model
files: by default the tiny random-weight models of ``satchel models make-tiny``, or real ones given by flag.

- llama: tokens/s of a greedy ``generate`` (the prompt is evaluated too, so this is end to end per call), after a
  warm-up call that loads the model. Native runs with 1 thread, like the reactor, and with its default threads.
  The tiny model is measured as F16 and quantised to Q8_0 and Q4_0 (llama.cpp's quantiser).
- whisper: real-time factor (processing seconds per second of audio, lower is faster) of ``transcribe`` on 10 s
  of espeak-ng speech, after a warm-up call.
The WASM module runs in node through the browser worker's own host code (app/workers/wasi-reactor.js) and WASI
shim; node's V8 is the engine Chromium uses, single-threaded here as in the worker.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from satchel.models.quantize import quantize_gguf  # noqa: E402
from satchel.models.tiny import make_tiny_models  # noqa: E402
from satchel.wasm import build_servers  # noqa: E402
from tests.support.speech import spoken_wav  # noqa: E402
from tests.support.stdio_mcp import StdioSession, run_wasm_process, tool_call  # noqa: E402

PROMPT = "Once upon a time, in a small village by the sea,"
SPEECH = (
    "Offline first applications keep working without a network. They store what they need on the device, "
    "and they synchronise when the connection returns."
)


def built_servers() -> dict[tuple[str, str], Path]:
    """(platform, server) → the native stdio and WASM reactor servers, built (or reused) by `satchel wasm`."""
    return {(b.platform, b.server): b.path for b in build_servers(["native", "wasm"], log=lambda _line: None)}


def generate_calls(tokens: int) -> tuple[str, str]:
    """The warm-up `generate` call (loads the model) and the timed one: greedy, up to `tokens` tokens."""
    warmup = tool_call(1, "generate", {"prompt": "Hello", "max_tokens": 2})
    return warmup, tool_call(2, "generate", {"prompt": PROMPT, "max_tokens": tokens})


def transcribe_calls(wav: Path) -> tuple[str, str]:
    """The warm-up `transcribe` call (its first second of audio; loads the model) and the timed one (all of it)."""
    audio = wav.read_bytes()
    warmup = tool_call(1, "transcribe", {"audio": base64.b64encode(audio[:32044]).decode()})
    return warmup, tool_call(2, "transcribe", {"audio": base64.b64encode(audio).decode()})


def tiny_quantisations(tiny_llama: Path, folder: Path) -> list[tuple[str, Path]]:
    """The tiny F16 model and its Q8_0 and Q4_0 quantisations (llama.cpp's quantiser), which exercise ggml's
    quantised WASM SIMD kernels, as (quantisation, file)."""
    models = [("F16", tiny_llama)]
    for quantisation in ("Q8_0", "Q4_0"):
        quantised = folder / f"tiny-llama-{quantisation.lower()}.gguf"
        quantize_gguf(tiny_llama, quantised, quantisation)
        models.append((quantisation, quantised))
    return models


def time_native(
    server: Path, model: Path, warmup: str, timed: str, *extra: str
) -> tuple[float, dict[str, Any]]:
    """Seconds the timed call takes on a native server whose model the warm-up call has loaded."""
    with StdioSession([str(server), "--model", str(model), *extra]) as process:
        for line in (warmup, timed):
            started = time.perf_counter()
            process.send(line)
            message = process.receive_response()
            elapsed = time.perf_counter() - started
    return elapsed, message["result"]


def time_wasm(server: Path, model: Path, warmup: str, timed: str) -> tuple[float, dict[str, Any]]:
    """Seconds the timed call spends in handle(), as the node host measures it, after the warm-up call."""
    completed = run_wasm_process(server, model, [warmup, timed])
    completed.check_returncode()
    timings = [float(ms) for ms in re.findall(r"reactor: handled in (\d+) ms", completed.stderr)]
    responses = [json.loads(line) for line in completed.stdout.splitlines() if '"result"' in line]
    return timings[-1] / 1000, responses[-1]["result"]


def runtimes(
    servers: dict[tuple[str, str], Path], server: str, model: Path, warmup: str, timed: str
) -> list[tuple[str, Callable[[], tuple[float, dict[str, Any]]]]]:
    """The runs measured for `server` on `model`: native with 1 thread and with its default threads, WASM in node."""
    native, wasm = servers["native", server], servers["wasm", server]
    return [
        ("native, 1 thread", partial(time_native, native, model, warmup, timed, "--threads", "1")),
        ("native, default threads", partial(time_native, native, model, warmup, timed)),
        ("wasm (node, 1 thread)", partial(time_wasm, wasm, model, warmup, timed)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128, help="tokens per timed generate call")
    parser.add_argument("--llama-model", type=Path, help="GGUF to measure (default: the tiny random model)")
    parser.add_argument(
        "--whisper-model", type=Path, help="whisper.cpp ggml model (default: the tiny random one)"
    )
    parser.add_argument("--audio-seconds", type=float, default=10.0)
    options = parser.parse_args()

    servers = built_servers()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        tiny_llama, tiny_whisper = make_tiny_models(folder, log=lambda _line: None)
        whisper = options.whisper_model or tiny_whisper

        warmup, timed = generate_calls(options.tokens)
        models = (
            [options.llama_model]
            if options.llama_model
            else [m for _, m in tiny_quantisations(tiny_llama, folder)]
        )
        for model in models:
            print(f"llama: {model.name}, greedy generate of up to {options.tokens} tokens")
            rates: dict[str, float] = {}
            for label, run in runtimes(servers, "llama", model, warmup, timed):
                seconds, result = run()
                count = len(result["structuredContent"]["tokens"])
                rates[label] = count / seconds
                print(f"  {label:26s} {count:4d} tokens in {seconds:6.2f} s = {rates[label]:8.1f} tok/s")
            ratio = rates["wasm (node, 1 thread)"] / rates["native, 1 thread"]
            print(f"  wasm / native (1 thread): {ratio:.2f}x")

        wav = spoken_wav(folder, SPEECH, length_seconds=options.audio_seconds)
        warmup, timed = transcribe_calls(wav)
        print(
            f"whisper: {whisper.name}, transcribe {options.audio_seconds:.0f} s of speech (real-time factor)"
        )
        factors: dict[str, float] = {}
        for label, run in runtimes(servers, "whisper", whisper, warmup, timed):
            seconds, result = run()
            factors[label] = seconds / options.audio_seconds
            text = result["structuredContent"]["text"][:40]
            print(f"  {label:26s} {seconds:6.2f} s, RTF {factors[label]:6.3f}  ({text!r}…)")
        print(
            f"  wasm / native (1 thread): {factors['wasm (node, 1 thread)'] / factors['native, 1 thread']:.2f}x slower"
        )


if __name__ == "__main__":
    main()
