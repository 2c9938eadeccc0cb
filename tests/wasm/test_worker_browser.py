"""The WASM llama and whisper servers run in headless Chromium in `/workers/wasi-server.js`, loaded from a page of
the built site as the page's worker pool loads it (docs/architecture.md), and answer exactly as the native servers
do: same greedy tokens, same transcription, progress notifications on the call's port before the response, `end`
last. A module or model whose bytes do not match the registry's sha256 is refused with a JSON-RPC error, and the
worker still answers."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.support.served_app import BuiltSite, ServerProcess
from tests.support.stdio_mcp import response, run_native, tool_call
from tests.wasm.conftest import TinyModels

pytestmark = pytest.mark.e2e

GENERATE = {"prompt": "Once upon a time, in a small village,", "max_tokens": 24}

#: Starts the worker with `config` and sends `messages` one after another; returns what came back on each port.
DRIVE_WORKER = """
async ({ config, messages }) => {
  const statuses = [];
  const worker = new Worker('/workers/wasi-server.js', { type: 'module', name: 'wasm-test' });
  worker.onmessage = ({ data }) => statuses.push(data);
  worker.onerror = (event) => statuses.push({ state: 'crashed', detail: { message: event.message } });
  worker.postMessage({ type: 'init', serverId: 'wasm-test', config });
  const call = (message) => new Promise((resolve) => {
    const channel = new MessageChannel();
    const got = [];
    channel.port1.onmessage = ({ data }) => {
      got.push(data);
      if (data.type === 'end') { channel.port1.close(); resolve(got); }
    };
    worker.postMessage({ type: 'rpc', message }, [channel.port2]);
  });
  const answers = [];
  for (const message of messages) answers.push(await call(message));
  worker.terminate();
  return { answers, statuses };
}
"""


def file_entry(dist: Path, source: Path, *, sha256: str | None = None) -> dict[str, Any]:
    target = dist / "test-wasm" / source.name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(source, target)
    digest = sha256 or hashlib.sha256(source.read_bytes()).hexdigest()
    return {"url": f"/test-wasm/{source.name}", "sha256": digest, "size": source.stat().st_size}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[BuiltSite, ServerProcess]]:
    site = BuiltSite(tmp_path)
    site.build()
    process = ServerProcess(
        site.dist_dir, tmp_path / "server.log", tmp_path / "workspace.db", anonymous_workspace=True
    )
    process.start()
    yield site, process
    process.stop()


def drive(page: Page, config: dict[str, Any], messages: list[str]) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(
        DRIVE_WORKER, {"config": config, "messages": [json.loads(m) for m in messages]}
    )
    return result


def test_wasm_llama_in_a_worker_matches_native(
    page: Page,
    served: tuple[BuiltSite, ServerProcess],
    wasm_servers: dict[str, Path],
    native_servers: dict[str, Path],
    tiny_models: TinyModels,
) -> None:
    site, process = served
    config = {
        "worker": "wasi-server",
        "files": [
            file_entry(site.dist_dir, wasm_servers["llama"]),
            file_entry(site.dist_dir, tiny_models.llama),
        ],
    }
    page.goto(process.url + "/")
    messages = [tool_call(1, "generate", GENERATE, token="g")]
    native = response(run_native(native_servers["llama"], tiny_models.llama, messages), 1)["result"]
    outcome = drive(page, config, ['{"jsonrpc":"2.0","id":0,"method":"tools/list"}', *messages])
    listed, generated = outcome["answers"]
    assert [t["name"] for t in listed[0]["message"]["result"]["tools"]] == ["generate", "summarize", "score"]
    assert [item["type"] for item in generated] == ["message"] * 4 + ["end"]
    progress = [item["message"]["params"]["progress"] for item in generated[:3]]
    assert progress == [8, 16, 24]
    result = generated[3]["message"]["result"]
    assert result["structuredContent"]["tokens"] == native["structuredContent"]["tokens"]
    states = [s["state"] for s in outcome["statuses"] if s.get("type") == "status"]
    assert "ready" in states and "error" not in states


def test_wasm_whisper_in_a_worker_transcribes_like_native(
    page: Page,
    served: tuple[BuiltSite, ServerProcess],
    wasm_servers: dict[str, Path],
    native_servers: dict[str, Path],
    tiny_models: TinyModels,
    speech_wav: Path,
) -> None:
    site, process = served
    config = {
        "worker": "wasi-server",
        "files": [
            file_entry(site.dist_dir, wasm_servers["whisper"]),
            file_entry(site.dist_dir, tiny_models.whisper),
        ],
    }
    page.goto(process.url + "/")
    messages = [
        tool_call(1, "transcribe", {"audio": base64.b64encode(speech_wav.read_bytes()).decode()}, token="w")
    ]
    native = response(run_native(native_servers["whisper"], tiny_models.whisper, messages), 1)["result"]
    (answer,) = drive(page, config, messages)["answers"]
    assert answer[0]["message"]["method"] == "notifications/progress" and answer[-1] == {"type": "end"}
    assert answer[-2]["message"]["result"]["structuredContent"] == native["structuredContent"]


def test_a_model_that_fails_its_sha256_is_refused_and_the_worker_keeps_answering(
    page: Page,
    served: tuple[BuiltSite, ServerProcess],
    wasm_servers: dict[str, Path],
    tiny_models: TinyModels,
) -> None:
    site, process = served
    config = {
        "worker": "wasi-server",
        "files": [
            file_entry(site.dist_dir, wasm_servers["llama"]),
            file_entry(site.dist_dir, tiny_models.llama, sha256="0" * 64),
        ],
    }
    page.goto(process.url + "/")
    outcome = drive(
        page, config, [tool_call(1, "generate", GENERATE), '{"jsonrpc":"2.0","id":2,"method":"ping"}']
    )
    refused, ping = outcome["answers"]
    error = refused[0]["message"]["error"]
    assert error["code"] == -32603 and "does not match its sha256" in error["message"]
    assert refused[-1] == {"type": "end"}
    assert ping[0]["message"]["result"] == {}
