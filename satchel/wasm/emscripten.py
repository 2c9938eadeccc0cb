"""The browser platform: Debian's emscripten, WASM SIMD and exceptions, linked as a standalone WASI reactor.

The compile flags (-msimd128, -fwasm-exceptions) and the link flags (-sSTANDALONE_WASM --no-entry, exported
handle/alloc/free) live in `wasm/CMakeLists.txt` and `wasm/mcp/CMakeLists.txt`, next to the code they build; here
are the switches that pick the WASM SIMD kernels and turn off what the vendored trees would otherwise do under
emscripten (64-bit memory, OpenMP, an HTML page).
"""

from __future__ import annotations

from satchel.wasm.platforms import Platform

WASM = Platform(
    name="wasm",
    suffix=".wasm",
    wrapper=("emcmake",),
    compiler="emcc",
    definitions={
        "CMAKE_BUILD_TYPE": "Release",
        # Read by emscripten's toolchain file to set CMAKE_SYSTEM_PROCESSOR; without it (x86) ggml compiles its
        # scalar fallbacks instead of the WASM SIMD kernels.
        "EMSCRIPTEN_SYSTEM_PROCESSOR": "wasm32",
        "GGML_NATIVE": "OFF",
        "GGML_OPENMP": "OFF",
        "LLAMA_WASM_MEM64": "OFF",
        "LLAMA_BUILD_HTML": "OFF",
    },
)
