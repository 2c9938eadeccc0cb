// The offline queue (app/sw/queue.js): calls go out in the order they were queued, each with its idempotency key;
// a network failure backs the entry off and stops the flush so that order is kept; an error from the server marks
// the entry failed; retry and discard act on failed entries only.
import { fakeFetch } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { transact } from "../../../app/common/db.js";
import { discardEntry, enqueue, flushQueue, queueState, retryEntry } from "../../../app/sw/queue.js";

const URL_A = "https://satchel.test/mcp/workspace";

/**
 * A Streamable HTTP MCP server in `fetch`: the handshake, then each tools/call answered by `answer`.
 * @param {(params: any) => {result?: any, error?: any} | "drop"} answer "drop": the connection fails
 * @returns {any[]} the params of every tools/call that reached the server
 */
function mcpServer(answer) {
  /** @type {any[]} */
  const calls = [];
  fakeFetch(async (request) => {
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const message = await request.json();
    if (!("id" in message)) return new Response(null, { status: 202 });
    if (message.method === "initialize") {
      const result = { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "fake", version: "1" } };
      return Response.json({ jsonrpc: "2.0", id: message.id, result });
    }
    const outcome = answer(message.params);
    if (outcome === "drop") throw new TypeError("fetch failed");
    calls.push(message.params);
    return Response.json({ jsonrpc: "2.0", id: message.id, ...outcome });
  });
  return calls;
}

/** @param {string} key @param {string} [tool] */
const queueCall = (key, tool = "save_note") => enqueue({ server: "io.satchel/workspace", url: URL_A, tool, arguments: { title: key }, key });

const ok = { result: { content: [{ type: "text", text: "saved" }] } };

beforeEach(async () => {
  await transact("queue", "readwrite", (tx) => void tx.objectStore("queue").clear());
});

describe("enqueue", () => {
  test("stores a pending entry, and the same key twice is one entry", async () => {
    const first = await queueCall("k1");
    const again = await queueCall("k1");
    assert.equal(again.seq, first.seq);
    const { counts, entries } = await queueState();
    assert.deepEqual(counts, { pending: 1, sent: 0, failed: 0 });
    assert.equal(entries[0].status, "pending");
    assert.equal(entries[0].attempts, 0);
  });
});

describe("flushQueue", () => {
  test("sends pending calls in the order they were queued, each with its idempotency key", async () => {
    for (const key of ["k1", "k2", "k3"]) await queueCall(key);
    const calls = mcpServer(() => ok);
    const outcome = await flushQueue();
    assert.deepEqual(outcome, { sent: 3, failed: 0, pending: 0, retryInMs: null });
    assert.deepEqual(calls.map((params) => params._meta["io.satchel/idempotency-key"]), ["k1", "k2", "k3"]);
    assert.deepEqual(calls.map((params) => params.arguments.title), ["k1", "k2", "k3"]);
    assert.deepEqual((await queueState()).counts, { pending: 0, sent: 3, failed: 0 });
  });

  test("a network failure backs the entry off and stops the flush, keeping the order", async () => {
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

  test("a JSON-RPC error from the server marks the entry failed and the flush goes on", async () => {
    for (const key of ["k1", "k2"]) await queueCall(key);
    mcpServer((params) => (params.arguments.title === "k1" ? { error: { code: -32602, message: "bad title" } } : ok));
    const outcome = await flushQueue();
    assert.deepEqual(outcome, { sent: 1, failed: 1, pending: 0, retryInMs: null });
    const [first] = (await queueState()).entries;
    assert.equal(first.status, "failed");
    assert.match(first.error ?? "", /bad title/);
  });

  test("a result that reports an error marks the entry failed with its text", async () => {
    await queueCall("k1");
    mcpServer(() => ({ result: { isError: true, content: [{ type: "text", text: "disk full" }] } }));
    assert.equal((await flushQueue()).failed, 1);
    assert.equal((await queueState()).entries[0].error, "disk full");
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
});
