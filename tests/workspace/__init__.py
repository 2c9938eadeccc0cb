"""Tests of `satchel.workspace`: the notes store and the MCP server in front of it."""
