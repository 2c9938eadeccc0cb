// The outbox: calls queued while offline, grouped by the server they go to (each server's calls go out in their
// own order), with counts by status and each call's state: when a backed-off call is tried next, which calls wait
// for the user to sign in, and the server's message with retry or discard for those that failed. The service
// worker owns the queue; this view asks it and listens for changes.
import { h } from "./dom.js";
import { askServiceWorker } from "./sw-client.js";

const STATUS_TEXT = { pending: "pending", sending: "sending", signin: "Sign-in needed", sent: "sent", failed: "failed" };

/** @typedef {import("../sw/queue.js").QueuedCall} QueuedCall */

/** @param {number} time @param {string} [text] */
const timeElement = (time, text) => h("time", { datetime: new Date(time).toISOString() }, text ?? new Date(time).toLocaleString());

/**
 * The actions a call's state allows.
 * @param {QueuedCall} entry
 */
function entryActions(entry) {
  /** @param {string} type @param {string} label */
  const button = (type, label) =>
    h("button", { type: "button", class: "link-button", onclick: () => askServiceWorker(type, { seq: entry.seq }) }, label);
  if (entry.status === "failed") return h("span", { class: "actions" }, button("retry-queued", "Retry"), button("discard-queued", "Discard"));
  if (entry.status === "signin") return h("span", { class: "actions" }, button("discard-queued", "Discard"));
  return null;
}

/**
 * What the user should know beyond the status: when it is tried again, what sign-in does, what the server said.
 * @param {QueuedCall} entry
 * @param {number} now
 */
function entryNote(entry, now) {
  if (entry.status === "signin") {
    return h("p", { class: "outbox-note" }, `Sign in to ${entry.server} to send it: it will be sent once, after you sign in.`);
  }
  if (entry.status === "failed") return entry.error ? h("p", { class: "outbox-error" }, entry.error) : null;
  if (entry.status !== "pending" || entry.attempts === 0) return null;
  const backedOff = entry.nextAttemptAt > now;
  return h(
    "p",
    { class: "outbox-note" },
    backedOff ? "Next attempt at " : null,
    backedOff ? timeElement(entry.nextAttemptAt, new Date(entry.nextAttemptAt).toLocaleTimeString()) : null,
    entry.error ? `${backedOff ? " — l" : "L"}ast attempt: ${entry.error}` : null,
  );
}

/** @param {QueuedCall} entry @param {number} now */
const entryItem = (entry, now) =>
  h(
    "li",
    { class: "outbox-entry", dataset: { status: entry.status, seq: String(entry.seq), tool: entry.tool } },
    h("span", { class: "badge" }, STATUS_TEXT[entry.status]),
    ` ${entry.tool} `,
    timeElement(entry.createdAt),
    entryNote(entry, now),
    entryActions(entry),
  );

/**
 * Each server's calls, newest first; the server with the latest call first.
 * @param {QueuedCall[]} entries oldest first
 * @returns {[string, QueuedCall[]][]}
 */
function byServer(entries) {
  /** @type {Map<string, QueuedCall[]>} */
  const groups = new Map();
  for (const entry of entries.slice().reverse()) {
    const group = groups.get(entry.server);
    if (group) group.push(entry);
    else groups.set(entry.server, [entry]);
  }
  return [...groups];
}

/**
 * @param {{counts: HTMLElement, list: HTMLElement}} elements
 * @returns {{refresh: () => Promise<void>}}
 */
export function outboxView({ counts, list }) {
  const render = async () => {
    const state = await askServiceWorker("queue-state");
    const { pending, signin, sent, failed } = state.counts;
    counts.textContent = `${pending} pending · ${sent} sent · ${failed} failed${signin ? ` · ${signin} waiting for sign-in` : ""}`;
    counts.dataset.pending = String(pending);
    const now = Date.now();
    list.replaceChildren(
      ...byServer(state.entries).map(([server, entries]) =>
        h(
          "li",
          { class: "outbox-server", dataset: { server } },
          h("h3", {}, server),
          h("ul", { class: "outbox-entries" }, ...entries.map((entry) => entryItem(entry, now))),
        ),
      ),
    );
  };
  // Changes come in bursts (a call queued or sent each time): one rendering at a time, and one more after it for
  // every change made meanwhile, however many there were.
  /** @type {Promise<void> | null} */
  let running = null;
  let again = false;
  const refresh = async () => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await render();
        } while (again);
      } finally {
        running = null;
      }
    })();
    return running;
  };
  return { refresh };
}
