"""The app shell installs as a PWA, is controlled by its service worker, survives the network being cut, and
updates only when the user says so — all without a console error or a CSP violation."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import BrowserType, Page, expect

from tests.support.app_page import open_ready
from tests.support.browser import ConsoleWatch, persistent_profile
from tests.support.served_app import BuiltSite, ServerProcess

SHELL_HEADINGS = ["Servers and tools", "Tool", "Notes"]


def expect_full_shell(page: Page) -> None:
    expect(page).to_have_title("Satchel")
    for heading in SHELL_HEADINGS:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    # The stylesheet, the icon and the page modules all came through, not just the HTML.
    assert page.evaluate("getComputedStyle(document.querySelector('.panels')).display") == "grid"
    assert page.evaluate("document.querySelector('.app-title img').naturalWidth") > 0
    expect(page.locator("#storage-status")).to_contain_text(" of ")


def test_page_registers_the_service_worker_and_is_controlled(
    page: Page, server: ServerProcess, console: ConsoleWatch
) -> None:
    status = open_ready(page, server.url)
    assert status.startswith("Ready offline (build ")
    registration = page.evaluate(
        "navigator.serviceWorker.getRegistration().then(r => ({scope: r.scope, script: r.active.scriptURL}))"
    )
    assert registration == {"scope": server.url + "/", "script": server.url + "/sw.js"}
    expect_full_shell(page)
    expect(page.locator("#network-status")).to_have_text("Online")
    assert console.errors == []
    assert console.csp_violations() == []


def test_reload_renders_the_full_shell_with_the_server_stopped_and_the_network_off(
    page: Page, server: ServerProcess, console: ConsoleWatch
) -> None:
    open_ready(page, server.url)
    server.stop()
    page.context.set_offline(True)
    page.reload()
    expect_full_shell(page)
    expect(page.locator("#network-status")).to_have_text("Offline")
    expect(page.locator("#offline-status")).to_have_attribute("data-state", "ready")
    assert page.url == server.url + "/"
    # A deep link is answered with the shell too.
    page.goto(server.url + "/notes/some-note")
    expect_full_shell(page)
    assert console.errors == []
    assert console.csp_violations() == []


def test_rebuild_is_picked_up_after_the_update_notice_and_never_mixed(
    page: Page, site: BuiltSite, server: ServerProcess, console: ConsoleWatch
) -> None:
    old_status = open_ready(page, server.url)
    site.edit("index.html.j2", lambda html: html.replace(">Notes</h2>", ">Field notes</h2>"))
    result = site.build()
    assert set(result.written) == {"index.html", "sw.js"}

    page.reload()  # the browser checks for a new service worker on navigation
    notice = page.locator("#update-notice")
    expect(notice).to_be_visible()
    # Until the user accepts, the page keeps running the build it started with.
    expect(page.get_by_role("heading", name="Notes", exact=True)).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Notes", exact=True)).to_be_visible()
    expect(notice).to_be_visible()

    with page.expect_navigation():
        notice.get_by_role("button", name="Reload to update").click()
    expect(page.get_by_role("heading", name="Field notes", exact=True)).to_be_visible()
    expect(page.locator("#offline-status")).to_have_attribute("data-state", "ready")
    assert page.locator("#offline-status").inner_text() != old_status
    expect(notice).to_be_hidden()
    # Only the new build's cache is left.
    caches = page.evaluate("caches.keys()")
    assert len([name for name in caches if name.startswith("satchel-precache-")]) == 1
    assert console.errors == []
    assert console.csp_violations() == []


def test_app_is_installable_in_a_persistent_profile(
    browser_type: BrowserType, server: ServerProcess, tmp_path: Path
) -> None:
    context, page = persistent_profile(browser_type, tmp_path / "profile")
    try:
        console = ConsoleWatch(page)
        open_ready(page, server.url)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == []
        assert manifest["url"] == server.url + "/manifest.webmanifest"
        assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []
        # The browser offers installation, and the page turns that into its Install button.
        expect(page.locator("#install-button")).to_be_visible()
        assert console.errors == []
    finally:
        context.close()
