// The page's pool of local-server workers (app/page/worker-pool.js): a worker that does not stop a cancelled call
// (a Python step that never returns) is stopped after a grace period, the call gets an error that says why, and the
// next call starts the server afresh; a worker that does stop its cancelled call keeps running.
import assert from "node:assert/strict";
import { test } from "node:test";
import { WorkerPool } from "../../../app/page/worker-pool.js";

/** @type {FakeWorker[]} */
const started = [];

/** A local server's worker: answers tools/call at once, except `runaway`, which never returns. */
class FakeWorker {
  constructor() {
    this.terminated = false;
    /** @type {Map<any, {name: string, port: MessagePort}>} calls still running */
    this.running = new Map();
    started.push(this);
  }

  /** @param {any} data @param {MessagePort[]} [ports] */
  postMessage(data, ports = []) {
    if (data.type !== "rpc" || this.terminated) return;
    const [port] = ports;
    const { message } = data;
    if (message.method === "notifications/cancelled") {
      // A well-behaved call stops at its next step; a runaway one never reaches it.
      const call = this.running.get(message.params.requestId);
      if (call && call.name !== "runaway") {
        this.running.delete(message.params.requestId);
        call.port.postMessage({ type: "end" });
      }
      port.postMessage({ type: "end" });
      return;
    }
    if (message.params?.name === "runaway" || message.params?.name === "slow") {
      this.running.set(message.id, { name: message.params.name, port });
      return;
    }
    port.postMessage({ type: "message", message: { jsonrpc: "2.0", id: message.id, result: { content: [] } } });
    port.postMessage({ type: "end" });
  }

  terminate() {
    this.terminated = true;
    for (const { port } of this.running.values()) port.close(); // a stopped worker's ports go with it
  }
}
globalThis.Worker = /** @type {any} */ (FakeWorker);

const CONFIG = { worker: "pyodide-server" };

/**
 * Relay `message` to the pool; resolves with every message sent back, once its `end` came.
 * @param {WorkerPool} pool @param {any} message
 * @returns {Promise<any[]>}
 */
function relay(pool, message) {
  const channel = new MessageChannel();
  /** @type {any[]} */
  const got = [];
  const ended = new Promise((resolve) => {
    channel.port1.onmessage = ({ data }) => {
      if (data.type === "end") {
        channel.port1.close();
        resolve(got);
      } else got.push(data.message);
    };
  });
  pool.relay({ serverId: "io.satchel/tools", config: CONFIG, message }, channel.port2);
  return ended;
}

const call = (/** @type {number} */ id, /** @type {string} */ name) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: {} } });
const cancel = (/** @type {number} */ id) => ({ jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: id } });

test("a cancelled call that does not stop is ended by stopping its worker, and the next call gets a fresh one", async () => {
  started.length = 0;
  /** @type {any[]} */
  const statuses = [];
  const pool = new WorkerPool((status) => statuses.push(status), { cancelGraceMs: 20 });
  const runaway = relay(pool, call(1, "runaway"));
  await relay(pool, cancel(1));
  const [answer] = await runaway;
  assert.equal(answer.id, 1);
  assert.match(answer.error.message, /restarted: a cancelled call did not stop within 0\.02 s/);
  assert.equal(started[0].terminated, true);
  assert.ok(statuses.some((status) => status.state === "stopped"));

  const [next] = await relay(pool, call(2, "echo"));
  assert.deepEqual(next, { jsonrpc: "2.0", id: 2, result: { content: [] } });
  assert.equal(started.length, 2, "a fresh worker serves the next call");
  pool.stopAll("test over");
});

test("a cancelled call that stops at its next step leaves its worker running", async () => {
  started.length = 0;
  const pool = new WorkerPool(() => {}, { cancelGraceMs: 20 });
  const slow = relay(pool, call(1, "slow"));
  await relay(pool, cancel(1));
  assert.deepEqual(await slow, []);
  // Past the grace period, the same worker still serves.
  await new Promise((resolve) => setTimeout(resolve, 60));
  const [next] = await relay(pool, call(2, "echo"));
  assert.equal(next.id, 2);
  assert.equal(started.length, 1);
  assert.equal(started[0].terminated, false);
  pool.stopAll("test over");
});
