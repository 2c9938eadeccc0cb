// The offline queue (app/sw/queue.js), through the real MCP SDK client against Streamable HTTP servers faked in
// `fetch`: each server's calls go out in the order they were queued, each with its idempotency key, and one server
// out of reach or signed out never holds back another's; a network failure, 408, 429 and 502–504 back the entry
// off; 401 holds the server's calls until sign-in, after which each is sent once; other HTTP errors, JSON-RPC
// errors and error results fail the entry with the server's message; the managed policy is checked again at send
// time; Background Sync's flush rejects while calls that can be retried remain.
import { fakeFetch, legacyHandshake } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { transact } from "../../../app/common/db.js";
import { openRemoteClient } from "../../../app/sw/remote-client.js";
import { discardEntry, enqueue, flushQueue, queueState, releaseSignIn, retryEntry, syncQueue } from "../../../app/sw/queue.js";

const URL_A = "https://satchel.test/mcp/workspace";
const URL_B = "https://notes.example/mcp";
const SERVER = { [URL_A]: "io.satchel/workspace", [URL_B]: "io.example/notes" };
const KEY = "io.satchel/idempotency-key";

/**
 * How a fake server answers one JSON-RPC request: a JSON-RPC `result` or `error`, "drop" (the network fails), an
 * HTTP Response as is, or undefined for the ordinary answer (the handshake; a result for a call).
 * @typedef {{result?: any, error?: any} | "drop" | Response | undefined} Answer
 */

/**
 * Streamable HTTP MCP servers in `fetch`, by endpoint URL; any other URL is out of reach.
 * @param {Record<string, (message: any) => Answer>} servers
 * @returns {Record<string, any[]>} by URL, the params of every tools/call the server carried out (answered with
 *   a result)
 */
function mcpServers(servers) {
  /** @type {Record<string, any[]>} */
  const done = Object.fromEntries(Object.keys(servers).map((url) => [url, []]));
  fakeFetch(async (request) => {
    const answer = servers[request.url];
    if (!answer) throw new TypeError("fetch failed");
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const message = await request.json();
    if (!("id" in message)) return new Response(null, { status: 202 });
    const outcome = answer(message);
    if (outcome === "drop") throw new TypeError("fetch failed");
    if (outcome instanceof Response) return outcome;
    const handshake = legacyHandshake(message);
    if (handshake) return handshake;
    const reply = outcome ?? ok;
    if (reply.result) done[request.url].push(message.params);
    return Response.json({ jsonrpc: "2.0", id: message.id, ...reply });
  });
  return done;
}

/**
 * A server's answer to each tools/call; its handshake is the ordinary one.
 * @param {(params: any) => Answer} answer
 * @returns {(message: any) => Answer}
 */
const onCalls = (answer) => (message) => (message.method === "tools/call" ? answer(message.params) : undefined);

/** One server at URL_A. @param {(params: any) => Answer} answer */
const mcpServer = (answer) => mcpServers({ [URL_A]: onCalls(answer) })[URL_A];

/** @param {number} status @param {string} [body] @param {Record<string, string>} [headers] */
const http = (status, body = "", headers = {}) => new Response(body, { status, headers });

/** @param {string} key @param {{tool?: string, url?: string}} [options] */
const queueCall = (key, { tool = "save_note", url = URL_A } = {}) =>
  enqueue({ server: SERVER[url], url, tool, arguments: { title: key }, key });

const ok = { result: { content: [{ type: "text", text: "saved" }] } };

/** @param {any[]} calls @returns {string[]} */
const keysOf = (calls) => calls.map((params) => params._meta[KEY]);

/** The stored entry of a key. @param {string} key */
async function entryOf(key) {
  const entry = (await queueState()).entries.find((candidate) => candidate.key === key);
  assert.ok(entry, `no entry ${key}`);
  return entry;
}

beforeEach(async () => {
  await transact("queue", "readwrite", (tx) => void tx.objectStore("queue").clear());
});

describe("enqueue", () => {
  test("stores a pending entry, and the same key twice is one entry", async () => {
    const first = await queueCall("k1");
    const again = await queueCall("k1");
    assert.equal(again.seq, first.seq);
    const { counts, entries } = await queueState();
    assert.deepEqual(counts, { pending: 1, signin: 0, sent: 0, failed: 0 });
    assert.equal(entries[0].status, "pending");
    assert.equal(entries[0].attempts, 0);
  });
});

