// The queue's client to a remote server (app/sw/remote-client.js): the SDK client, with the last response to its
// POSTs recorded (status, headers, the body of an error) for the queue to judge, and a failed handshake reported
// with the response that refused it.
import { fakeFetch, legacyHandshake } from "../fakes.js";
import assert from "node:assert/strict";
import { test } from "node:test";
import { callToolRaw } from "../../../app/common/mcp-client.js";
import { storeRegistryEntries, storeTools } from "../../../app/common/mirror.js";
import { ConnectFailure, openRemoteClient } from "../../../app/sw/remote-client.js";

const URL_A = "https://satchel.test/mcp/workspace";
const ENTRY = { server: "io.satchel/workspace", url: URL_A };

/**
 * A Streamable HTTP server whose handshake succeeds and whose tools/call answers are `call`'s; it announces each GET.
 * @param {() => Response} call
 * @param {() => void} [onGet]
 */
function server(call, onGet = () => {}) {
  fakeFetch(async (request) => {
    if (request.method === "GET") {
      onGet();
      return new Response(null, { status: 405 });
    }
    const message = await request.json();
    if (!("id" in message)) return new Response(null, { status: 202 });
    return legacyHandshake(message) ?? call();
  });
}

test("records the status, headers and body of the response that refused a call", async () => {
  server(() => new Response("busy", { status: 503, headers: { "retry-after": "30" } }));
  const remote = await openRemoteClient(ENTRY);
  try {
    await assert.rejects(callToolRaw(remote.client, { name: "save_note", arguments: {} }), { name: "SdkHttpError", status: 503 });
    const seen = remote.lastResponse();
    assert.equal(seen?.status, 503);
    assert.equal(seen?.headers.get("retry-after"), "30");
    assert.equal(seen?.body, "busy");
  } finally {
    await remote.close();
  }
});

test("a network failure leaves no response recorded for the attempt", async () => {
  let reachable = true;
  server(() => Response.json({ jsonrpc: "2.0", id: 0, result: {} }));
  const inner = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    if (!reachable) throw new TypeError("fetch failed");
    return inner(input, init);
  };
  const remote = await openRemoteClient(ENTRY);
  try {
    assert.equal(remote.lastResponse()?.status, 202, "the last POST of the handshake");
    reachable = false;
    await assert.rejects(callToolRaw(remote.client, { name: "save_note", arguments: {} }));
    assert.equal(remote.lastResponse(), null);
  } finally {
    await remote.close();
  }
});

test("the optional event stream's GET is not taken for the answer to a call", async () => {
  /** @type {() => void} */
  let gotGet = () => {};
  const getSeen = new Promise((resolve) => (gotGet = () => resolve(undefined)));
  server(() => new Response(null, { status: 500 }), gotGet);
  const remote = await openRemoteClient(ENTRY);
  try {
    await getSeen;
    assert.equal(remote.lastResponse()?.status, 202, "the 405 to the GET is not recorded");
  } finally {
    await remote.close();
  }
});

test("a refused handshake fails with the response that refused it", async () => {
  fakeFetch(() => new Response("sign in first", { status: 401, headers: { "www-authenticate": 'Bearer realm="workspace"' } }));
  const failure = await openRemoteClient(ENTRY).then(
    () => assert.fail("connected"),
    (error) => error,
  );
  assert.ok(failure instanceof ConnectFailure);
  assert.equal(failure.response?.status, 401);
  assert.equal(failure.response?.headers.get("www-authenticate"), 'Bearer realm="workspace"');
  assert.equal(failure.response?.body, "sign in first");
});

test("a server the page found speaking 2025-11-25 is reached without the era probe, which its CORS would refuse", async () => {
  const name = "io.example/older-cors";
  const url = "https://older.example.org/mcp";
  await storeRegistryEntries([{ server: { name, version: "1.0.0", remotes: [{ type: "streamable-http", url }] } }]);
  const verdict = { protocolEra: "legacy", protocolVersion: "2025-11-25", protocolCheckedAt: Date.now() };
  await storeTools({ server: name, tools: [], hidden: [], fetchedAt: Date.now(), ttlMs: 60_000, fingerprint: "", ...verdict });
  /** @type {string[]} */
  const methods = [];
  fakeFetch(async (request) => {
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const message = await request.json();
    methods.push(message.method);
    // What a browser reports when a preflight does not allow the 2026-07-28 request headers.
    if (message.method === "server/discover") throw new TypeError("Failed to fetch");
    return "id" in message ? legacyHandshake(message) ?? Response.json({ jsonrpc: "2.0", id: message.id, result: {} }) : new Response(null, { status: 202 });
  });
  const remote = await openRemoteClient({ server: name, url });
  await remote.close();
  assert.deepEqual(methods, ["initialize", "notifications/initialized"]);
});
