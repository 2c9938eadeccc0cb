// The dictation controls of the notes panel: Record/Stop with a level meter and a timer, Upload audio, the
// progress of each step with Cancel, the redaction setting, and the browser speech fallback when there is no
// whisper model. A note is created the moment recording starts and every 5 s of audio is stored as it comes, so a
// closed tab keeps what was said; the steps after that belong to DictationFlow.
import { setMeta } from "../common/mirror.js";
import { redactionRequired } from "../common/policy.js";
import { appendAudio, createNote, deleteNote, listNotes, updateNote } from "../common/notes.js";
import { decodeAudioFile } from "./audio/audio-file.js";
import { startMicrophone } from "./audio/microphone.js";
import { DictationFlow, REDACT_SETTING, redactSetting } from "./dictation-flow.js";
import { notesPanel } from "./notes-panel.js";
import { onServiceWorkerMessage } from "./sw-client.js";
import { listen, speechRecognition } from "./web-speech.js";

const clock = (seconds) => `${Math.floor(seconds / 60)}:${String(Math.floor(seconds % 60)).padStart(2, "0")}`;

/**
 * @param {HTMLElement} panel the #notes-panel section
 * @param {{host: import("./mcp-host.js").McpHost, policy: any}} options
 * @returns {{refresh: () => Promise<void>}}
 */
