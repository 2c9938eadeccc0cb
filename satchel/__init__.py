"""Satchel: an offline-first MCP client shipped as a PWA, and the Python toolchain that builds and serves it."""

__version__ = "0.1.0"
