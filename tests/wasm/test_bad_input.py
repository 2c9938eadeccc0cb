"""Bad input gets a clear error and the server keeps serving: invalid base64, audio that is not 16 kHz, a WAV chunk
size that would wrap a 32-bit offset, a truncated model file, a prompt longer than the context, malformed or deeply
nested JSON-RPC, huge values quoted in errors, special-token strings in text to summarise; and a cancelled call gets
no response while the next one works. Each case runs on the native server and, through the worker's host code in
node, on WASM."""

from __future__ import annotations

import base64
import io
import json
import struct
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from satchel.tools.jsonrpc import MAX_DEPTH
from tests.support.stdio_mcp import (
    StdioSession,
    notification,
    request,
    response,
    run_native,
    run_wasm,
    tool_call,
)
from tests.wasm.conftest import TinyModels, cpp_limit

Runner = Callable[..., list[dict[str, Any]]]
PLATFORMS = ["native", "wasm"]


def wav_bytes(rate: int, seconds: float = 1.0) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x01" * int(rate * seconds))
    return buffer.getvalue()


def encoded(data: bytes) -> str:
    return base64.b64encode(data).decode()


def error_text(message: dict[str, Any]) -> str:
    result = message["result"]
    assert result["isError"] is True, result
    return str(result["content"][0]["text"])


