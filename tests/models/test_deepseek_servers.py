"""Converted DeepSeek models run the same everywhere: llama-cpp-python, the native llama MCP server and its WASM
build (run in node through the worker's host code) produce identical greedy tokens from the same Q4_0 or Q8_0 file.

The Q8_0 files also guard our patch of ggml's WASM activation quantisation (satchel/wasm/sources.py,
`GGML_WASM_ROUNDING`): without it the WASM build diverges from the native one at the first tokens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llama_cpp import Llama

from satchel.models.convert import convert_checkpoint
from satchel.models.store import ModelStore
from satchel.wasm import build_servers
from tests.models.checkpoints import Checkpoint, make_deepseek_llm, make_deepseek_r1_distill_qwen
from tests.support.stdio_mcp import response, run_native, run_wasm, tool_call

PROMPT = "the meeting notes say we ship the offline client"
MAX_TOKENS = 16


@pytest.fixture(scope="module")
def servers() -> dict[str, dict[str, Path]]:
    return {
        platform: {built.server: built.path for built in build_servers([platform], log=lambda _line: None)}
        for platform in ("native", "wasm")
    }


@pytest.fixture(
    scope="module",
    params=[
        (make_deepseek_llm, "Q4_0"),
        (make_deepseek_llm, "Q8_0"),
        (make_deepseek_r1_distill_qwen, "Q4_0"),
        (make_deepseek_r1_distill_qwen, "Q8_0"),
    ],
    ids=["llama-Q4_0", "llama-Q8_0", "qwen2-Q4_0", "qwen2-Q8_0"],
)
def deepseek_gguf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    make: Callable[[Path], Checkpoint]
    make, quantisation = request.param
    root = tmp_path_factory.mktemp(f"{make.__name__}-{quantisation}")
    checkpoint = make(root / "checkpoint")
    store = ModelStore(root / "store")
    result = convert_checkpoint(
        checkpoint.path,
        store,
        "deepseek",
        f"deepseek-{quantisation}.gguf",
        quantisation,
        pre_tokenizer=checkpoint.pre_tokenizer,
    )
    return store.path_of(result.record.file)


def _server_tokens(messages: list[dict[str, Any]]) -> list[int]:
    result = response(messages, 1)["result"]
    assert result["isError"] is False, result
    return list(result["structuredContent"]["tokens"])


def _llama_cpp_python_tokens(model_path: Path, count: int) -> list[int]:
    model = Llama(model_path=str(model_path), n_ctx=512, n_threads=1, verbose=False)
    prompt = model.tokenize(PROMPT.encode(), add_bos=True, special=False)
    produced: list[int] = []
    for token in model.generate(prompt, top_k=1, temp=0.0, repeat_penalty=1.0):
        produced.append(int(token))
        if len(produced) == count or model.token_eos() == token:
            break
    return produced


@pytest.fixture(scope="module")
def native_tokens(servers: dict[str, dict[str, Path]], deepseek_gguf: Path) -> list[int]:
    lines = [tool_call(1, "generate", {"prompt": PROMPT, "max_tokens": MAX_TOKENS})]
    tokens = _server_tokens(run_native(servers["native"]["llama"], deepseek_gguf, lines))
    assert tokens, "the native server generated nothing"
    return tokens


def test_native_server_generates_what_llama_cpp_python_does(
    native_tokens: list[int], deepseek_gguf: Path
) -> None:
    assert _llama_cpp_python_tokens(deepseek_gguf, len(native_tokens)) == native_tokens


def test_wasm_server_generates_what_the_native_one_does(
    servers: dict[str, dict[str, Path]], deepseek_gguf: Path, native_tokens: list[int]
) -> None:
    lines = [tool_call(1, "generate", {"prompt": PROMPT, "max_tokens": MAX_TOKENS})]
    assert _server_tokens(run_wasm(servers["wasm"]["llama"], deepseek_gguf, lines)) == native_tokens
