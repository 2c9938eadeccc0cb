"""Opening the app in a page and waiting until it works offline: the service worker controls the page, and the
offline status says the build is precached. The states are polled as named expressions, so every test and benchmark
waits for the same thing, bounded by `STATE_TIMEOUT_S`."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import Page

from tests.support.browser import STATE_TIMEOUT_S, poll

#: True once a service worker controls the page (it has installed the build and claimed the page).
SW_CONTROLS = "navigator.serviceWorker.controller !== null"
#: The offline status's text ("Ready offline (build …)") once it is `data-state="ready"`, else false.
OFFLINE_READY = (
    "(() => { const s = document.querySelector('#offline-status');"
    " return s?.dataset.state === 'ready' && s.textContent; })()"
)


def wait_controlled(page: Page) -> None:
    """Wait until a service worker controls `page`."""
    poll(page, SW_CONTROLS)


def wait_ready(page: Page) -> str:
    """Wait until a service worker controls `page` and the offline status is ready; returns the status's text."""
    wait_controlled(page)
    status: str = poll(page, OFFLINE_READY)
    return status


def open_controlled(page: Page, url: str) -> None:
    """Open the app at `url` and wait until a service worker controls it."""
    page.goto(url)
    wait_controlled(page)


def open_ready(page: Page, url: str) -> str:
    """Open the app at `url` and wait until it is ready offline; returns the offline status's text."""
    page.goto(url)
    return wait_ready(page)


def reload_controlled(page: Page) -> None:
    """Reload (new workers, nothing in memory) and wait until a service worker controls the page again."""
    page.reload()
    wait_controlled(page)


def reload_ready(page: Page) -> str:
    """Reload and wait until the page is ready offline again; returns the offline status's text."""
    page.reload()
    return wait_ready(page)


def restart_service_worker(page: Page) -> None:
    """Stop the service worker of `page`'s site, as the browser does when it is idle, and wait until it has stopped:
    the next request starts it afresh, with nothing in memory (DevTools' "Stop" on chrome://serviceworker-internals)."""
    cdp = page.context.new_cdp_session(page)
    states: list[str] = []

    def record(event: dict[str, Any]) -> None:
        states.extend(version["runningStatus"] for version in event["versions"])

    cdp.on("ServiceWorker.workerVersionUpdated", record)
    cdp.send("ServiceWorker.enable")
    cdp.send("ServiceWorker.stopAllWorkers")
    deadline = time.monotonic() + STATE_TIMEOUT_S
    while "stopped" not in states:
        assert time.monotonic() < deadline, f"the service worker did not stop: {states}"
        page.wait_for_timeout(100)  # lets Playwright deliver the CDP events
    cdp.detach()
