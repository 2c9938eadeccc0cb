"""Fixtures for the C++ MCP server tests: the servers built through `satchel wasm` (cached, so only a fresh
machine pays for the compile), the tiny random models from `satchel models make-tiny`, and spoken test audio."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from satchel.models.tiny import make_tiny_models
from satchel.wasm import build_servers
from tests.support.speech import spoken_wav
from tests.support.stdio_mcp import response, tool_call

#: The bounds the C++ servers put on client input (one home: the C++ header; the tests read it from there).
LIMITS_HEADER = Path(__file__).resolve().parents[2] / "wasm" / "mcp" / "limits.hpp"


def cpp_limit(name: str) -> int:
    """The value of `constexpr ... NAME = ...;` in wasm/mcp/limits.hpp (integers, `*` and earlier names)."""
    values: dict[str, int] = {}
    for match in re.finditer(r"constexpr \w+ (\w+) = ([^;]+);", LIMITS_HEADER.read_text()):
        value = 1
        for factor in match.group(2).split("*"):
            factor = factor.strip()
            value *= values[factor] if factor in values else int(factor.rstrip("uU"))
        values[match.group(1)] = value
    return values[name]


#: How far the native and WASM builds' logits (of ~10-30) for the same token at the same step may be apart when the
#: weights are F16 (the tiny models): the builds only sum float32 products in another order (x86-64-v3 FMA vs WASM
#: SIMD). Measured: at most 0.0016. Quantised weights differ more: tests/models/test_smollm2.py.
F16_LOGIT_TOLERANCE = 0.01


@dataclass(frozen=True)
class TinyModels:
    llama: Path
    whisper: Path


def _built(platform: str) -> dict[str, Path]:
    return {built.server: built.path for built in build_servers([platform], log=lambda _line: None)}


@pytest.fixture(scope="session")
def native_servers() -> dict[str, Path]:
    """`whisper` and `llama` native stdio servers, built (or reused) by `satchel wasm --native`."""
    return _built("native")


@pytest.fixture(scope="session")
def wasm_servers() -> dict[str, Path]:
    """`whisper` and `llama` WASI reactors, built (or reused) by `satchel wasm --wasm`."""
    return _built("wasm")


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    llama, whisper = make_tiny_models(tmp_path_factory.mktemp("tiny"), seed=0, log=lambda _line: None)
    return TinyModels(llama=llama, whisper=whisper)


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spoken_wav(tmp_path_factory.mktemp("audio"))


def score(
    run: Callable[[Path, Path, list[str]], list[dict[str, Any]]],
    server: Path,
    model: Path,
    prompt: str,
    tokens: list[int],
    top_k: int = 2,
) -> list[dict[str, Any]]:
    """The llama server's `score` steps: before each of `tokens`, its logit, rank and the `top_k` candidates."""
    arguments = {"prompt": prompt, "tokens": tokens, "top_k": top_k}
    result = response(run(server, model, [tool_call(1, "score", arguments)]), 1)["result"]
    assert result["isError"] is False, result
    steps: list[dict[str, Any]] = result["structuredContent"]["steps"]
    assert [step["token"] for step in steps] == tokens
    return steps


def margin(step: dict[str, Any]) -> float:
    """How far the most likely token is ahead of the second: below the builds' disagreement, a near-tie."""
    first, second = step["top"][:2]
    return float(first["logit"] - second["logit"])


def _logits(step: dict[str, Any]) -> dict[int, float]:
    """A `score` step's logits by token: its candidates and the forced token."""
    logits = {int(c["token"]): float(c["logit"]) for c in step["top"]}
    logits[int(step["token"])] = float(step["logit"])
    return logits


@dataclass(frozen=True)
class TeacherForced:
    """Native's greedy tokens fed to the WASM build: where the two disagree, and by how much."""

    native: list[dict[str, Any]]
    wasm: list[dict[str, Any]]

    def logit_gaps(self) -> list[float]:
        """The differences between the builds' logits for the same token at the same step: the forced token and
        every candidate both builds list."""
        gaps = []
        for n, w in zip(self.native, self.wasm, strict=True):
            native, wasm = _logits(n), _logits(w)
            gaps += [abs(native[token] - wasm[token]) for token in native.keys() & wasm.keys()]
        return gaps

    def logit_gap(self) -> float:
        """The largest of `logit_gaps`."""
        return max(self.logit_gaps())

    def rms_gap(self) -> float:
        """The root mean square of `logit_gaps`: how far apart the builds are overall."""
        gaps = self.logit_gaps()
        return math.sqrt(sum(gap * gap for gap in gaps) / len(gaps))

    def near_ties(self, tolerance: float) -> list[int]:
        """Steps whose top-2 margin is below `tolerance` in either build."""
        return [
            i
            for i, (n, w) in enumerate(zip(self.native, self.wasm, strict=True))
            if min(margin(n), margin(w)) < tolerance
        ]

    def disagreements(self, tolerance: float) -> list[str]:
        """Steps where WASM prefers another token than native's by more than `tolerance` (a near-tie less is fine)."""
        problems = []
        for i, (n, w) in enumerate(zip(self.native, self.wasm, strict=True)):
            best = w["top"][0]
            if best["token"] != n["token"] and best["logit"] - w["logit"] > tolerance:
                problems.append(
                    f"step {i}: native chose {n['token']} (WASM logit {w['logit']:.4f}), WASM prefers "
                    f"{best['token']} ({best['logit']:.4f})"
                )
        return problems


@pytest.fixture
def anyio_backend() -> Iterator[str]:
    yield "asyncio"
