"""Debian's Chromium for browser tests and benchmarks, and waiting in a page: every wait is for a state, bounded by
`STATE_TIMEOUT_S`, with polling that works under the app's strict CSP; console errors and CSP violations collected."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, BrowserContext, BrowserType, ConsoleMessage, Error, Page, expect

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


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
