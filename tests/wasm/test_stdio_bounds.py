"""The native stdio driver bounds what it holds of a client's input (wasm/mcp/limits.hpp): a line longer than
MAX_LINE_BYTES is skipped as it arrives, never held whole, and answered with an error in its turn; and while the
server is busy it stops reading once MAX_PENDING_LINES lines wait, so the client's writes block (back-pressure)
and no line is dropped."""

from __future__ import annotations

import base64
import fcntl
import io
import json
import os
import select
import subprocess
import termios
import threading
import wave
from pathlib import Path

from tests.support.stdio_mcp import StdioSession, request, tool_call
from tests.wasm.conftest import TinyModels, cpp_limit

#: How long the client's writes must stay blocked before the test takes it that the server has stopped reading.
#: A server that keeps reading unblocks them in far less; a slower machine only makes the test easier to pass.
STALLED_SECONDS = 3.0


def peak_memory_bytes(pid: int) -> int:
    """The process's peak resident memory (VmHWM in /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmHWM in /proc/{pid}/status")


def test_an_over_long_line_is_answered_with_the_limit_without_being_held(
    native_servers: dict[str, Path], tiny_models: TinyModels
) -> None:
    limit = cpp_limit("MAX_LINE_BYTES")
    padding = "x" * 2**20
    with StdioSession([str(native_servers["whisper"]), "--model", str(tiny_models.whisper)]) as server:
        # Four times the limit, written a piece at a time: a server that held the line whole would hold all of it.
        assert server.process.stdin is not None
        server.process.stdin.write('{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "')
        for _ in range(4 * limit // len(padding)):
            server.process.stdin.write(padding)
        server.process.stdin.write('"}}\n')
        server.send(request(2, "ping"))
        assert server.receive() == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {"code": -32600, "message": f"Invalid request: message longer than {limit} bytes"},
        }
        assert server.receive() == {"jsonrpc": "2.0", "id": 2, "result": {}}
        # The server skipped the line as it came: it held at most the limit of it (while growing its buffer to the
        # limit, the old half as well), never the whole line.
        assert peak_memory_bytes(server.process.pid) < 2 * limit


def one_second_of_silence() -> str:
    """A 16 kHz mono WAV, base64: `transcribe` on it keeps the server busy for about a second."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(b"\x00\x00" * 16000)
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_busy_server_stops_reading_instead_of_queueing_every_line(
    native_servers: dict[str, Path], tiny_models: TinyModels
) -> None:
    # While it transcribes, the server serves nothing; then nobody reads its answers, so it blocks writing them.
    pings = [request(i, "ping") + "\n" for i in range(150_000)]
    busy = tool_call("busy", "transcribe", {"audio": one_second_of_silence()}) + "\n"
    stream = (busy + "".join(pings)).encode()  # 8 MB
    process = subprocess.Popen(
        [str(native_servers["whisper"]), "--model", str(tiny_models.whisper)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        fcntl.fcntl(process.stdout.fileno(), fcntl.F_SETPIPE_SZ, 4096)
        stdin = process.stdin.fileno()
        os.set_blocking(stdin, False)
        written, stalled = 0, False
        while written < len(stream) and not stalled:
            try:
                written += os.write(stdin, stream[written : written + 65536])
            except BlockingIOError:
                stalled = not select.select([], [stdin], [], STALLED_SECONDS)[1]
        unread = bytearray(4)
        fcntl.ioctl(stdin, termios.FIONREAD, unread)
        taken = written - int.from_bytes(unread, "little")
        assert stalled, f"the server read all {written} bytes while it could not answer"
        # What it took: the call, the lines it answered before its output filled, the waiting lines and one more,
        # and what its reader buffered (64 KiB) of the next ones.
        assert taken < len(busy) + 65536 + (cpp_limit("MAX_PENDING_LINES") + 200) * len(pings[-1])

        # Reading the answers lets it go on: every line is served once, in order, none dropped.
        def write_the_rest() -> None:
            os.set_blocking(stdin, True)
            process.stdin.write(stream[written:])  # type: ignore[union-attr]
            process.stdin.close()  # type: ignore[union-attr]

        writer = threading.Thread(target=write_the_rest)
        writer.start()
        ids = [json.loads(line)["id"] for line in process.stdout]
        writer.join()
        assert ids == ["busy", *range(len(pings))]
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
