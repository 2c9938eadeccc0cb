"""The workspace remote MCP server: notes in SQLite behind save/list/search/delete tools over Streamable HTTP."""

from satchel.workspace.notes import NoteError, NoteStore
from satchel.workspace.server import IDEMPOTENCY_META_KEY, Workspace, create_workspace

__all__ = ["IDEMPOTENCY_META_KEY", "NoteError", "NoteStore", "Workspace", "create_workspace"]