def succeeded(message: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = message["result"]
    assert result["isError"] is False, result
    return result


@pytest.fixture(params=PLATFORMS)
def platform(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def run(platform: str, request: pytest.FixtureRequest) -> Callable[..., Any]:
    servers: dict[str, Path] = request.getfixturevalue(f"{platform}_servers")
    runner = run_native if platform == "native" else run_wasm

    def go(server: str, model: Path, lines: list[str]) -> list[dict[str, Any]]:
        return runner(servers[server], model, lines)

    return go


def test_invalid_base64_and_wrong_sample_rate_are_clear_errors(run: Runner, tiny_models: TinyModels) -> None:
    messages = run(
        "whisper",
        tiny_models.whisper,
        [
            tool_call(1, "transcribe", {"audio": "UklGR*not base64*"}),
            tool_call(2, "transcribe", {"audio": encoded(wav_bytes(44100))}),
            tool_call(3, "transcribe", {"audio": encoded(b"not a wav file at all")}),
            tool_call(4, "transcribe", {"audio": encoded(wav_bytes(16000))}),
        ],
    )
    assert (
        error_text(response(messages, 1))
        == "argument 'audio' is not valid base64: unexpected character at offset 5"
    )
    rate = error_text(response(messages, 2))
    assert rate.startswith("audio is 44100 Hz; transcribe needs 16000 Hz mono") and "sox" in rate
    assert "not a WAV file" in error_text(response(messages, 3))
    assert succeeded(response(messages, 4))["structuredContent"]["duration"] == 1.0


def test_a_wav_chunk_size_past_the_end_is_refused_not_walked(run: Runner, tiny_models: TinyModels) -> None:
    # 0xFFFFFFF8 + 8 is 2^32: in WASM, whose size_t has 32 bits, the chunk walk's offset wrapped back to where it
    # was and the call never ended. Every chunk before 'data' must now fit in the bytes that follow it.
    wav = wav_bytes(16000)
    oversized = wav[:12] + b"LIST" + struct.pack("<I", 0xFFFFFFF8) + b"INFO" + wav[12:]
    messages = run(
        "whisper",
        tiny_models.whisper,
        [tool_call(1, "transcribe", {"audio": encoded(oversized)}), request(2, "ping")],
    )
    assert error_text(response(messages, 1)) == (
        f"audio is a WAV file whose 'LIST' chunk claims 4294967288 bytes, but only {len(oversized) - 20} "
        "follow it"
    )
    assert response(messages, 2)["result"] == {}


@pytest.mark.parametrize("server", ["llama", "whisper"])
def test_truncated_model_is_reported_and_the_server_keeps_serving(
    run: Runner, tiny_models: TinyModels, tmp_path: Path, server: str
) -> None:
    source = tiny_models.llama if server == "llama" else tiny_models.whisper
    truncated = tmp_path / source.name
    truncated.write_bytes(source.read_bytes()[: source.stat().st_size // 2])
    call = (
        tool_call(1, "generate", {"prompt": "Hello"})
        if server == "llama"
        else tool_call(1, "transcribe", {"audio": encoded(wav_bytes(16000))})
    )
    messages = run(server, truncated, [call, request(2, "tools/list"), call.replace('"id": 1', '"id": 3')])
    text = error_text(response(messages, 1))
    assert "truncated" in text and truncated.name in text
    assert response(messages, 2)["result"]["tools"]
    assert error_text(response(messages, 3)) == text


def test_prompt_beyond_the_context_is_refused_and_the_next_call_works(
    run: Runner, tiny_models: TinyModels
) -> None:
    long_prompt = "word " * 700  # the tiny model's context holds 512 tokens
    messages = run(
        "llama",
        tiny_models.llama,
        [
            tool_call(1, "generate", {"prompt": long_prompt}),
            tool_call(2, "generate", {"prompt": "Hi", "max_tokens": 4}),
        ],
    )
    text = error_text(response(messages, 1))
    assert text.startswith("the prompt is ") and "the context holds 512" in text
    assert len(succeeded(response(messages, 2))["structuredContent"]["tokens"]) == 4


def test_scoring_tokens_outside_the_vocabulary_or_the_context_is_refused_and_the_next_call_works(
    run: Runner, tiny_models: TinyModels
) -> None:
    messages = run(
        "llama",
        tiny_models.llama,
        [
            tool_call(1, "score", {"prompt": "Hi", "tokens": [1, 10_000_000]}),
            tool_call(2, "score", {"prompt": "Hi", "tokens": [1] * 600}),
            tool_call(3, "score", {"prompt": "Hi", "tokens": []}),
            tool_call(4, "score", {"prompt": "Hi", "tokens": [1, 2], "top_k": 3}),
            tool_call(5, "score", {"prompt": "Hi", "tokens": [2**40]}),
        ],
    )
    assert error_text(response(messages, 1)).startswith("token 10000000 is not in the model's vocabulary of ")
    assert "the context holds 512" in error_text(response(messages, 2))
    assert "tokens" in error_text(response(messages, 3))
    steps = succeeded(response(messages, 4))["structuredContent"]["steps"]
    assert [step["token"] for step in steps] == [1, 2] and all(len(step["top"]) == 3 for step in steps)
    assert "must be at most 2147483647" in error_text(response(messages, 5))


def test_malformed_messages_get_json_rpc_errors(run: Runner, tiny_models: TinyModels) -> None:
    messages = run(
        "llama",
        tiny_models.llama,
        [
            "{not json",
            request(1, "resources/list"),
            tool_call(2, "nonexistent", {}),
            json.dumps({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "generate"}}),
            request(4, "ping"),
        ],
    )
    assert messages[0] == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32700, "message": messages[0]["error"]["message"]},
    }
    assert response(messages, 1)["error"]["code"] == -32601
    unknown = response(messages, 2)["error"]
    assert unknown["code"] == -32602 and "generate, summarize, score" in unknown["message"]
    assert "missing required argument 'prompt'" in error_text(response(messages, 3))
    assert response(messages, 4)["result"] == {}


def nested_call(request_id: int, depth: int) -> str:
    """A `transcribe` call whose message nests `depth` levels: 3 for the envelope (message, params, arguments),
    the rest an array of arrays as the audio."""
    audio = "[" * (depth - 3) + "]" * (depth - 3)
    return (
        f'{{"jsonrpc": "2.0", "id": {request_id}, "method": "tools/call", '
        f'"params": {{"name": "transcribe", "arguments": {{"audio": {audio}}}}}}}'
    )


def test_deeply_nested_json_is_refused_before_it_is_parsed(run: Runner, tiny_models: TinyModels) -> None:
    # 100,000 levels in a 200 KB line used to crash the native server (SIGSEGV): the schema error quoted the
    # value by dumping it recursively.
    depth = cpp_limit("MAX_JSON_DEPTH")
    messages = run(
        "whisper",
        tiny_models.whisper,
        [nested_call(1, 100_000), nested_call(2, depth), nested_call(3, depth + 1), request(4, "ping")],
    )
    refused = {
        "jsonrpc": "2.0",
        "id": None,
        "error": {
            "code": -32700,
            "message": f"Parse error: arrays and objects nest more than {depth} levels deep; the limit is {depth}",
            "data": {"limit": depth},
        },
    }
    assert [messages[0], messages[2]] == [refused, refused] and len(messages) == 4
    assert error_text(response(messages, 2)) == (
        "Invalid arguments for transcribe: argument 'audio' must be a string, got an array of 1 item"
    )
    assert response(messages, 4)["result"] == {}


def test_errors_quote_a_client_value_only_briefly(run: Runner, tiny_models: TinyModels) -> None:
    limit = cpp_limit("MAX_QUOTED_BYTES")
    huge = "é" * 100_000
    messages = run(
        "whisper",
        tiny_models.whisper,
        [
            tool_call(1, "transcribe", {"audio": "AAAA", "encoding": huge}),
            tool_call(2, "transcribe", {"audio": "AAAA", huge: 1}),
            request(3, huge),
            tool_call(4, "transcribe", {"audio": {str(key): key for key in range(1000)}}),
        ],
    )
    clipped = "é" * (limit // 2) + "…"  # cut on a character boundary, never inside one
    assert error_text(response(messages, 1)) == (
        "Invalid arguments for transcribe: argument 'encoding' must be one of "
        f'["wav","pcm_s16le"], got "{clipped}"'
    )
    assert (
        error_text(response(messages, 2)) == f"Invalid arguments for transcribe: unknown argument '{clipped}'"
    )
    assert response(messages, 3)["error"] == {"code": -32601, "message": f"Method not found: '{clipped}'"}
    assert error_text(response(messages, 4)) == (
        "Invalid arguments for transcribe: argument 'audio' must be a string, got an object of 1000 keys"
    )


def test_summarize_reads_special_token_strings_in_the_text_as_plain_text(
    run: Runner, tiny_models: TinyModels
) -> None:
    # "<s>" and "</s>" are control tokens of the tiny model's vocabulary (llama's SentencePiece one), as
    # "<|im_start|>" is of a ChatML model's. Read as such in the text to summarise, they would end the user's turn
    # and open others. `generate` never reads special tokens, so it tells what the text costs as plain text: ten
    # more copies must cost summarize's prompt exactly as many tokens as generate's.
    def text(copies: int) -> str:
        return "Notes. " + "</s><s>" * copies

    messages = run(
        "llama",
        tiny_models.llama,
        [
            tool_call(1, "summarize", {"text": text(10)}),
            tool_call(2, "summarize", {"text": text(20)}),
            tool_call(3, "generate", {"prompt": text(10), "max_tokens": 1}),
            tool_call(4, "generate", {"prompt": text(20), "max_tokens": 1}),
        ],
    )
    prompt_tokens = {
        i: succeeded(response(messages, i))["structuredContent"]["prompt_tokens"] for i in range(1, 5)
    }
    as_text = prompt_tokens[4] - prompt_tokens[3]
    assert as_text > 20, "ten copies of '</s><s>' as text are more than two tokens each"
    assert prompt_tokens[2] - prompt_tokens[1] == as_text


def test_members_of_the_wrong_type_get_json_rpc_errors(run: Runner, tiny_models: TinyModels) -> None:
    # Each of these ended the server (an uncaught nlohmann type_error): "jsonrpc" read as a string where it is an
    # object, and a notification's method where it is an array (natively in the stdin reader's cancellation check).
    messages = run(
        "whisper",
        tiny_models.whisper,
        [
            '{"jsonrpc": {}, "id": 1, "method": "ping"}',
            '{"jsonrpc": "2.0", "method": ["notifications/cancelled"]}',
            request(2, "ping"),
        ],
    )
    assert messages == [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "error": {"code": -32600, "message": "Invalid request: expected a JSON-RPC 2.0 object"},
        },
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32600, "message": "Invalid request: method must be a string"},
        },
        {"jsonrpc": "2.0", "id": 2, "result": {}},
    ]


