"""The native platform: the system compiler, giving stdio MCP servers any host can launch.

The kernels are pinned to one instruction-set baseline instead of "whatever this CPU has" (`GGML_NATIVE=ON`): on
x86-64 that is x86-64-v3 (SSE4.2, AVX, AVX2, FMA, F16C, BMI2) and never AVX-512, so every machine of this kind runs
the same ggml kernels, sums in the same order and gives the same numbers, whether or not its CPU has AVX-512 (a
machine without AVX2 cannot run these builds). What native and WASM builds are and are not expected to agree on is
said in tests/models/test_smollm2.py.
"""

from __future__ import annotations

import platform

from satchel.wasm.platforms import Platform

#: ggml's switches for the x86-64-v3 baseline; on other architectures ggml's portable defaults apply.
X86_64_V3 = {
    "GGML_SSE42": "ON",
    "GGML_AVX": "ON",
    "GGML_AVX2": "ON",
    "GGML_FMA": "ON",
    "GGML_F16C": "ON",
    "GGML_BMI2": "ON",
    "GGML_AVX_VNNI": "OFF",
    "GGML_AVX512": "OFF",
    "GGML_AVX512_VBMI": "OFF",
    "GGML_AVX512_VNNI": "OFF",
    "GGML_AVX512_BF16": "OFF",
    "GGML_AMX_TILE": "OFF",
    "GGML_AMX_INT8": "OFF",
    "GGML_AMX_BF16": "OFF",
}

NATIVE = Platform(
    name="native",
    suffix="",
    wrapper=(),
    compiler="c++",
    definitions={
        "CMAKE_BUILD_TYPE": "Release",
        "GGML_NATIVE": "OFF",
        **(X86_64_V3 if platform.machine() in {"x86_64", "AMD64"} else {}),
    },
)
