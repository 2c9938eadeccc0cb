// The Models panel: every model the on-device servers of the registry mirror use, whether it is kept on this device
// for offline use and its size, a progress bar with bytes, rate and time left while it downloads — whoever
// downloads it: the page here, or a worker on a tool's first call (the model store broadcasts every step) — and
// buttons to make it available offline or remove it. Errors (not enough space, a damaged copy, a dropped download)
// stay visible on the model they concern. Stored models no server uses any more are listed so they can be removed.
import { formatBytes, formatDuration } from "../common/format.js";
import { localConfig } from "../common/mirror.js";
import {
  ensureModel,
  fileName,
  modelFiles,
  removeModel,
  requestPersistence,
  storedModels,
  watchModels,
} from "../common/model-store.js";
import { h } from "./dom.js";

/**
 * @typedef {{file: {url: string, sha256: string, size: number} | null, sha256: string, usedBy: string[]}} ListedModel
 */

/**
 * @param {HTMLElement} list the <ul> to fill
 * @param {{servers: () => Promise<any[]>}} sources the registry entries the app may use
 * @returns {{refresh: () => Promise<void>}}
 */
export function modelsView(list, { servers }) {
  /** @type {ListedModel[]} */
  let models = [];
  /** @type {Map<string, {size: number, complete: boolean}[]>} */
  let stored = new Map();
  /** @type {Map<string, import("../common/model-store.js").ModelProgress>} */
  const downloads = new Map();
  /** @type {Map<string, string>} */
  const failures = new Map();
  let persistenceAsked = false;

  /** Never rejects: a browser without OPFS gets a message here, and the rest of the app goes on. */
  async function refresh() {
    let kept;
    try {
      kept = await storedModels();
    } catch (error) {
      list.replaceChildren(h("li", { class: "model-error", role: "alert" }, `Models cannot be kept in this browser: ${error.message}`));
      return;
    }
    models = listModels(await servers(), kept);
    stored = new Map();
    for (const model of kept) stored.set(model.sha256, [...(stored.get(model.sha256) ?? []), model]);
    render();
  }

  function render() {
    list.replaceChildren(...models.map(renderModel));
  }

  /** @param {ListedModel} model */
  function renderModel(model) {
    const copies = stored.get(model.sha256) ?? [];
    const complete = copies.find((copy) => copy.complete);
    const partial = copies.find((copy) => !copy.complete);
    const progress = downloads.get(model.sha256);
    const failure = failures.get(model.sha256);
    const size = model.file?.size ?? (complete ?? partial)?.size ?? 0;
    const state = progress ? "downloading" : complete ? "stored" : partial ? "partial" : "missing";
    const name = model.file ? fileName(model.file.url) : `${model.sha256.slice(0, 12)}…`;
    return h(
      "li",
      { class: "model", dataset: { model: name, state } },
      h("h3", { class: "model-name" }, name,
        ...model.usedBy.map((title) => h("span", { class: "badge" }, title))),
      h("p", { class: "model-state" }, stateText(state, size, partial?.size ?? 0, model.file !== null)),
      progress
        ? h("progress", { class: "model-progress", max: progress.total, value: progress.loaded, "aria-label": `Downloading ${name}` })
        : null,
      progress ? h("p", { class: "model-rate", role: "status" }, progressText(progress)) : null,
      failure ? h("p", { class: "model-error", role: "alert" }, failure) : null,
      h(
        "div",
        { class: "actions" },
        model.file && !complete && !progress
          ? h("button", { type: "button", class: "button", onclick: () => makeAvailable(model.file) }, "Make available offline")
          : null,
        (complete || partial) && !progress
          ? h("button", { type: "button", class: "button secondary", onclick: () => remove(model.sha256) }, "Remove")
          : null,
      ),
    );
  }

  function makeAvailable(file) {
    failures.delete(file.sha256);
    // Failures are broadcast by the store, and shown from there.
    ensureModel(file).catch(() => {});
  }

  async function remove(sha256) {
    failures.delete(sha256);
    try {
      await removeModel(sha256);
    } catch (error) {
      failures.set(sha256, `Could not remove it: ${error.message}`);
      render();
    }
  }

  watchModels((event) => {
    if (event.type === "progress") {
      // A worker cannot ask for persistent storage; the page does, once, when any download starts.
      if (!persistenceAsked) {
        persistenceAsked = true;
        requestPersistence();
      }
      downloads.set(event.sha256, event);
      failures.delete(event.sha256);
      render();
      return;
    }
    downloads.delete(event.sha256);
    if (event.type === "failed") failures.set(event.sha256, event.message ?? "the model could not be stored");
    else failures.delete(event.sha256);
    refresh();
  });

  return { refresh };
}

/**
 * One row per model file of the local servers (a file two servers share is listed once), then stored files no
 * server uses.
 * @param {any[]} entries registry mirror entries
 * @param {{sha256: string}[]} kept
 * @returns {ListedModel[]}
 */
function listModels(entries, kept) {
  /** @type {Map<string, ListedModel>} */
  const bySha = new Map();
  for (const entry of entries) {
    for (const file of modelFiles(localConfig(entry))) {
      const listed = bySha.get(file.sha256) ?? { file, sha256: file.sha256, usedBy: [] };
      listed.usedBy.push(entry.server?.title ?? entry.name);
      bySha.set(file.sha256, listed);
    }
  }
  for (const { sha256 } of kept) {
    if (!bySha.has(sha256)) bySha.set(sha256, { file: null, sha256, usedBy: [] });
  }
  return [...bySha.values()];
}

function stateText(state, size, partSize, used) {
  if (state === "stored") return used ? `On this device · ${formatBytes(size)}` : `Not used by this version · ${formatBytes(size)}`;
  if (state === "partial") return `Partly downloaded · ${formatBytes(partSize)} of ${formatBytes(size)}`;
  if (state === "downloading") return "Downloading…";
  return `Not on this device · ${formatBytes(size)} to download`;
}

/** @param {import("../common/model-store.js").ModelProgress} progress */
function progressText({ loaded, total, bytesPerSecond, secondsLeft }) {
  const left = secondsLeft === null ? "time left unknown" : `${formatDuration(secondsLeft)} left`;
  return `${formatBytes(loaded)} of ${formatBytes(total)} · ${formatBytes(bytesPerSecond)}/s · ${left}`;
}