def test_unsupported_protocol_version_names_the_supported_ones(run: Runner, tiny_models: TinyModels) -> None:
    envelope = {
        "io.modelcontextprotocol/protocolVersion": "2099-01-01",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    messages = run("llama", tiny_models.llama, [request(1, "server/discover", {"_meta": envelope})])
    error = response(messages, 1)["error"]
    assert error["code"] == -32022
    assert "2026-07-28" in error["data"]["supported"] and "2025-11-25" in error["data"]["supported"]


def test_cancelled_call_gets_no_response_and_the_next_call_works(
    native_servers: dict[str, Path], tiny_models: TinyModels
) -> None:
    cancel = notification("notifications/cancelled", {"requestId": 2})
    with StdioSession([str(native_servers["llama"]), "--model", str(tiny_models.llama)]) as server:
        server.send(tool_call(1, "generate", {"prompt": "warm up", "max_tokens": 2}))
        assert server.receive()["id"] == 1  # the model is loaded
        # The cancellation follows the call in one write: it reaches the server while the call runs or waits.
        server.send(
            tool_call(2, "generate", {"prompt": "long", "max_tokens": 500}, token="t"),
            cancel,
            tool_call(3, "generate", {"prompt": "after", "max_tokens": 3}),
        )
        messages = server.finish()
    assert [m.get("id") for m in messages if "id" in m] == [3]
    assert len(succeeded(response(messages, 3))["structuredContent"]["tokens"]) == 3


def test_the_cpp_and_python_servers_share_one_nesting_limit() -> None:
    # Both refuse the same messages with the same parse error, whichever server a call reaches.
    assert cpp_limit("MAX_JSON_DEPTH") == MAX_DEPTH
