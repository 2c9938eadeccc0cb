// The offline queue: calls to remote tools that are safe to replay, stored in IndexedDB while the network is
// away and sent later, in order within each server, exactly once.
//
// Exactly once rests on two things: each entry carries an idempotency key that travels in the call's `_meta` and
// that the server dedupes on, and an entry is marked sent only after the server answered. An entry interrupted
// mid-flight (network drop, service worker stopped) is simply sent again with the same key.
//
// Each server has its own line: a flush walks every server's entries in the order they were queued and stops that
// server's line at the first entry that must wait (backed off, or the server asks for sign-in), so one server out
// of reach or signed out never holds back another's calls. What an attempt means is sw/send-outcome.js's decision.
import { getAll, result, transact } from "../common/db.js";
import { callToolRaw, IDEMPOTENCY_KEY } from "../common/mcp-client.js";
import { policyRefusal } from "../common/policy.js";
import { ConnectFailure, openRemoteClient } from "./remote-client.js";
import { classifySend } from "./send-outcome.js";

/** @typedef {import("../common/policy.js").Policy} Policy */
/** @typedef {import("./remote-client.js").RemoteClient} RemoteClient */
/** @typedef {import("./remote-client.js").OpenRemoteClient} OpenRemoteClient */

export const SYNC_TAG = "satchel-queue";
/** One flush at a time, in this worker and any other of the origin; sign-in release takes the same lock. */
const FLUSH_LOCK = "satchel-queue-flush";
/** Sent and failed entries are kept this long so the page can show them, then dropped. */
const RETENTION_MS = 7 * 24 * 3600_000;

/**
 * A queued call. `nextAttemptAt`: when a flush that respects back-off tries it again; `notBefore`: the time the
 * server's Retry-After named, which even a forced flush waits for (0 when none); `signin`: the server answered
 * 401 and the call waits until the user signs in to it.
 * @typedef {{seq?: number, server: string, url: string, tool: string, arguments: any, key: string,
 *   status: "pending"|"sending"|"signin"|"sent"|"failed", attempts: number, nextAttemptAt: number,
 *   notBefore?: number, createdAt: number, updatedAt: number, result?: any, error?: string}} QueuedCall
 */
/**
 * What a flush did: calls `sent` and `failed` by it; entries it left `pending` (to be tried again) or waiting for
 * `signin`; `retryInMs`: when the earliest pending one may be tried again (null when none is pending).
 * @typedef {{sent: number, failed: number, pending: number, signin: number, retryInMs: number | null}} FlushOutcome
 */
/**
 * @typedef {{force?: boolean, policy?: () => Promise<Policy | null>, openClient?: OpenRemoteClient}} FlushOptions
 *   `force` ignores back-off (the network just came back, or the user asked), never a server's Retry-After;
 *   `policy` the managed policy each call is checked against again as it is sent (none: unmanaged);
 *   `openClient` how a server is reached
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
  const entry = { ...call, status: "pending", attempts: 0, nextAttemptAt: now, notBefore: 0, createdAt: now, updatedAt: now };
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
 * @returns {Promise<{counts: {pending: number, signin: number, sent: number, failed: number}, entries: QueuedCall[]}>}
 */
export async function queueState() {
  /** @type {QueuedCall[]} */
  const entries = await getAll("queue");
  const counts = { pending: 0, signin: 0, sent: 0, failed: 0 };
  for (const entry of entries) counts[entry.status === "sending" ? "pending" : entry.status] += 1;
  return { counts, entries };
}

/** @type {Promise<FlushOutcome> | null} */
let flushing = null;

/**
 * Send what is due, each server's calls in order. Only one flush runs at a time; one asked for while another runs
 * follows it. Rejects, sending nothing, when the managed policy cannot be read.
 * @param {FlushOptions} options
 * @returns {Promise<FlushOutcome>}
 */
