// Dictated notes on this device: each note is written to IndexedDB the moment it exists and after every step of
// its making, so closing the tab never loses more than the step in progress. Its recording lives beside it as
// 16 kHz mono PCM chunks (one chunk per few seconds, never one large buffer), which is what a step interrupted
// by a reload starts again from.

import { getAll, getOne, result, transact } from "./db.js";

export const SAMPLE_RATE = 16_000;
/** A recording is stored, and handed around, in chunks of this many samples (5 s). */
export const CHUNK_SAMPLES = 5 * SAMPLE_RATE;

/**
 * @typedef {{tool: string, server: string, detail?: string}} MadeBy what produced a part of a note
 * @typedef {{status: "local" | "pending" | "queued" | "sent" | "failed", key: string, seq?: number,
 *   remoteId?: number, error?: string, payload?: {title: string, body: string, tags: string[], redacted: boolean}}} NoteSync
 *   payload: the save_note arguments, fixed before the first attempt so every attempt sends the same call
 * @typedef {{id: string, title: string, createdAt: number, updatedAt: number,
 *   stage: "recording" | "recorded" | "transcribed" | "summarized" | "done",
 *   source: "microphone" | "file" | "web-speech", fileName?: string,
 *   audio: {samples: number, chunks: number}, durationS: number,
 *   transcript: string | null, summary: string | null, madeBy: {transcript?: MadeBy, summary?: MadeBy, redaction?: MadeBy},
 *   error?: string, sync: NoteSync}} Note
 */

/**
 * A new note with no content yet; its sync key is fixed now, so whoever sends it, however often, sends it once.
 * @param {{source: Note["source"], fileName?: string}} origin where its audio comes from
 * @returns {Promise<Note>}
 */
export async function createNote({ source, fileName }) {
  const now = Date.now();
  /** @type {Note} */
  const note = {
    id: crypto.randomUUID(),
    title: `Dictation ${new Date(now).toISOString().slice(0, 19).replace("T", " ")} UTC`,
    createdAt: now,
    updatedAt: now,
    stage: "recording",
    source,
    fileName,
    audio: { samples: 0, chunks: 0 },
    durationS: 0,
    transcript: null,
    summary: null,
    madeBy: {},
    sync: { status: "local", key: crypto.randomUUID() },
  };
  await transact("notes", "readwrite", (tx) => void tx.objectStore("notes").add(note));
  return note;
}

/**
 * Merge `changes` into the stored note (read and written in one transaction) and return the stored result.
 * @param {string} id
 * @param {Partial<Note> | ((note: Note) => Partial<Note>)} changes
 * @returns {Promise<Note>}
 */
export function updateNote(id, changes) {
  return transact("notes", "readwrite", async (tx) => {
    const store = tx.objectStore("notes");
    const stored = await result(store.get(id));
    if (!stored) throw new Error(`note ${id} no longer exists`);
    const updated = { ...stored, ...(typeof changes === "function" ? changes(stored) : changes), updatedAt: Date.now() };
    store.put(updated);
    return updated;
  });
}

/** @param {string} id @returns {Promise<Note | undefined>} */
export const getNote = (id) => getOne("notes", id);

/** Every note, newest first. @returns {Promise<Note[]>} */
export async function listNotes() {
  /** @type {Note[]} */
  const notes = await getAll("notes");
  return notes.sort((a, b) => b.createdAt - a.createdAt);
}

/** Delete a note and its recording. @param {string} id */
export function deleteNote(id) {
  return transact(["notes", "audio"], "readwrite", (tx) => {
    tx.objectStore("notes").delete(id);
    tx.objectStore("audio").delete(IDBKeyRange.bound([id, 0], [id, Infinity]));
  });
}

/**
 * Append one chunk of the recording (16 kHz mono PCM) and count it in the note, in one transaction.
 * @param {string} id
 * @param {Int16Array} pcm
 */
export function appendAudio(id, pcm) {
  return transact(["notes", "audio"], "readwrite", async (tx) => {
    const notes = tx.objectStore("notes");
    const note = await result(notes.get(id));
    if (!note) throw new Error(`note ${id} no longer exists`);
    // Stored as an ArrayBuffer of its own: some browsers cannot keep typed-array views or Blobs in IndexedDB.
    const data = pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.byteLength);
    tx.objectStore("audio").put({ noteId: id, index: note.audio.chunks, data });
    const samples = note.audio.samples + pcm.length;
    notes.put({ ...note, audio: { samples, chunks: note.audio.chunks + 1 }, durationS: samples / SAMPLE_RATE, updatedAt: Date.now() });
  });
}

/** The recording of a note, chunk by chunk, in order. @param {string} id @returns {Promise<Int16Array<ArrayBuffer>[]>} */
export async function audioChunks(id) {
  const records = await transact("audio", "readonly", (tx) =>
    result(tx.objectStore("audio").getAll(IDBKeyRange.bound([id, 0], [id, Infinity]))),
  );
  return records.map((/** @type {{data: ArrayBuffer}} */ record) => new Int16Array(record.data));
}

/** Lower case without accents, so "Café" finds "cafe". @param {string} text */
const folded = (text) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

/**
 * Notes holding every word of `query` (in title, transcript or summary), newest first; all notes for no words.
 * @param {Note[]} notes
 * @param {string} query
 */
export function matchNotes(notes, query) {
  const words = folded(query).match(/[\p{L}\p{N}]+/gu) ?? [];
  return notes.filter((note) => {
    const text = folded([note.title, note.transcript ?? "", note.summary ?? ""].join("\n"));
    return words.every((word) => text.includes(word));
  });
}

/** @param {MadeBy | undefined} made */
const describeMaker = (made) => (made ? `${made.tool} (${made.server}${made.detail ? `, ${made.detail}` : ""})` : "—");

/** The note as a Markdown document: title, facts, summary, transcript. @param {Note} note */
export function noteMarkdown(note) {
  const lines = [
    `# ${note.title}`,
    "",
    `- Recorded: ${new Date(note.createdAt).toISOString()}`,
    `- Duration: ${note.durationS.toFixed(1)} s`,
    `- Transcript by: ${describeMaker(note.madeBy.transcript)}`,
    `- Summary by: ${describeMaker(note.madeBy.summary)}`,
    "",
    "## Summary",
    "",
    note.summary || "_No summary._",
    "",
    "## Transcript",
    "",
    note.transcript || "_No transcript._",
    "",
  ];
  return lines.join("\n");
}