describe("flushQueue: order and servers", () => {
  test("sends pending calls in the order they were queued, each with its idempotency key", async () => {
    for (const key of ["k1", "k2", "k3"]) await queueCall(key);
    const calls = mcpServer(() => ok);
    const outcome = await flushQueue();
    assert.deepEqual(outcome, { sent: 3, failed: 0, pending: 0, signin: 0, retryInMs: null });
    assert.deepEqual(keysOf(calls), ["k1", "k2", "k3"]);
    assert.deepEqual(calls.map((params) => params.arguments.title), ["k1", "k2", "k3"]);
    assert.deepEqual((await queueState()).counts, { pending: 0, signin: 0, sent: 3, failed: 0 });
  });

  test("each server gets its own calls in its own order", async () => {
    for (const [key, url] of [["a1", URL_A], ["b1", URL_B], ["a2", URL_A], ["b2", URL_B]]) await queueCall(key, { url });
    const calls = mcpServers({ [URL_A]: onCalls(() => ok), [URL_B]: onCalls(() => ok) });
    assert.equal((await flushQueue()).sent, 4);
    assert.deepEqual(keysOf(calls[URL_A]), ["a1", "a2"]);
    assert.deepEqual(keysOf(calls[URL_B]), ["b1", "b2"]);
  });

  test("a server out of reach holds back only its own calls", async () => {
    for (const [key, url] of [["a1", URL_A], ["a2", URL_A], ["b1", URL_B]]) await queueCall(key, { url });
    const calls = mcpServers({ [URL_B]: onCalls(() => ok) }); // URL_A: the network fails
    const outcome = await flushQueue();
    assert.equal(outcome.sent, 1);
    assert.equal(outcome.pending, 2);
    assert.deepEqual(keysOf(calls[URL_B]), ["b1"]);
    assert.equal((await entryOf("a1")).attempts, 1);
    assert.equal((await entryOf("a2")).attempts, 0, "a2 waits behind a1");
  });

  test("a flush reaches each server through the opener it is given, once, and closes what it opened", async () => {
    for (const [key, url] of [["a1", URL_A], ["a2", URL_A], ["b1", URL_B]]) await queueCall(key, { url });
    mcpServers({ [URL_A]: onCalls(() => ok), [URL_B]: onCalls(() => ok) });
    /** @type {string[]} */
    const opened = [];
    let closed = 0;
    /** @type {import("../../../app/sw/remote-client.js").OpenRemoteClient} */
    const openClient = async (entry) => {
      opened.push(entry.server);
      const remote = await openRemoteClient(entry);
      return { ...remote, close: () => remote.close().then(() => void (closed += 1)) };
    };
    assert.equal((await flushQueue({ openClient })).sent, 3);
    assert.deepEqual(opened.sort(), [SERVER[URL_B], SERVER[URL_A]].sort());
    assert.equal(closed, 2);
  });
});

describe("flushQueue: try again later", () => {
  test("a network failure backs the entry off and stops its server's line, keeping the order", async () => {
    for (const key of ["k1", "k2"]) await queueCall(key);
    mcpServer(() => "drop");
    const before = Date.now();
    const outcome = await flushQueue();
    assert.equal(outcome.sent, 0);
    assert.equal(outcome.pending, 2);
    const [first, second] = (await queueState()).entries;
    assert.equal(first.status, "pending");
    assert.equal(first.attempts, 1);
    assert.ok(first.nextAttemptAt >= before + 2_000, "backed off by 2 s after the first failure");
    assert.equal(second.attempts, 0, "the second entry waits behind the first");
  });

  test("the back-off doubles with each failed attempt, and a flush without force respects it", async () => {
    await queueCall("k1");
    mcpServer(() => "drop");
    await flushQueue();
    const before = Date.now();
    await flushQueue({ force: true });
    const [entry] = (await queueState()).entries;
    assert.equal(entry.attempts, 2);
    assert.ok(entry.nextAttemptAt >= before + 4_000 && entry.nextAttemptAt <= Date.now() + 4_000);

    const calls = mcpServer(() => ok);
    const waiting = await flushQueue();
    assert.equal(calls.length, 0, "not sent before its time");
    assert.equal(waiting.pending, 1);
    assert.ok(waiting.retryInMs !== null && waiting.retryInMs > 0);

    const forced = await flushQueue({ force: true });
    assert.equal(forced.sent, 1);
    assert.equal(calls.length, 1);
  });

  for (const status of [408, 429, 502, 503, 504]) {
    test(`HTTP ${status} to a call keeps it pending, backed off, and its server's later calls wait`, async () => {
      for (const key of ["k1", "k2"]) await queueCall(key);
      mcpServer(() => http(status, "try later"));
      const before = Date.now();
      const outcome = await flushQueue();
      assert.deepEqual({ ...outcome, retryInMs: null }, { sent: 0, failed: 0, pending: 2, signin: 0, retryInMs: null });
      const first = await entryOf("k1");
      assert.equal(first.status, "pending");
      assert.equal(first.error, `HTTP ${status}: try later`);
      assert.ok(first.nextAttemptAt >= before + 2_000);
      assert.equal((await entryOf("k2")).attempts, 0);
    });
  }

  test("429 with Retry-After in seconds: not sent before then, even by a forced flush", async () => {
    await queueCall("k1");
    mcpServer(() => http(429, "slow down", { "retry-after": "120" }));
    const before = Date.now();
    const outcome = await flushQueue();
    assert.ok(outcome.retryInMs !== null && outcome.retryInMs > 110_000);
    const entry = await entryOf("k1");
    assert.ok(entry.nextAttemptAt >= before + 120_000 && entry.nextAttemptAt <= Date.now() + 120_000);

    const calls = mcpServer(() => ok);
    const forced = await flushQueue({ force: true });
    assert.equal(calls.length, 0);
    assert.equal(forced.pending, 1);
  });

  test("429 with Retry-After as an HTTP-date waits until that date", async () => {
    await queueCall("k1");
    const until = Date.now() + 600_000;
    mcpServer(() => http(429, "", { "retry-after": new Date(until).toUTCString() }));
    await flushQueue();
    const entry = await entryOf("k1");
    // An HTTP-date has whole seconds.
    assert.ok(entry.nextAttemptAt >= until - 1_000 && entry.nextAttemptAt <= until, String(entry.nextAttemptAt - until));
    assert.equal(entry.status, "pending");
  });
});

