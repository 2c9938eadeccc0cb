"""``python -m satchel.tools``: the local tool server over stdio, for any MCP host."""

from satchel.tools.stdio import serve_stdio

if __name__ == "__main__":
    serve_stdio()
