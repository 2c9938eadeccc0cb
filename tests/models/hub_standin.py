"""A local stand-in for the Hugging Face hub's file endpoint, for fetch tests (point `HF_ENDPOINT` at it).

Serves `/{org}/{repo}/resolve/{revision}/{file}` for HEAD and GET, with the headers huggingface-hub reads
(`X-Repo-Commit`, `ETag`, `Content-Length`) and HTTP Range, plus the repository listing that `snapshot_download`
asks for first (`/api/models/{org}/{repo}/revision/{revision}`). A file can be set to drop the connection part-way
through its next full download, as a flaky network would; every request's Range header is recorded.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.ports import free_port

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubFiles:
    """What the stand-in serves, and what it saw."""

    files: dict[str, bytes] = field(default_factory=dict)
    drop_after: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str, str | None]] = field(default_factory=list)

    def add(self, repo: str, name: str, data: bytes) -> None:
        self.files[f"{repo}/{name}"] = data


def _parse_range(header: str, size: int) -> tuple[int, int]:
    unit, _, spec = header.partition("=")
    start_text, _, end_text = spec.partition("-")
    if unit.strip() != "bytes":
        raise ValueError(header)
    start = int(start_text)
    end = int(end_text) if end_text else size - 1
    return start, min(end, size - 1)


def make_app(hub: HubFiles) -> Starlette:
    async def resolve(request: Request) -> Response:
        key = f"{request.path_params['org']}/{request.path_params['repo']}/{request.path_params['file']}"
        hub.requests.append((request.method, key, request.headers.get("range")))
        data = hub.files.get(key)
        if data is None:
            return Response("Entry not found", status_code=404, headers={"X-Error-Code": "EntryNotFound"})
        headers = {
            "X-Repo-Commit": COMMIT,
            "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
            "Accept-Ranges": "bytes",
        }
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(data))
            return Response(b"", headers=headers)
        start, end = 0, len(data) - 1
        status = 200
        if "range" in request.headers:
            start, end = _parse_range(request.headers["range"], len(data))
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        body = data[start : end + 1]
        headers["Content-Length"] = str(len(body))
        cut = hub.drop_after.pop(key, None) if status == 200 else None

        async def stream() -> AsyncIterator[bytes]:
            if cut is None:
                yield body
                return
            yield body[:cut]
            raise ConnectionAbortedError("stand-in hub drops the connection mid-transfer")

        return StreamingResponse(stream(), status_code=status, headers=headers)

    async def repo_info(request: Request) -> Response:
        repo = f"{request.path_params['org']}/{request.path_params['repo']}"
        hub.requests.append((request.method, repo, None))
        names = sorted(key.removeprefix(f"{repo}/") for key in hub.files if key.startswith(f"{repo}/"))
        if not names:
            return JSONResponse({"error": "Repository not found"}, status_code=404)
        siblings = [{"rfilename": name} for name in names]
        return JSONResponse({"id": repo, "sha": COMMIT, "private": False, "siblings": siblings})

    return Starlette(
        routes=[
            Route("/{org}/{repo}/resolve/{revision}/{file:path}", resolve, methods=["GET", "HEAD"]),
            Route("/api/models/{org}/{repo}/revision/{revision}", repo_info),
        ]
    )


@contextmanager
def serve_hub(hub: HubFiles) -> Iterator[str]:
    """Run the stand-in on a free 127.0.0.1 port for the duration; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(make_app(hub), host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the stand-in hub did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
