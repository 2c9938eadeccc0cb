// The offline queue: calls to remote tools that are safe to replay, stored in IndexedDB while the network is
// away and sent later, in order, exactly once.
//
// Exactly once rests on two things: each entry carries an idempotency key that travels in the call's `_meta` and
// that the server dedupes on, and an entry is marked sent only after the server answered. An entry interrupted
// mid-flight (network drop, service worker stopped) is simply sent again with the same key. A network failure
// stops the flush (order is kept) and backs the entry off; an answer that says the call failed marks it failed.
import { getAll, result, transact } from "../common/db.js";
import { callToolRaw, connectClient, IDEMPOTENCY_KEY } from "../common/mcp-client.js";

/** @typedef {import("../vendor/mcp-sdk.js").Client} Client */

export const SYNC_TAG = "satchel-queue";
const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** Sent and failed entries are kept this long so the page can show them, then dropped. */
const RETENTION_MS = 7 * 24 * 3600_000;

/**
 * @typedef {{seq?: number, server: string, url: string, tool: string, arguments: any, key: string,
 *   status: "pending"|"sending"|"sent"|"failed", attempts: number, nextAttemptAt: number, createdAt: number,
 *   updatedAt: number, result?: any, error?: string}} QueuedCall
 */

/** @param {IDBTransactionMode} mode @param {(store: IDBObjectStore) => any} work */
const withQueue = (mode, work) => transact("queue", mode, (tx) => work(tx.objectStore("queue")));

/**
 * Store a call for later. The same idempotency key queued twice is one entry.
 * @param {{server: string, url: string, tool: string, arguments: any, key: string}} call
 * @returns {Promise<QueuedCall>}
 */
export async function enqueue(call) {
  const now = Date.now();
  /** @type {QueuedCall} */
  const entry = { ...call, status: "pending", attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now };
  return withQueue("readwrite", async (store) => {
    const existing = await result(store.index("key").get(call.key));
    if (existing) return existing;
    entry.seq = await result(store.add(entry));
    return entry;
  });
}

/** @param {QueuedCall} entry */
const save = (entry) => withQueue("readwrite", (store) => void store.put({ ...entry, updatedAt: Date.now() }));

/**
 * Counts by status and the entries themselves, oldest first.
 * @returns {Promise<{counts: {pending: number, sent: number, failed: number}, entries: QueuedCall[]}>}
 */
export async function queueState() {
  /** @type {QueuedCall[]} */
  const entries = await getAll("queue");
  const counts = { pending: 0, sent: 0, failed: 0 };
  for (const entry of entries) counts[entry.status === "sending" ? "pending" : entry.status] += 1;
  return { counts, entries };
}

/** @typedef {{sent: number, failed: number, pending: number, retryInMs: number | null}} FlushOutcome */

/** @type {Promise<FlushOutcome> | null} */
let flushing = null;

/**
 * Send pending calls in order. Only one flush runs at a time; a flush asked for while one runs follows it.
 * @param {{force?: boolean}} options `force` ignores back-off (the network just came back, or the user asked)
 * @returns {Promise<FlushOutcome>}
 */
export function flushQueue(options = {}) {
  const run = async () => navigator.locks.request("satchel-queue-flush", () => flushOnce(options));
  flushing = (flushing ?? Promise.resolve()).catch(() => {}).then(run);
  return flushing;
}

/** @param {{force?: boolean}} options @returns {Promise<FlushOutcome>} */
async function flushOnce({ force = false }) {
  /** @type {FlushOutcome} */
  const stats = { sent: 0, failed: 0, pending: 0, retryInMs: null };
  await dropExpired();
  /** @type {QueuedCall[]} */
  const waiting = (await getAll("queue")).filter((e) => e.status === "pending" || e.status === "sending");
  waiting.sort((a, b) => Number(a.seq) - Number(b.seq));
  /** @type {Map<string, Client>} */
  const clients = new Map();
  try {
    for (const [index, entry] of waiting.entries()) {
      if (!force && entry.nextAttemptAt > Date.now()) {
        stats.pending = waiting.length - index;
        stats.retryInMs = entry.nextAttemptAt - Date.now();
        break;
      }
      const outcome = await send(entry, clients);
      if (outcome === "unreachable") {
        stats.pending = waiting.length - index;
        stats.retryInMs = entry.nextAttemptAt - Date.now();
        break;
      }
      stats[outcome] += 1;
    }
  } finally {
    await Promise.all([...clients.values()].map((client) => client.close().catch(() => {})));
  }
  return stats;
}

/**
 * @param {QueuedCall} entry
 * @param {Map<string, Client>} clients one connected client per server URL, shared by a flush
 * @returns {Promise<"sent"|"failed"|"unreachable">}
 */
async function send(entry, clients) {
  entry.status = "sending";
  entry.attempts += 1;
  await save(entry);
  let answer;
  try {
    if (!clients.has(entry.url)) clients.set(entry.url, await connectClient(entry.url));
    answer = await callToolRaw(/** @type {Client} */ (clients.get(entry.url)), {
      name: entry.tool,
      arguments: entry.arguments,
      _meta: { [IDEMPOTENCY_KEY]: entry.key },
    });
  } catch (error) {
    if (isProtocolError(error)) {
      Object.assign(entry, { status: "failed", error: /** @type {Error} */ (error).message });
      await save(entry);
      return "failed";
    }
    clients.delete(entry.url);
    const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (entry.attempts - 1));
    Object.assign(entry, { status: "pending", nextAttemptAt: Date.now() + backoff, error: String(/** @type {any} */ (error).message ?? error) });
    await save(entry);
    return "unreachable";
  }
  if (answer.isError) {
    const parts = /** @type {{text?: string}[]} */ (answer.content ?? []);
    const text = parts.map((part) => part.text ?? "").join(" ").trim();
    Object.assign(entry, { status: "failed", result: answer, error: text || "the server reported an error" });
    await save(entry);
    return "failed";
  }
  Object.assign(entry, { status: "sent", result: answer, error: undefined });
  await save(entry);
  return "sent";
}

/** SDK codes for a lost connection and a timeout: the server may never have seen the call, so it is retried. */
const TRANSPORT_CODES = new Set([-32000, -32001]);

/**
 * A JSON-RPC error from the server (it was reached and refused the call), as opposed to a network failure.
 * @param {any} error what the SDK threw
 * @returns {boolean}
 */
const isProtocolError = (error) => typeof error?.code === "number" && error.code < 0 && !TRANSPORT_CODES.has(error.code);

/** Put a failed entry back in line, at its original place. @param {number} seq */
export async function retryEntry(seq) {
  await withQueue("readwrite", async (store) => {
    const entry = await result(store.get(seq));
    if (entry?.status === "failed") store.put({ ...entry, status: "pending", nextAttemptAt: 0, updatedAt: Date.now() });
  });
}

/** Drop an entry the user gave up on (never one being sent). @param {number} seq */
export async function discardEntry(seq) {
  await withQueue("readwrite", async (store) => {
    const entry = await result(store.get(seq));
    if (entry && entry.status !== "sending") store.delete(seq);
  });
}

async function dropExpired() {
  const cutoff = Date.now() - RETENTION_MS;
  await withQueue("readwrite", async (store) => {
    for (const entry of await result(store.getAll())) {
      if ((entry.status === "sent" || entry.status === "failed") && entry.updatedAt < cutoff) store.delete(entry.seq);
    }
  });
}
