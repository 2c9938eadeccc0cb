// The port protocol (app/common/port-protocol.js) over a real MessageChannel: what one end sends, the other reads,
// in order, until `end`; a reader that is stopped returns at once and says the call did not end; failures answer
// requests, never notifications.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { readPort, sendEnd, sendFailure, sendMessage } from "../../../app/common/port-protocol.js";
import { RpcError } from "../../../app/common/protocol.js";

/** Read everything from `port` and the generator's return value. @param {MessagePort} port @param {AbortSignal} stop */
async function readAll(port, stop) {
  const messages = [];
  const reader = readPort(port, stop);
  while (true) {
    const step = await reader.next();
    if (step.done) return { messages, ended: step.value };
    messages.push(step.value);
  }
}

describe("the port protocol", () => {
  test("messages arrive in order and the call ends with end", async () => {
    const { port1, port2 } = new MessageChannel();
    const progress = { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } };
    const answer = { jsonrpc: "2.0", id: 7, result: {} };
    sendMessage(port2, progress);
    sendMessage(port2, answer);
    sendEnd(port2);
    const { messages, ended } = await readAll(port1, new AbortController().signal);
    assert.deepEqual(messages, [progress, answer]);
    assert.equal(ended, true);
    port1.close();
  });

  test("a stopped reader returns what came and says the call did not end", async () => {
    const { port1, port2 } = new MessageChannel();
    const stop = new AbortController();
    sendMessage(port2, { jsonrpc: "2.0", method: "notifications/progress", params: { progress: 1 } });
    const reading = readAll(port1, stop.signal);
    setImmediate(() => stop.abort());
    const { messages, ended } = await reading;
    assert.equal(ended, false);
    assert.ok(messages.length <= 1);
    port1.close();
  });

  test("a failure answers a request with a JSON-RPC error and a notification with nothing", async () => {
    const { port1, port2 } = new MessageChannel();
    sendFailure(port2, { jsonrpc: "2.0", method: "notifications/cancelled", params: {} }, "ignored");
    sendFailure(port2, { jsonrpc: "2.0", id: "a", method: "tools/call" }, "the worker crashed");
    sendEnd(port2);
    const { messages } = await readAll(port1, new AbortController().signal);
    assert.deepEqual(messages, [
      { jsonrpc: "2.0", id: "a", error: { code: RpcError.INTERNAL, message: "the worker crashed" } },
    ]);
    port1.close();
  });
});