describe("flushQueue: the server refuses", () => {
  for (const status of [400, 403, 413, 421]) {
    test(`HTTP ${status} fails the call with the server's message, and the next call goes out`, async () => {
      for (const key of ["k1", "k2"]) await queueCall(key);
      const calls = mcpServer((params) => (params._meta[KEY] === "k1" ? http(status, `refused with ${status}`) : ok));
      const outcome = await flushQueue();
      assert.deepEqual(outcome, { sent: 1, failed: 1, pending: 0, signin: 0, retryInMs: null });
      const first = await entryOf("k1");
      assert.equal(first.status, "failed");
      assert.equal(first.error, `HTTP ${status}: refused with ${status}`);
      assert.deepEqual(keysOf(calls), ["k2"]);
    });
  }

  test("the message of a JSON-RPC error in an HTTP error body is kept", async () => {
    await queueCall("k1");
    const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "not in this workspace" } });
    mcpServer(() => http(403, body, { "content-type": "application/json" }));
    await flushQueue();
    assert.equal((await entryOf("k1")).error, "HTTP 403: not in this workspace");
  });

  test("a JSON-RPC error from the server marks the entry failed and the flush goes on", async () => {
    for (const key of ["k1", "k2"]) await queueCall(key);
    mcpServer((params) => (params.arguments.title === "k1" ? { error: { code: -32602, message: "bad title" } } : ok));
    const outcome = await flushQueue();
    assert.deepEqual(outcome, { sent: 1, failed: 1, pending: 0, signin: 0, retryInMs: null });
    const first = await entryOf("k1");
    assert.equal(first.status, "failed");
    assert.match(first.error ?? "", /bad title/);
  });

  test("a result that reports an error marks the entry failed with its text", async () => {
    await queueCall("k1");
    mcpServer(() => ({ result: { isError: true, content: [{ type: "text", text: "disk full" }] } }));
    assert.equal((await flushQueue()).failed, 1);
    assert.equal((await entryOf("k1")).error, "disk full");
  });
});

