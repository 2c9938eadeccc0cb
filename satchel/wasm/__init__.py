"""`satchel wasm`: build the C++ MCP servers in `wasm/` (whisper.cpp, llama.cpp) natively and to WASI reactors.

`sources` fetches the pinned sdists that vendor whisper.cpp and llama.cpp, `toolchain` finds the compilers,
`native` and `emscripten` say how each platform is configured, `cmake` runs one build with progress lines, `cache`
decides when a build can be skipped, and `build` ties them together. Outputs land in `.cache/wasm/out/<platform>/`.
"""

from __future__ import annotations

from satchel.wasm.build import DEFAULT_OUT_DIR, DEFAULT_WASM_DIR, BuiltServer, build_servers
from satchel.wasm.errors import WasmError

__all__ = ["DEFAULT_OUT_DIR", "DEFAULT_WASM_DIR", "BuiltServer", "WasmError", "build_servers"]
