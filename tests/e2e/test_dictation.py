"""Dictation without models: what the user is told when the microphone is refused or no speech-to-text model is
on the device (the browser's speech service is offered, with its warning, and never used unasked), what the note
says when the local language model fails (the extractive summary, and why), and an existing version-1 database
that gains the notes stores without losing its queue.

The whole flow with the real models (record → transcript → summary → synced note) is in test_dictation_models.py.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import BrowserType, Page, expect

from satchel.build import WasmServerSources, build_app
from satchel.digests import HashedFile
from satchel.models.tiny import make_tiny_models
from satchel.policy import parse_policy_toml
from satchel.wasm import build_servers
from tests.conftest import REPO
from tests.e2e.host_page import open_with_workspace_tools
from tests.support.app_page import open_controlled
from tests.support.browser import ConsoleWatch, microphone_browser, poll
from tests.support.served_app import ServerProcess
from tests.support.speech import spoken_wav

#: Every note the page keeps, as stored in IndexedDB.
NOTES = """async () => {
  const { listNotes } = await import('/common/notes.js');
  return await listNotes();
}"""


#: A stand-in for the browser's speech service (Chrome's sends audio to its servers, which a test cannot reach):
#: it hears SPOKEN_TEXT once started and ends when stopped, as SpeechRecognition does.
SPOKEN_TEXT = (
    "The report is due on Friday. Write to maria.lopez@example.org about the budget. The rest can wait."
)
FAKE_SPEECH_SERVICE = """
window.__speechStarts = 0;
window.SpeechRecognition = window.webkitSpeechRecognition = class {
  start() {
    window.__speechStarts += 1;
    const result = Object.assign([{ transcript: TEXT }], { isFinal: true });
    setTimeout(() => this.onresult({ resultIndex: 0, results: [result] }), 50);
  }
  stop() { setTimeout(() => this.onend(), 20); }
};
""".replace("TEXT", json.dumps(SPOKEN_TEXT))


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return spoken_wav(tmp_path_factory.mktemp("audio"))


def test_a_refused_microphone_says_so_and_keeps_no_note(
    browser_type: BrowserType, server: ServerProcess
) -> None:
    with microphone_browser(browser_type, granted=False) as browser:
        page = browser.new_page()
        open_with_workspace_tools(page, server.url)
        page.get_by_role("button", name="Record").click()
        expect(page.locator("#dictation-message")).to_contain_text("Microphone access was refused")
        expect(page.get_by_role("button", name="Record")).to_have_attribute("aria-pressed", "false")
        assert page.evaluate(NOTES) == []


def test_without_a_whisper_model_the_speech_service_is_offered_with_its_warning_and_not_used(
    page: Page, server: ServerProcess, speech: Path, console: ConsoleWatch
) -> None:
    page.add_init_script(FAKE_SPEECH_SERVICE)  # counts starts: it must only start when the user asks
    open_with_workspace_tools(page, server.url)
    # The view publishes what it offers once it knows; whatever else is still loading (the Python runtime) must
    # not hold that decision back.
    panel = page.locator("#notes-panel")
    expect(panel).to_have_attribute("data-transcription", re.compile(".+"))
    assert panel.get_attribute("data-transcription") == "speech-service"
    fallback = page.locator("#speech-fallback")
    expect(fallback).to_be_visible()
    expect(fallback).to_contain_text("it may send your audio over the network")

    page.locator("#audio-file").set_input_files(speech)
    expect(page.locator("#dictation-message")).to_contain_text(
        "No speech-to-text model is on this device yet."
    )
    notes = page.evaluate(NOTES)
    assert len(notes) == 1 and notes[0]["stage"] == "recorded" and notes[0]["transcript"] is None
    assert notes[0]["durationS"] == pytest.approx(speech.stat().st_size / 32000, abs=0.01)
    note = page.locator("#note-list > li")
    expect(note).to_contain_text("recorded, not transcribed")
    expect(note.get_by_role("button", name="Continue")).to_be_visible()
    assert page.evaluate("window.__speechStarts") == 0
    assert console.csp_violations() == []


def test_an_unreadable_audio_file_is_refused_with_its_name(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-audio.wav"
    bogus.write_text("this is not a recording")
    open_with_workspace_tools(page, server.url)
    page.locator("#audio-file").set_input_files(bogus)
    expect(page.locator("#dictation-message")).to_contain_text("“not-audio.wav” could not be read as audio")
    assert page.evaluate(NOTES) == []


def test_a_version_1_database_keeps_its_queue_and_gains_the_later_stores(
    page: Page, server: ServerProcess
) -> None:
    # A page of our origin that runs none of the app, so the old schema can be written first.
    page.goto(f"{server.url}/icons/icon.svg")
    page.evaluate(
        """() => new Promise((resolve, reject) => {
          const open = indexedDB.open('satchel', 1);
          open.onupgradeneeded = () => {
            const db = open.result;
            db.createObjectStore('servers', { keyPath: 'name' });
            db.createObjectStore('tools', { keyPath: 'server' });
            const queue = db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true });
            queue.createIndex('status', 'status');
            queue.createIndex('key', 'key', { unique: true });
            db.createObjectStore('approvals', { keyPath: 'id' });
            db.createObjectStore('meta', { keyPath: 'key' });
            queue.add({ server: 'io.satchel/workspace', url: '/mcp/workspace', tool: 'save_note', key: 'old-key',
              arguments: { title: 'kept', body: 'from version 1' }, status: 'failed', attempts: 1,
              nextAttemptAt: 0, createdAt: Date.now(), updatedAt: Date.now(), error: 'kept across the upgrade' });
          };
          open.onsuccess = () => { open.result.close(); resolve(true); };
          open.onerror = () => reject(open.error);
        })"""
    )
    open_with_workspace_tools(page, server.url)
    expect(page.locator("#outbox-list .outbox-entry")).to_have_count(1)
    expect(page.locator("#outbox-list")).to_contain_text("kept across the upgrade")
    stores = poll(
        page,
        """() => new Promise((resolve) => {
          const open = indexedDB.open('satchel');
          open.onsuccess = () => {
            const db = open.result;
            resolve({ version: db.version, stores: [...db.objectStoreNames] });
            db.close();
          };
        })""",
    )
    assert stores == {
        "version": 3,
        "stores": ["approvals", "audio", "auth", "meta", "notes", "queue", "servers", "tools"],
    }


def test_the_redaction_setting_is_kept_and_a_policy_that_requires_redaction_locks_it(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    open_with_workspace_tools(page, server.url)
    setting = page.get_by_label("Redact personal data before syncing")
    expect(setting).to_be_checked()
    setting.uncheck()
    stored = "async () => (await (await import('/common/mirror.js')).getMeta('dictation.redactBeforeSync')) === false"
    poll(page, stored)
    page.reload()
    open_with_workspace_tools(page, server.url)
    expect(setting).not_to_be_checked()
    expect(setting).to_be_enabled()

    managed_dist = tmp_path / "managed"
    policy = 'organization = "Riverside Clinic"\n[sync]\nredact_before_sync = true\n'
    build_app(
        REPO / "app", managed_dist, node_modules=REPO / "node_modules", policy=parse_policy_toml(policy)
    )
    managed = ServerProcess(
        managed_dist, tmp_path / "managed.log", tmp_path / "managed.db", anonymous_workspace=True
    )
    managed.start()
    try:
        open_with_workspace_tools(page, managed.url)
        expect(setting).to_be_checked()
        expect(setting).to_be_disabled()
        expect(page.locator("#redact-managed")).to_have_text("Managed by your organisation")
    finally:
        managed.stop()


def test_a_reload_while_recording_keeps_what_was_recorded(
    browser_type: BrowserType, server: ServerProcess
) -> None:
    with microphone_browser(browser_type) as browser:
        page = browser.new_page()
        open_with_workspace_tools(page, server.url)
        page.get_by_role("button", name="Record").click()
        expect(page.locator("#note-list .note-stage")).to_have_text("in progress")
        expect(page.locator("#record-timer")).to_have_text("0:06")
        page.reload()
        open_with_workspace_tools(page, server.url)
        [note] = page.evaluate(NOTES)
        assert note["stage"] == "recording" and note["audio"]["chunks"] >= 1 and note["durationS"] >= 5
        item = page.locator("#note-list > li")
        expect(item.locator(".note-stage")).to_have_text("interrupted: recording")
        expect(item.get_by_role("button", name="Continue")).to_be_visible()


def test_browser_speech_then_extractive_summary_then_a_redacted_note_in_the_workspace(
    page: Page, server: ServerProcess
) -> None:
    page.add_init_script(FAKE_SPEECH_SERVICE)
    open_with_workspace_tools(page, server.url)
    page.get_by_role("button", name="Dictate with the browser's speech service").click()
    progress = page.locator("#dictation-progress")
    expect(page.locator("#dictation-message")).to_have_text("")
    expect(progress).to_contain_text(SPOKEN_TEXT)
    progress.get_by_role("button", name="Cancel").click()  # stops listening; what was heard is kept
    page.locator("#approval-dialog").get_by_role("button", name="Allow once").click()
    [note] = poll(
        page, f"async () => {{ const n = await ({NOTES})(); return n[0]?.sync.status === 'sent' && n; }}"
    )
    assert page.evaluate("window.__speechStarts") == 1
    assert note["transcript"] == SPOKEN_TEXT
    assert note["madeBy"]["transcript"]["server"] == "browser"
    assert note["madeBy"]["summary"] == {
        "tool": "summarize_extractive",
        "server": "io.satchel/tools",
        "detail": "TextRank; no local language model on this device",
    }
    assert note["summary"] and set(note["summary"].split()) <= set(SPOKEN_TEXT.split())
    item = page.locator("#note-list > li")
    expect(item.locator(".note-made-by")).to_contain_text("Summary: summarize_extractive on io.satchel/tools")
    expect(item.locator(".note-made-by")).to_contain_text("Redacted before syncing.")
    with sqlite3.connect(server.db_path) as db:
        [(body,)] = db.execute("SELECT body FROM notes").fetchall()
    assert "maria.lopez@example.org" not in body and "[EMAIL]" in body
    assert "maria.lopez@example.org" in note["transcript"], "the note on the device keeps what was said"


def test_a_policy_that_allows_no_sync_keeps_notes_on_the_device(page: Page, tmp_path: Path) -> None:
    dist = tmp_path / "local-only"
    policy = 'organization = "Riverside Clinic"\n[sync]\nremote_allowed = false\n'
    build_app(REPO / "app", dist, node_modules=REPO / "node_modules", policy=parse_policy_toml(policy))
    local_only = ServerProcess(
        dist, tmp_path / "server.log", tmp_path / "workspace.db", anonymous_workspace=True
    )
    local_only.start()
    try:
        page.add_init_script(FAKE_SPEECH_SERVICE)
        open_controlled(page, local_only.url)
        page.get_by_role("button", name="Dictate with the browser's speech service").click()
        expect(page.locator("#dictation-progress")).to_contain_text(SPOKEN_TEXT)
        page.locator("#dictation-progress").get_by_role("button", name="Cancel").click()
        [note] = poll(
            page, f"async () => {{ const n = await ({NOTES})(); return n[0]?.stage === 'done' && n; }}"
        )
        assert note["summary"] and note["madeBy"]["summary"]["tool"] == "summarize_extractive"
        assert note["sync"]["status"] == "local" and "payload" not in note["sync"]
        item = page.locator("#note-list > li")
        expect(item.locator(".note-sync")).to_have_text("on this device only")
        expect(item).to_contain_text("Kept on this device: your organisation's policy allows no sync.")
        expect(page.locator("#approval-dialog")).to_be_hidden()
    finally:
        local_only.stop()
    with sqlite3.connect(local_only.db_path) as db:
        assert db.execute("SELECT count(*) FROM notes").fetchone()[0] == 0


def test_when_the_local_language_model_fails_the_summary_is_extractive_and_says_why(
    page: Page, tmp_path: Path
) -> None:
    # A site with the llama server but a model it cannot get (gone from the server): the summary still comes, from
    # the extractive tool, and the note records why the language model did not make it.
    (tiny_llama, _whisper) = make_tiny_models(tmp_path / "tiny", seed=0, log=lambda _line: None)
    (built, *_) = build_servers(["wasm"], log=lambda _line: None)
    dist = tmp_path / "llama-only"
    sources = WasmServerSources(wasm_dir=built.path.parent, models={"llama": HashedFile.of(tiny_llama)})
    build_app(REPO / "app", dist, node_modules=REPO / "node_modules", wasm_sources=sources)
    (dist / "models" / tiny_llama.name).unlink()
    site = ServerProcess(dist, tmp_path / "server.log", tmp_path / "workspace.db", anonymous_workspace=True)
    site.start()
    try:
        page.add_init_script(FAKE_SPEECH_SERVICE)
        open_with_workspace_tools(page, site.url)
        page.get_by_role("button", name="Dictate with the browser's speech service").click()
        expect(page.locator("#dictation-progress")).to_contain_text(SPOKEN_TEXT)
        page.locator("#dictation-progress").get_by_role("button", name="Cancel").click()
        page.locator("#approval-dialog").get_by_role("button", name="Allow once").click()
        [note] = poll(
            page,
            f"async () => {{ const n = await ({NOTES})(); return n[0]?.stage === 'done' && n; }}",
        )
    finally:
        site.stop()
    made = note["madeBy"]["summary"]
    assert made["tool"] == "summarize_extractive", made
    assert made["detail"].startswith("TextRank; the local language model failed: "), made
    assert tiny_llama.name in made["detail"] and "404" in made["detail"], made
    assert note["summary"] and set(note["summary"].split()) <= set(SPOKEN_TEXT.split())