export function flushQueue(options = {}) {
  const run = async () => navigator.locks.request(FLUSH_LOCK, () => flushOnce(options));
  flushing = (flushing ?? Promise.resolve()).catch(() => {}).then(run);
  return flushing;
}

/**
 * What Background Sync runs: a forced flush that rejects while calls that can be retried remain, so the browser
 * tries again later. Calls waiting for sign-in or failed wait for the user, not for the network.
 * @param {FlushOptions} options
 * @returns {Promise<FlushOutcome>}
 */
export async function syncQueue(options = {}) {
  const outcome = await flushQueue({ ...options, force: true });
  if (outcome.pending > 0) throw new Error(`${outcome.pending} queued call(s) still waiting for their server`);
  return outcome;
}

/**
 * The user signed in to `server`: its calls waiting for sign-in go back in line, in their order and with their
 * keys, and a flush sends them.
 * @param {string} server the server's name
 * @param {FlushOptions} options as for flushQueue
 * @returns {Promise<FlushOutcome>}
 */
export async function releaseSignIn(server, options = {}) {
  await navigator.locks.request(FLUSH_LOCK, () =>
    withQueue("readwrite", async (store) => {
      for (const entry of /** @type {QueuedCall[]} */ (await result(store.getAll()))) {
        if (entry.server === server && entry.status === "signin") {
          store.put({ ...entry, status: "pending", nextAttemptAt: 0, notBefore: 0, updatedAt: Date.now() });
        }
      }
    }),
  );
  return flushQueue({ ...options, force: true });
}

/** @param {FlushOptions} options @returns {Promise<FlushOutcome>} */
async function flushOnce({ force = false, policy = async () => null, openClient = openRemoteClient }) {
  const rules = await policy();
  await dropExpired();
  /** @type {Map<string, QueuedCall[]>} each server's waiting entries, oldest first */
  const lines = new Map();
  /** @type {QueuedCall[]} */
  const entries = await getAll("queue");
  entries.sort((a, b) => Number(a.seq) - Number(b.seq));
  for (const entry of entries) {
    if (entry.status !== "pending" && entry.status !== "sending" && entry.status !== "signin") continue;
    lines.set(entry.server, [...(lines.get(entry.server) ?? []), entry]);
  }
  const outcomes = await Promise.all([...lines.values()].map((line) => flushLine(line, { force, rules, openClient })));
  /** @type {FlushOutcome} */
  const total = { sent: 0, failed: 0, pending: 0, signin: 0, retryInMs: null };
  for (const { retryAt, ...counts } of outcomes) {
    for (const key of /** @type {const} */ (["sent", "failed", "pending", "signin"])) total[key] += counts[key];
    if (retryAt !== null) total.retryInMs = Math.min(total.retryInMs ?? Infinity, Math.max(0, retryAt - Date.now()));
  }
  return total;
}

/**
 * Send one server's entries in order, until one must wait.
 * @param {QueuedCall[]} line
 * @param {{force: boolean, rules: Policy | null, openClient: OpenRemoteClient}} context
 * @returns {Promise<Omit<FlushOutcome, "retryInMs"> & {retryAt: number | null}>}
 */
