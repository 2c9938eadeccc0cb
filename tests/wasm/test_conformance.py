"""Conformance: the official MCP Python client (`mcp` 2.3) launches the native whisper and llama servers over
stdio, negotiates (2026 `server/discover`, and the 2025-11-25 `initialize` handshake with mode="legacy"), lists
the tools and calls them. The client validates every structured result against the tool's outputSchema."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.wasm.conftest import TinyModels


def parameters(server: Path, model: Path) -> StdioServerParameters:
    return StdioServerParameters(command=str(server), args=["--model", str(model)])


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_llama_server_speaks_both_eras_to_the_official_client(
    native_servers: dict[str, Path], tiny_models: TinyModels, mode: str
) -> None:
    async with Client(parameters(native_servers["llama"], tiny_models.llama), mode=mode) as client:
        assert client.protocol_version == ("2026-07-28" if mode == "auto" else "2025-11-25")
        assert client.server_info is not None and client.server_info.name == "satchel-llama"
        listed = await client.list_tools()
        assert [tool.name for tool in listed.tools] == ["generate", "summarize", "score"]
        assert all(tool.output_schema is not None for tool in listed.tools)

        updates: list[tuple[float, float | None, str | None]] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            updates.append((progress, total, message))

        result = await client.call_tool(
            "generate", {"prompt": "Once upon a time", "max_tokens": 24}, progress_callback=on_progress
        )
        assert result.is_error is False, result.content
        structured = result.structured_content
        assert structured is not None
        assert len(structured["tokens"]) == 24 and structured["finish_reason"] == "length"
        # One notification per 8 tokens; together their messages spell the text generated so far.
        assert [(p, t) for p, t, _ in updates] == [(8, 24), (16, 24), (24, 24)]
        assert structured["text"].startswith("".join(m or "" for _, _, m in updates[:2]))

        summary = await client.call_tool(
            "summarize", {"text": "Cats sleep a lot. Dogs bark.", "length": "short"}
        )
        assert summary.is_error is False, summary.content
        assert summary.structured_content is not None and summary.structured_content["prompt_tokens"] > 10

        invalid = await client.call_tool("generate", {"prompt": "x", "max_tokens": 0, "colour": "red"})
        assert invalid.is_error is True
        text = invalid.content[0].text  # type: ignore[union-attr]
        assert "max_tokens" in text and "unknown argument 'colour'" in text


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_whisper_server_transcribes_for_the_official_client(
    native_servers: dict[str, Path], tiny_models: TinyModels, speech_wav: Path, mode: str
) -> None:
    async with Client(parameters(native_servers["whisper"], tiny_models.whisper), mode=mode) as client:
        assert client.server_info is not None and client.server_info.name == "satchel-whisper"
        listed = await client.list_tools()
        assert [tool.name for tool in listed.tools] == ["transcribe"]
        seen: list[float] = []

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            seen.append(progress)

        audio = base64.b64encode(speech_wav.read_bytes()).decode()
        result = await client.call_tool("transcribe", {"audio": audio}, progress_callback=on_progress)
        assert result.is_error is False, result.content
        structured = result.structured_content
        assert structured is not None
        assert structured["language"] == "en" and 2.0 < structured["duration"] < 4.0
        for segment in structured["segments"]:
            assert 0 <= segment["t0"] <= segment["t1"]
        assert seen[0] == 0 and seen == sorted(set(seen))
