"""The tools Satchel ships: each module is one tool (or family), defined with ``satchel.tools.tool.tool``."""
