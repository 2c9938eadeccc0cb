// The notes list: every dictated note from IndexedDB, newest first, searchable offline, each with its summary,
// transcript, what made them, where it stands (still being made, interrupted, and its sync to the workspace),
// and what can be done with it: finish it, sync it again, export it as Markdown, delete it.
import { deleteNote, listNotes, matchNotes, noteMarkdown } from "../common/notes.js";
import { h } from "./dom.js";

const STAGE_TEXT = {
  recording: "recording",
  recorded: "recorded, not transcribed",
  transcribed: "transcribed, not summarised",
  summarized: "summarised",
  done: "done",
};
const SYNC_TEXT = {
  local: "on this device only",
  pending: "not synced yet",
  queued: "queued for the workspace",
  sent: "synced",
  failed: "sync failed",
};

/** Offer `text` as a file download. @param {string} name @param {string} text */
export function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/markdown" }));
  const link = h("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

const fileName = (note) => `${note.title.replace(/[^\w-]+/g, "-").replace(/-+$/, "")}.md`;

const madeByText = (made) => (made ? `${made.tool} on ${made.server}${made.detail ? ` (${made.detail})` : ""}` : "—");

/**
 * @param {{list: HTMLElement, search: HTMLInputElement, exportAll: HTMLButtonElement}} elements
 * @param {{busyNote: () => string | null, onFinish: (id: string) => void, onSync: (id: string) => void}} actions
 * @returns {{refresh: () => Promise<void>}}
 */
export function notesPanel({ list, search, exportAll }, actions) {
  /** @type {import("../common/notes.js").Note[]} */
  let notes = [];

  const item = (note) => {
    const busy = actions.busyNote() === note.id;
    const unfinished = note.stage !== "done" && !busy;
    return h(
      "li",
      { class: "note", dataset: { noteId: note.id, stage: note.stage, sync: note.sync.status } },
      h("h3", { class: "note-title" }, note.title),
      h(
        "p",
        { class: "note-facts" },
        h("time", { datetime: new Date(note.createdAt).toISOString() }, new Date(note.createdAt).toLocaleString()),
        ` · ${note.durationS.toFixed(1)} s · `,
        h("span", { class: "badge note-stage" }, busy ? "in progress" : unfinished ? `interrupted: ${STAGE_TEXT[note.stage]}` : STAGE_TEXT[note.stage]),
        " ",
        h("span", { class: "badge note-sync", dataset: { sync: note.sync.status } }, SYNC_TEXT[note.sync.status]),
      ),
      note.error && !busy ? h("p", { class: "note-error", role: "alert" }, note.error) : null,
      note.sync.error && note.sync.status !== "sent" ? h("p", { class: "note-error" }, note.sync.error) : null,
      note.summary !== null ? h("div", { class: "note-summary" }, h("strong", {}, "Summary: "), note.summary || "(nothing to summarise)") : null,
      note.transcript !== null ? h("details", { class: "note-transcript" }, h("summary", {}, "Transcript"), h("p", {}, note.transcript || "(no speech recognised)")) : null,
      h(
        "p",
        { class: "note-made-by" },
        `Transcript: ${madeByText(note.madeBy.transcript)}. Summary: ${madeByText(note.madeBy.summary)}.`,
        note.sync.payload?.redacted ? " Redacted before syncing." : "",
      ),
      h(
        "p",
        { class: "actions" },
        unfinished ? h("button", { type: "button", class: "link-button", onclick: () => actions.onFinish(note.id) }, "Continue") : null,
        note.stage === "done" && !busy && ["pending", "failed", "local"].includes(note.sync.status)
          ? h("button", { type: "button", class: "link-button", onclick: () => actions.onSync(note.id) }, "Sync now")
          : null,
        h("button", { type: "button", class: "link-button", onclick: () => download(fileName(note), noteMarkdown(note)) }, "Export Markdown"),
        busy
          ? null
          : h("button", { type: "button", class: "link-button", onclick: async () => {
              if (!confirm(`Delete “${note.title}” from this device?`)) return;
              await deleteNote(note.id);
              await refresh();
            } }, "Delete"),
      ),
    );
  };

  const render = () => list.replaceChildren(...matchNotes(notes, search.value).map(item));

  async function refresh() {
    notes = await listNotes();
    render();
  }

  search.addEventListener("input", render);
  exportAll.addEventListener("click", () => {
    const shown = matchNotes(notes, search.value);
    if (shown.length) download("satchel-notes.md", shown.map(noteMarkdown).join("\n---\n\n"));
  });
  return { refresh };
}
