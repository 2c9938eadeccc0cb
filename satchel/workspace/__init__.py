"""The workspace remote MCP server: notes in SQLite behind save/list/search/delete tools over Streamable HTTP,
for users who sign in through its own OAuth authorization server."""

from satchel.workspace.notes import NoteError, NoteStore
from satchel.workspace.server import IDEMPOTENCY_META_KEY, WORKSPACE_NAME, Workspace, create_workspace

__all__ = [
    "IDEMPOTENCY_META_KEY",
    "WORKSPACE_NAME",
    "NoteError",
    "NoteStore",
    "Workspace",
    "create_workspace",
]
