// The steps that make a dictated note, each one a tool call through the MCP host (so the router decides where it
// runs, and approval and the managed policy apply as for any call): transcribe (whisper, WASM), summarise (the
// local LLM when there is one, else the extractive summariser on Pyodide), redact (Pyodide) and save_note on the
// workspace (queued while offline). The note is written to IndexedDB after every step, and `finish` runs only the
// steps a note still lacks, so a note interrupted by a reload or a cancel is finished, never made twice.
import { QUEUED_KEY } from "../common/mcp-client.js";
import { getMeta, getTools, localConfig } from "../common/mirror.js";
import { fileName, modelFiles } from "../common/model-store.js";
import { audioChunks, getNote, noteMarkdown, updateNote } from "../common/notes.js";
import { redactionRequired, remoteAllowed } from "../common/policy.js";
import { blobBase64, wavBlob } from "./audio/wav.js";
import { askServiceWorker } from "./sw-client.js";
import { WASM_SERVERS } from "./wasm-servers.js";

export const WHISPER = WASM_SERVERS.whisper;
export const LLAMA = WASM_SERVERS.llama;
export const PYTHON_TOOLS = "io.satchel/tools";
export const WORKSPACE = "io.satchel/workspace";
/** Where the user's "Redact personal data before syncing" choice is kept (IndexedDB meta). */
export const REDACT_SETTING = "dictation.redactBeforeSync";

/** The user's choice: redact before syncing unless they turned it off. @returns {Promise<boolean>} */
export async function redactSetting() {
  return (await getMeta(REDACT_SETTING)) ?? true;
}
/** whisper's `transcribe` takes at most 600 s per call; longer recordings go in parts of whole stored chunks. */
const SEGMENT_CHUNKS = 120;

/**
 * @typedef {{step: "transcribe" | "summarize" | "redact" | "sync", label: string, fraction?: number, text?: string}} StepProgress
 * @typedef {{signal?: AbortSignal, onProgress?: (progress: StepProgress) => void}} RunOptions
 */

/** The text of a tools/call result that reported an error. */
const errorText = (result) => (result.content ?? []).map((part) => part.text ?? "").join(" ").trim() || "the tool reported an error";

/** The model file a local WASM server runs (for "made by"), e.g. ggml-tiny.en-f16.bin. */
function modelName(server) {
  const [model] = modelFiles(localConfig(server));
  return model ? decodeURIComponent(fileName(model.url)) : undefined;
}

export class DictationFlow {
  /** @param {{host: import("./mcp-host.js").McpHost, policy: any, redactSetting: () => Promise<boolean>}} options */
  constructor({ host, policy, redactSetting }) {
    this.host = host;
    this.policy = policy;
    this.redactSetting = redactSetting;
  }

  /** The registry entry of `name` when this app may use it and its tool is known, else undefined. */
  async usable(name, tool) {
    const server = (await this.host.servers()).find((entry) => entry.name === name);
    if (!server) return undefined;
    await this.host.refreshTools(server);
    const tools = await getTools(name);
    return tools?.tools.some((entry) => entry.name === tool) ? server : undefined;
  }

  /** Whether speech can be transcribed on this device (a whisper server is in the registry). */
  async canTranscribe() {
    return Boolean(await this.usable(WHISPER, "transcribe"));
  }

