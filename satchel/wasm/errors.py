"""The one error type of `satchel wasm`: its message is a single line that says what to do next."""

from __future__ import annotations


class WasmError(Exception):
    """A build of the WASM/native servers could not run or failed."""
