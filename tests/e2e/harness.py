"""Real pieces for end-to-end tests: a private copy of the app built with `satchel build`, a `satchel serve`
process that can be stopped and restarted on the same origin, and polling that works under a strict CSP."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, BrowserType, ConsoleMessage, Error, Page, expect

from satchel.build import BuildResult, build_app
from tests.support.ports import free_port, wait_until_listening

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class BuiltSite:
    """A copy of `app/` that a test may edit, built into its own `dist/`."""

    def __init__(self, root: Path) -> None:
        self.app_dir = root / "app"
        self.dist_dir = root / "dist"
        shutil.copytree(REPO / "app", self.app_dir)

    def build(self) -> BuildResult:
        return build_app(self.app_dir, self.dist_dir, node_modules=REPO / "node_modules")

    def edit(self, relative: str, transform: Callable[[str], str]) -> None:
        path = self.app_dir / relative
        path.write_text(transform(path.read_text()))


class ServerProcess:
    """`satchel serve` in its own process, so a test can cut the network by stopping it."""

    def __init__(
        self,
        dist_dir: Path,
        log_path: Path,
        db_path: Path,
        *,
        allowed_hosts: Sequence[str] = (),
        upstreams: Sequence[str] = (),
    ) -> None:
        self.dist_dir = dist_dir
        self.db_path = db_path
        #: Host names the workspace also accepts (a proxy's, such as a kiosk's nginx, which passes its own on).
        self.allowed_hosts = tuple(allowed_hosts)
        #: Registries whose servers `satchel serve` merges into its registry API (`--upstream`).
        self.upstreams = tuple(upstreams)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self._proc is None, "server already running"
        log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "satchel",
                "serve",
                "--dist",
                str(self.dist_dir),
                "--port",
                str(self.port),
                "--db",
                str(self.db_path),
                *(arg for host in self.allowed_hosts for arg in ("--allowed-host", host)),
                *(arg for url in self.upstreams for arg in ("--upstream", url)),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        wait_until_listening(self._proc, self.port, "satchel serve", self.log_path)

    def stop(self) -> None:
        if self._proc is None:
            return
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._proc = None


#: How long a test waits for a state (the service worker in control, a panel's answer, a result) before it fails.
#: Waits end as soon as the state arrives, so this is a bound, not a delay: generous, because the same suite must
#: hold on a busy two-core machine, where loading the Python runtime alone can take tens of seconds.
STATE_TIMEOUT_S = 120.0
STATE_TIMEOUT_MS = int(STATE_TIMEOUT_S * 1000)
expect.set_options(timeout=STATE_TIMEOUT_MS)


def poll(page: Page, expression: str, *, timeout: float = STATE_TIMEOUT_S, arg: Any = None) -> Any:
    """Evaluate `expression` until it is truthy and return its value.

    `page.wait_for_function` evaluates its predicate with eval(), which the app's CSP forbids; `evaluate` does not.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = page.evaluate(expression, arg)
        except Error as exc:  # a navigation in progress destroys the context: try again
            last = exc
        else:
            if last:
                return last
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {expression!r}; last value: {last!r}")


class ConsoleWatch:
    """Collects console errors, uncaught exceptions and CSP violations of a page."""

    CSP_LISTENER = (
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.add_init_script(self.CSP_LISTENER)
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    @staticmethod
    def _expected(message: ConsoleMessage) -> bool:
        """Chromium logs every 4xx as an error. The MCP client probes each server with a GET for a standalone SSE
        stream, and a server that has none answers 405, as the Streamable HTTP spec says: that one is expected."""
        return "status of 405" in message.text and "/mcp/" in message.location.get("url", "")

    def _on_console(self, message: ConsoleMessage) -> None:
        if self._expected(message):
            return
        if message.type in ("error", "warning") and "Content Security Policy" in message.text:
            self.errors.append(f"CSP: {message.text}")
        elif message.type == "error":
            self.errors.append(f"console.error: {message.text}")

    def csp_violations(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__cspViolations ?? []")
        return violations


def persistent_profile(browser_type: BrowserType, folder: Path) -> tuple[BrowserContext, Page]:
    """Chromium with a real profile (installability and `beforeinstallprompt` need one) and its first page."""
    context = browser_type.launch_persistent_context(
        folder, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    return context, context.pages[0] if context.pages else context.new_page()


@contextmanager
def microphone_browser(
    browser_type: BrowserType, audio: Path | None = None, *, granted: bool = True
) -> Iterator[Browser]:
    """Chromium with a fake microphone: a beep, or `audio` (a WAV) played once from when it opens, then silence.
    Its permission is granted without a prompt, or, with `granted=False`, refused."""
    args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream"]
    if granted:
        args.append("--use-fake-ui-for-media-stream")
    if audio is not None:
        args.append(f"--use-file-for-fake-audio-capture={audio}%noloop")
    browser = browser_type.launch(executable_path=CHROMIUM, args=args, headless=True)
    try:
        yield browser
    finally:
        browser.close()