  /**
   * Call a tool; a result that reports an error is thrown as one.
   * @param {string} server @param {string} tool @param {any} args
   * @param {{signal?: AbortSignal, onprogress?: (progress: any) => void}} options
   * @returns {Promise<any>} the tools/call result
   */
  async #call(server, tool, args, options) {
    const result = await this.host.call(server, tool, args, options);
    if (result.isError) throw new Error(`${tool}: ${errorText(result)}`);
    return result;
  }

  /**
   * Run every step the note still lacks, in order; resolves with the note as stored after the last one.
   * @param {string} id
   * @param {RunOptions} options
   */
  async finish(id, options = {}) {
    let note = await getNote(id);
    if (!note) throw new Error("this note no longer exists");
    try {
      if (note.transcript === null) note = await this.transcribe(note, options);
      if (note.summary === null) note = await this.summarize(note, options);
      if (note.stage !== "done") note = await updateNote(id, { stage: "done", error: undefined });
    } catch (error) {
      const message = options.signal?.aborted ? "Cancelled; the note is kept as far as it got." : error.message;
      await updateNote(id, { error: message });
      throw error;
    }
    return this.sync(note, options);
  }

  /** @param {import("../common/notes.js").Note} note @param {RunOptions} options */
  async transcribe(note, { signal, onProgress = () => {} }) {
    const server = await this.usable(WHISPER, "transcribe");
    if (!server) throw new Error("No speech-to-text model is on this device yet.");
    const chunks = await audioChunks(note.id);
    if (!chunks.length) throw new Error("This note has no recorded audio to transcribe.");
    const parts = [];
    const segments = Math.ceil(chunks.length / SEGMENT_CHUNKS);
    for (let index = 0; index < segments; index += 1) {
      const audio = await blobBase64(wavBlob(chunks.slice(index * SEGMENT_CHUNKS, (index + 1) * SEGMENT_CHUNKS)));
      const label = `Transcribing with whisper${segments > 1 ? ` (part ${index + 1} of ${segments})` : ""}…`;
      onProgress({ step: "transcribe", label, fraction: index / segments, text: parts.join(" ") });
      const result = await this.#call(WHISPER, "transcribe", { audio }, {
        signal,
        onprogress: ({ progress, total }) =>
          onProgress({ step: "transcribe", label, fraction: (index + (total ? progress / total : 0)) / segments, text: parts.join(" ") }),
      });
      parts.push(result.structuredContent.text.trim());
    }
    const transcript = parts.filter(Boolean).join(" ");
    return updateNote(note.id, {
      transcript,
      stage: "transcribed",
      madeBy: { ...note.madeBy, transcript: { tool: "transcribe", server: WHISPER, detail: modelName(server) } },
    });
  }

  /**
   * Save a transcript made elsewhere (the browser's speech service) as the note's transcript.
   * @param {string} id @param {string} transcript @param {import("../common/notes.js").MadeBy} madeBy
   */
  saveTranscript(id, transcript, madeBy) {
    return updateNote(id, (note) => ({ transcript, stage: "transcribed", madeBy: { ...note.madeBy, transcript: madeBy } }));
  }

  /**
   * The local LLM's summary, or the extractive one when there is no LLM or it failed (saying why).
   * @param {import("../common/notes.js").Note} note @param {RunOptions} options
   */
  async summarize(note, { signal, onProgress = () => {} }) {
    if (!note.transcript) {
      return updateNote(note.id, { summary: "", stage: "summarized", madeBy: { ...note.madeBy, summary: undefined } });
    }
    const llama = await this.usable(LLAMA, "summarize");
    let fallbackReason = "no local language model on this device";
    if (llama) {
      let streamed = "";
      onProgress({ step: "summarize", label: "Summarising with the local language model…", text: "" });
      try {
        const result = await this.#call(LLAMA, "summarize", { text: note.transcript, length: "short" }, {
          signal,
          onprogress: ({ progress, total, message }) => {
            streamed += message ?? "";
            onProgress({ step: "summarize", label: "Summarising with the local language model…", fraction: total ? progress / total : undefined, text: streamed });
          },
        });
        const made = { tool: "summarize", server: LLAMA, detail: modelName(llama) };
        return updateNote(note.id, { summary: result.structuredContent.text, stage: "summarized", madeBy: { ...note.madeBy, summary: made } });
      } catch (error) {
        if (signal?.aborted) throw error;
        fallbackReason = `the local language model failed: ${error.message}`;
      }
    }
    onProgress({ step: "summarize", label: "Summarising (extractive, on this device)…", text: "" });
    const result = await this.#call(PYTHON_TOOLS, "summarize_extractive", { text: note.transcript }, {
      signal,
      onprogress: ({ progress, total }) =>
        onProgress({ step: "summarize", label: "Summarising (extractive, on this device)…", fraction: total ? progress / total : undefined }),
    });
    const made = { tool: "summarize_extractive", server: PYTHON_TOOLS, detail: `TextRank; ${fallbackReason}` };
    return updateNote(note.id, { summary: result.structuredContent.summary, stage: "summarized", madeBy: { ...note.madeBy, summary: made } });
  }

  /** Whether notes are redacted before they leave the device: the policy's rule, else the user's setting. */
  async redactsBeforeSync() {
    return redactionRequired(this.policy) || (await this.redactSetting());
  }

  /**
   * Send the note to the workspace with its own idempotency key. What is sent is fixed (and stored) before the
   * first attempt, so every later attempt sends the very same call and the workspace keeps it once.
   * @param {import("../common/notes.js").Note} note
   * @param {RunOptions} options
   */
  async sync(note, { signal, onProgress = () => {} } = {}) {
    if (!remoteAllowed(this.policy)) {
      return updateNote(note.id, { sync: { ...note.sync, status: "local", error: "Kept on this device: your organisation's policy allows no sync." } });
    }
    if (note.sync.status === "sent" || note.sync.status === "queued") return note;
    if (note.sync.status === "failed" && note.sync.seq !== undefined) {
      await askServiceWorker("retry-queued", { seq: note.sync.seq });
      return this.reconcile(note);
    }
    let payload = note.sync.payload;
    if (!payload) {
      let body = noteMarkdown(note);
      let redacted = false;
      if (await this.redactsBeforeSync()) {
        onProgress({ step: "redact", label: "Redacting personal data before syncing…" });
        body = (await this.#call(PYTHON_TOOLS, "redact", { text: body }, { signal })).structuredContent.text;
        redacted = true;
      }
      payload = { title: note.title, body, tags: ["dictation"], redacted };
      note = await updateNote(note.id, { sync: { ...note.sync, status: "pending", payload } });
    }
    onProgress({ step: "sync", label: "Saving to the workspace…" });
    const { title, body, tags } = payload;
    let result;
    try {
      result = await this.host.call(WORKSPACE, "save_note", { title, body, tags }, { signal, idempotencyKey: note.sync.key });
    } catch (error) {
      await updateNote(note.id, { sync: { ...note.sync, status: "pending", error: error.message } });
      throw error;
    }
    const queued = result._meta?.[QUEUED_KEY];
    if (queued) return updateNote(note.id, { sync: { ...note.sync, status: "queued", seq: queued.seq, error: undefined } });
    if (result.isError) return updateNote(note.id, { sync: { ...note.sync, status: "failed", error: errorText(result) } });
    return updateNote(note.id, { sync: { ...note.sync, status: "sent", remoteId: result.structuredContent?.note?.id, error: undefined } });
  }

  /** Bring a queued note's status up to date with its entry in the outbox. */
  async reconcile(note) {
    const { entries } = await askServiceWorker("queue-state");
    const entry = entries.find((candidate) => candidate.key === note.sync.key);
    if (!entry) return note;
    const status = { pending: "queued", sending: "queued", signin: "queued", sent: "sent", failed: "failed" }[entry.status];
    if (status === note.sync.status && entry.seq === note.sync.seq) return note;
    return updateNote(note.id, {
      sync: { ...note.sync, status, seq: entry.seq, error: entry.status === "sent" ? undefined : entry.error, remoteId: entry.result?.structuredContent?.note?.id },
    });
  }
}
