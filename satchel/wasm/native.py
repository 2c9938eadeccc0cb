"""The native platform: the system compiler, tuned for this CPU, giving stdio MCP servers any host can launch."""

from __future__ import annotations

from satchel.wasm.platforms import Platform

NATIVE = Platform(
    name="native",
    suffix="",
    wrapper=(),
    compiler="c++",
    definitions={"CMAKE_BUILD_TYPE": "Release", "GGML_NATIVE": "ON"},
)