export function startDictation(panel, { host, policy }) {
  /** @param {string} id @returns {any} the panel's element of that id (a button, an input, a box…) */
  const $ = (id) => panel.querySelector(`#${id}`);
  const [recordButton, level, timer, fileInput, message] = ["record-button", "record-level", "record-timer", "audio-file", "dictation-message"].map($);
  const [progressBox, cancelButton, redactBox, fallbackBox, fallbackButton] = ["dictation-progress", "dictation-cancel", "redact-setting", "speech-fallback", "speech-fallback-button"].map($);
  const progressBar = progressBox.querySelector("progress");

  const flow = new DictationFlow({ host, policy, redactSetting });
  /** the note whose steps are running, and how to cancel them */
  let busy = null;
  let stopRecording = null;
  /** the id of the note being recorded, if any */
  let recordingNote = null;

  const notes = notesPanel(
    { list: $("note-list"), search: $("note-search"), exportAll: $("export-notes") },
    { busyNote: () => busy?.id ?? recordingNote, onFinish: (id) => run(id), onSync: (id) => run(id) },
  );

  const say = (text) => (message.textContent = text);
  const setIdle = (idle) => {
    recordButton.disabled = !idle && !stopRecording;
    fileInput.disabled = !idle;
    fallbackButton.disabled = !idle;
  };

  /** @param {{label: string, fraction?: number, text?: string}} progress */
  function showProgress({ label, fraction, text }) {
    progressBox.hidden = false;
    progressBox.querySelector("[data-progress-label]").textContent = label;
    if (fraction === undefined) progressBar.removeAttribute("value");
    else progressBar.value = fraction;
    progressBox.querySelector("[data-progress-text]").textContent = text ?? "";
  }

  /** Run the steps the note still lacks, with progress and Cancel; failures are shown, the note is kept. */
  async function run(id) {
    if (busy) return;
    busy = { id, controller: new AbortController() };
    setIdle(false);
    say("");
    let step = null;
    await notes.refresh();
    try {
      await flow.finish(id, {
        signal: busy.controller.signal,
        onProgress: (progress) => {
          showProgress(progress);
          if (progress.step !== step) {
            step = progress.step;
            notes.refresh();
          }
        },
      });
    } catch (error) {
      say(busy.controller.signal.aborted ? "Cancelled. The note is kept as far as it got." : `${error.message} The note is kept.`);
      offerSpeechFallback();
    } finally {
      busy = null;
      progressBox.hidden = true;
      setIdle(true);
      await notes.refresh();
    }
  }

  async function record() {
    say("");
    // The note exists from the first moment, so a tab closed mid-recording leaves it with every chunk stored.
    const note = await createNote({ source: "microphone" });
    let microphone;
    try {
      microphone = await startMicrophone({ onLevel: (peak) => (level.value = peak), onChunk: (pcm) => appendAudio(note.id, pcm) });
    } catch (error) {
      await deleteNote(note.id);
      say(error.message);
      return;
    }
    recordingNote = note.id;
    await notes.refresh();
    let shown = 0;
    timer.textContent = clock(0);
    const ticking = setInterval(() => {
      const seconds = Math.floor(microphone.seconds());
      if (seconds !== shown) timer.textContent = clock((shown = seconds));
    }, 200);
    stopRecording = async () => {
      stopRecording = null;
      recordingNote = null;
      clearInterval(ticking);
      recordButton.disabled = true;
      try {
        await microphone.stop();
        await updateNote(note.id, { stage: "recorded" });
      } catch (error) {
        say(`The recording could not be finished: ${error.message}`);
        return;
      } finally {
        level.value = 0;
        recordButton.textContent = "Record";
        recordButton.setAttribute("aria-pressed", "false");
        setIdle(true);
      }
      await run(note.id);
    };
    recordButton.textContent = "Stop";
    recordButton.setAttribute("aria-pressed", "true");
    setIdle(false);
  }

  recordButton.addEventListener("click", () => (stopRecording ? stopRecording() : record()));
  cancelButton.addEventListener("click", () => busy?.controller.abort("cancelled by the user"));

  fileInput.addEventListener("change", async () => {
    const [file] = fileInput.files;
    fileInput.value = "";
    if (!file || busy) return;
    say("");
    try {
      const chunks = await decodeAudioFile(file);
      const note = await createNote({ source: "file", fileName: file.name });
      for (const chunk of chunks) await appendAudio(note.id, chunk);
      await updateNote(note.id, { stage: "recorded" });
      await run(note.id);
    } catch (error) {
      say(error.message);
    }
  });

  /**
   * Show the Web Speech offer when the browser has one and this device cannot transcribe (yet). The decision is
   * published as the panel's `data-transcription` ("whisper", "speech-service" or "none"): the signal that the
   * view knows what it offers.
   */
  async function offerSpeechFallback() {
    const whisper = await flow.canTranscribe().catch(() => false);
    const offer = whisper ? "whisper" : speechRecognition() ? "speech-service" : "none";
    fallbackBox.hidden = offer !== "speech-service";
    panel.dataset.transcription = offer;
  }
  // The registry or a server's tools changed (a whisper server may have come or gone).
  host.addEventListener("change", () => offerSpeechFallback());

  fallbackButton.addEventListener("click", async () => {
    if (busy) return;
    say("");
    const note = await createNote({ source: "web-speech" });
    const controller = new AbortController();
    busy = { id: note.id, controller };
    setIdle(false);
    try {
      const session = listen({ onText: (text) => showProgress({ label: "Listening (browser speech service)… press Cancel to stop listening", text }) });
      controller.signal.addEventListener("abort", () => session.stop());
      showProgress({ label: "Listening (browser speech service)… press Cancel to stop listening", text: "" });
      const transcript = await session.done;
      await flow.saveTranscript(note.id, transcript, { tool: "SpeechRecognition", server: "browser", detail: "Web Speech API; audio may have left the device" });
    } catch (error) {
      await updateNote(note.id, { error: error.message });
      say(error.message);
      busy = null;
      progressBox.hidden = true;
      setIdle(true);
      await notes.refresh();
      return;
    }
    busy = null;
    await run(note.id);
  });

  async function showRedactSetting() {
    if (redactionRequired(policy)) {
      redactBox.checked = true;
      redactBox.disabled = true;
      $("redact-managed").hidden = false;
    } else {
      redactBox.checked = await redactSetting();
    }
  }
  redactBox.addEventListener("change", () => setMeta(REDACT_SETTING, redactBox.checked));
  // Both come from IndexedDB alone: shown at once, before the service worker and the servers are ready.
  showRedactSetting();
  notes.refresh();

  /** Queued notes take the status of their outbox entry (sent, failed) whenever the outbox changes. */
  async function reconcileQueued() {
    for (const note of await listNotes()) if (note.sync.status === "queued" || note.sync.status === "failed") await flow.reconcile(note);
    await notes.refresh();
  }
  onServiceWorkerMessage("queue-changed", () => reconcileQueued().catch((error) => say(`Sync status not updated: ${error.message}`)));

  return {
    async refresh() {
      await showRedactSetting();
      await reconcileQueued();
      await offerSpeechFallback();
    },
  };
}