describe("sign-in", () => {
  test("401 holds the server's calls for sign-in; other servers' calls go out", async () => {
    for (const [key, url] of [["a1", URL_A], ["a2", URL_A], ["b1", URL_B]]) await queueCall(key, { url });
    const calls = mcpServers({
      [URL_A]: onCalls(() => http(401, "sign in first", { "www-authenticate": 'Bearer realm="workspace"' })),
      [URL_B]: onCalls(() => ok),
    });
    const outcome = await flushQueue();
    assert.deepEqual(outcome, { sent: 1, failed: 0, pending: 0, signin: 2, retryInMs: null });
    assert.deepEqual(keysOf(calls[URL_B]), ["b1"]);
    assert.equal((await entryOf("a1")).status, "signin");
    assert.equal((await entryOf("a1")).error, "HTTP 401: sign in first");
    assert.equal((await entryOf("a2")).status, "signin", "a2 waits for the same sign-in");
    assert.equal((await entryOf("a2")).attempts, 0);
    assert.deepEqual((await queueState()).counts, { pending: 0, signin: 2, sent: 1, failed: 0 });
  });

  test("after sign-in each held call is sent once, in order, with its own key", async () => {
    for (const key of ["k1", "k2"]) await queueCall(key);
    let signedIn = false;
    const calls = mcpServer(() => (signedIn ? ok : http(401)));
    await flushQueue();
    await queueCall("k3"); // queued while the server still wants sign-in: it waits behind the others
    assert.equal((await flushQueue({ force: true })).signin, 3);
    assert.equal(calls.length, 0);

    signedIn = true;
    const outcome = await releaseSignIn("io.satchel/workspace");
    assert.deepEqual(outcome, { sent: 3, failed: 0, pending: 0, signin: 0, retryInMs: null });
    assert.deepEqual(keysOf(calls), ["k1", "k2", "k3"]);
    const seqs = (await queueState()).entries.map((entry) => entry.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => Number(a) - Number(b)), "entries keep their places");
    assert.deepEqual((await flushQueue({ force: true })).sent, 0);
    assert.deepEqual(keysOf(calls), ["k1", "k2", "k3"], "nothing is sent twice");
  });

  test("401 to the handshake holds the call for sign-in too", async () => {
    await queueCall("k1");
    mcpServers({ [URL_A]: (message) => (message.method === "initialize" ? http(401, "who are you?") : ok) });
    assert.equal((await flushQueue()).signin, 1);
    assert.equal((await entryOf("k1")).error, "HTTP 401: who are you?");
  });

  test("releasing one server leaves another server's held calls alone", async () => {
    for (const [key, url] of [["a1", URL_A], ["b1", URL_B]]) await queueCall(key, { url });
    mcpServers({ [URL_A]: onCalls(() => http(401)), [URL_B]: onCalls(() => http(401)) });
    await flushQueue();
    const calls = mcpServers({ [URL_A]: onCalls(() => ok), [URL_B]: onCalls(() => ok) });
    await releaseSignIn("io.satchel/workspace");
    assert.deepEqual(keysOf(calls[URL_A]), ["a1"]);
    assert.deepEqual(calls[URL_B], []);
    assert.equal((await entryOf("b1")).status, "signin");
  });
});

describe("policy at send time", () => {
  test("a call the current policy forbids fails with the policy's reason and is not sent", async () => {
    await queueCall("k1", { tool: "delete_note" });
    await queueCall("k2");
    const calls = mcpServer(() => ok);
    /** @type {import("../../../app/common/policy.js").Policy} */
    const policy = { version: 1, organization: "Acme", tools: { deny: ["io.satchel/workspace:delete_note"] } };
    const outcome = await flushQueue({ policy: async () => policy });
    assert.deepEqual(outcome, { sent: 1, failed: 1, pending: 0, signin: 0, retryInMs: null });
    assert.deepEqual(keysOf(calls), ["k2"]);
    const refused = await entryOf("k1");
    assert.equal(refused.status, "failed");
    assert.equal(refused.error, "delete_note of io.satchel/workspace is blocked by Acme's policy");
  });

  test("a policy that cannot be read sends nothing", async () => {
    await queueCall("k1");
    const calls = mcpServer(() => ok);
    await assert.rejects(flushQueue({ policy: async () => Promise.reject(new Error("/policy.json is missing")) }), /policy.json is missing/);
    assert.equal(calls.length, 0);
    assert.equal((await entryOf("k1")).status, "pending");
  });
});

describe("syncQueue (Background Sync)", () => {
  test("rejects while a call that can be retried remains, so the browser tries again", async () => {
    await queueCall("k1");
    mcpServer(() => http(503));
    await assert.rejects(syncQueue(), /1 queued call\(s\) still waiting/);
  });

  test("resolves once only calls waiting for sign-in or failed remain", async () => {
    for (const [key, url] of [["a1", URL_A], ["b1", URL_B]]) await queueCall(key, { url });
    mcpServers({ [URL_A]: onCalls(() => http(401)), [URL_B]: onCalls(() => http(403, "no")) });
    const outcome = await syncQueue();
    assert.deepEqual(outcome, { sent: 0, failed: 1, pending: 0, signin: 1, retryInMs: null });
  });
});

describe("retry and discard", () => {
  test("a retried failed entry goes back in line and is sent", async () => {
    const entry = await queueCall("k1");
    mcpServer(() => ({ error: { code: -32602, message: "no" } }));
    await flushQueue();
    await retryEntry(/** @type {number} */ (entry.seq));
    assert.equal((await queueState()).entries[0].status, "pending");
    mcpServer(() => ok);
    assert.equal((await flushQueue()).sent, 1);
  });

  test("retry leaves a pending entry alone; discard removes an entry", async () => {
    const entry = await queueCall("k1");
    const seq = /** @type {number} */ (entry.seq);
    await retryEntry(seq);
    assert.equal((await queueState()).entries[0].attempts, 0);
    await discardEntry(seq);
    assert.equal((await queueState()).entries.length, 0);
  });

  test("a call waiting for sign-in can be discarded", async () => {
    const entry = await queueCall("k1");
    mcpServer(() => http(401));
    await flushQueue();
    await discardEntry(/** @type {number} */ (entry.seq));
    assert.equal((await queueState()).entries.length, 0);
  });
});
