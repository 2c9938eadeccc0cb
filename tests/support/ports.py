"""Local servers that tests start: a free port to listen on, the wait until a process listens, and its stop."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (the OS picks it; the caller binds it soon after)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_listening(
    proc: subprocess.Popen[bytes], port: int, name: str, log_path: Path, timeout: float = 60
) -> None:
    """Return once `proc` accepts connections on `port`; fail with its log if it exits or never listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{name} did not start: {log_path.read_text()}")


def stop_process(proc: subprocess.Popen[bytes], signal_number: int) -> None:
    """Ask `proc` to stop with `signal_number`; kill it if it has not exited 10 s later."""
    proc.send_signal(signal_number)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
