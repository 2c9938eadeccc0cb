"""Pure-Python MCP tool servers (standard library only, so the same code runs natively and on Pyodide).

``default_server()`` builds the server with every built-in tool; ``ToolServer`` is the transport-free core that
stdio (``python -m satchel.tools``) and the browser worker both drive.
"""

from satchel.tools.catalog import default_server
from satchel.tools.server import Exchange, ToolServer
from satchel.tools.tool import PURE_FUNCTION, Progress, Tool, ToolAnnotations, ToolContext, ToolError, tool

__all__ = [
    "PURE_FUNCTION",
    "Exchange",
    "Progress",
    "Tool",
    "ToolAnnotations",
    "ToolContext",
    "ToolError",
    "ToolServer",
    "default_server",
    "tool",
]
