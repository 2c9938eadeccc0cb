"""What differs between a native build and an emscripten build of the same server, as data."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Platform:
    name: str
    suffix: str
    """File name suffix of a built server."""
    wrapper: tuple[str, ...]
    """Program that wraps the CMake configure step (emcmake sets emscripten's toolchain file)."""
    compiler: str
    """The compiler whose version is part of the cache key."""
    definitions: dict[str, str] = field(default_factory=dict)