async function flushLine(line, { force, rules, openClient }) {
  const stats = { sent: 0, failed: 0, pending: 0, signin: 0, retryAt: /** @type {number | null} */ (null) };
  /** @type {{remote: RemoteClient | null}} the server's client, opened at the first send and shared by the line */
  const connection = { remote: null };
  /** The entries from `index` on wait: count them by what they wait for. @param {number} index */
  const rest = (index) => {
    for (const entry of line.slice(index)) stats[entry.status === "signin" ? "signin" : "pending"] += 1;
  };
  try {
    for (const [index, entry] of line.entries()) {
      if (entry.status === "signin") {
        await holdForSignIn(entry.server);
        line.slice(index).forEach((later) => (later.status = "signin"));
        rest(index);
        break;
      }
      const readyAt = Math.max(force ? 0 : entry.nextAttemptAt, entry.notBefore ?? 0);
      if (readyAt > Date.now()) {
        stats.retryAt = readyAt;
        rest(index);
        break;
      }
      const refusal = policyRefusal(rules, entry.server, { remote: true, tool: entry.tool });
      if (refusal) {
        if (await changeWaiting(entry, (stored) => ({ ...stored, status: "failed", error: refusal }))) stats.failed += 1;
        continue;
      }
      const claimed = await changeWaiting(entry, (stored) => ({ ...stored, status: "sending", attempts: stored.attempts + 1 }));
      if (!claimed) continue;
      const outcome = await send(claimed, connection, openClient);
      line[index] = { ...claimed, ...outcome };
      await save(line[index]);
      if (outcome.status === "sent" || outcome.status === "failed") {
        stats[outcome.status] += 1;
        continue;
      }
      await connection.remote?.close().catch(() => {});
      connection.remote = null;
      if (outcome.status === "signin") {
        await holdForSignIn(entry.server);
        line.slice(index + 1).forEach((later) => (later.status = "signin"));
      } else {
        stats.retryAt = outcome.nextAttemptAt;
      }
      rest(index);
      break;
    }
  } finally {
    await connection.remote?.close().catch(() => {});
  }
  return stats;
}

/**
 * Change an entry that still waits to be sent; one the user discarded since the flush read it is left alone.
 * @param {QueuedCall} entry
 * @param {(stored: QueuedCall) => QueuedCall} change
 * @returns {Promise<QueuedCall | null>} the entry as now stored, or null when it no longer waits
 */
function changeWaiting(entry, change) {
  return withQueue("readwrite", async (store) => {
    /** @type {QueuedCall | undefined} */
    const stored = await result(store.get(/** @type {number} */ (entry.seq)));
    if (stored?.status !== "pending" && stored?.status !== "sending") return null;
    const changed = { ...change(stored), updatedAt: Date.now() };
    store.put(changed);
    return changed;
  });
}

/**
 * One attempt: connect when the line has no client yet, call the tool with the entry's key, say what came of it.
 * @param {QueuedCall} entry
 * @param {{remote: RemoteClient | null}} connection
 * @param {OpenRemoteClient} openClient
 * @returns {Promise<import("./send-outcome.js").SendOutcome>}
 */
async function send(entry, connection, openClient) {
  const attempt = { response: null, attempts: entry.attempts };
  try {
    connection.remote ??= await openClient(entry);
    const answer = await callToolRaw(connection.remote.client, {
      name: entry.tool,
      arguments: entry.arguments,
      _meta: { [IDEMPOTENCY_KEY]: entry.key },
    });
    return classifySend({ ...attempt, answer, now: Date.now() });
  } catch (error) {
    if (error instanceof ConnectFailure) return classifySend({ ...attempt, error: error.cause, response: error.response, now: Date.now() });
    return classifySend({ ...attempt, error, response: connection.remote?.lastResponse() ?? null, now: Date.now() });
  }
}

/**
 * The server wants sign-in: every call of it still waiting to be sent waits for sign-in too, so that none overtakes
 * the ones before it and Background Sync does not retry what only the user can unblock. (Under the flush lock, a
 * call of this server marked as being sent is one a stopped worker left mid-flight.)
 * @param {string} server
 */
async function holdForSignIn(server) {
  await withQueue("readwrite", async (store) => {
    for (const entry of /** @type {QueuedCall[]} */ (await result(store.getAll()))) {
      if (entry.server === server && (entry.status === "pending" || entry.status === "sending")) {
        store.put({ ...entry, status: "signin", updatedAt: Date.now() });
      }
    }
  });
}

/** Put a failed entry back in line, at its original place. @param {number} seq */
export async function retryEntry(seq) {
  await withQueue("readwrite", async (store) => {
    const entry = await result(store.get(seq));
    if (entry?.status === "failed") store.put({ ...entry, status: "pending", nextAttemptAt: 0, notBefore: 0, updatedAt: Date.now() });
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
