// How the router relays the older HTTP+SSE transport (app/sw/legacy-sse.js): the server's event stream passed on with
// its `endpoint` event rewritten to a router URL, an endpoint on another origin refused, POSTs forwarded only to the
// server's origin with its headers and token, errors the router answers itself put on the session's stream, bounds on
// what the stream may send, and no calls answered or queued offline.
import { fakeFetch, ORIGIN, setOnline } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { transact } from "../../../app/common/db.js";
import { storeRegistryEntries, storeTools } from "../../../app/common/mirror.js";
import { authRecord, updateAuth } from "../../../app/common/oauth.js";
import { RpcError } from "../../../app/common/protocol.js";
import { addServerFromUrl, addServersFromJson } from "../../../app/common/user-servers.js";
import { queueState } from "../../../app/sw/queue.js";
import { routeMcp } from "../../../app/sw/router.js";
import { MAX_EVENT_CHARS, SseParser } from "../../../app/sw/sse-events.js";

const SSE_URL = "https://legacy.example.org/sse";
const ENDPOINT = "https://legacy.example.org/message?sessionId=abc";
const REGISTRY_LEGACY = "io.example/legacy";

/** @typedef {import("../../../app/common/policy.js").Policy} Policy */

/** The user adds the server at SSE_URL from a pasted configuration that says `sse`, with an API key; returns its name. */
async function addLegacyServer() {
  const config = { mcpServers: { Legacy: { type: "sse", url: SSE_URL, headers: { "X-Api-Key": "key-1" } } } };
  const { added } = await addServersFromJson(JSON.stringify(config), { policy: null });
  return added[0].name;
}

/**
 * A server's event stream whose chunks the test sends when it likes.
 * @returns {{response: Response, send: (text: string) => void, close: () => void, cancelled: Promise<void>}}
 */
function upstreamStream() {
  /** @type {ReadableStreamDefaultController<Uint8Array>} */
  let controller;
  /** @type {() => void} */
  let onCancel = () => {};
  const cancelled = new Promise((resolve) => (onCancel = () => resolve(undefined)));
  const body = new ReadableStream({
    start: (c) => void (controller = c),
    cancel: () => onCancel(),
  });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { headers: { "content-type": "text/event-stream" } }),
    send: (text) => controller.enqueue(encoder.encode(text)),
    close: () => controller.close(),
    cancelled,
  };
}

/**
 * A request through the router as the page's SSE client makes it.
 * @param {string} name
 * @param {{method?: string, query?: string, message?: any, policy?: Policy | null, signal?: AbortSignal}} [options]
 */
async function route(name, { method = "GET", query = "", message, policy = null, signal } = {}) {
  const headers = method === "GET" ? { accept: "text/event-stream" } : { "content-type": "application/json", "mcp-protocol-version": "2024-11-05" };
  const request = new Request(`${ORIGIN}/mcp/${encodeURIComponent(name)}${query}`, {
    method,
    headers,
    body: message === undefined ? undefined : JSON.stringify(message),
    signal,
  });
  const response = await routeMcp(/** @type {any} */ ({ request, clientId: "" }), { policy: async () => policy, onQueued: () => {} });
  assert.ok(response);
  return response;
}

/** The router URL that stands for `endpoint` on the page's side. @param {string} name @param {string} endpoint */
const routerEndpoint = (name, endpoint) => `/mcp/${encodeURIComponent(name)}?endpoint=${encodeURIComponent(endpoint)}`;

/** Reads events off a response the router streams. @param {Response} response */
function eventReader(response) {
  assert.ok(response.body);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const parser = new SseParser();
  /** @type {import("../../../app/sw/sse-events.js").SseEvent[]} */
  const ready = [];
  return {
    /** The next event; null when the stream ended. */
    async next() {
      while (!ready.length) {
        const { done, value } = await reader.read();
        if (done) return null;
        ready.push(...parser.push(value));
      }
      return ready.shift() ?? null;
    },
    /** Whatever ends the stream: null for a clean end, else what it errored with. */
    async end() {
      try {
        for (;;) if ((await reader.read()).done) return null;
      } catch (error) {
        return error;
      }
    },
    cancel: () => reader.cancel(),
  };
}

/** Answer the GET of SSE_URL with `stream`, and every POST with `post`; returns the requests seen. */
function fakeServer(/** @type {ReturnType<typeof upstreamStream>} */ stream, post = () => new Response("Accepted", { status: 202 })) {
  return fakeFetch((request) => (request.method === "GET" && request.url === SSE_URL ? stream.response : post()));
}

/** Open the stream of `name` through the router with the server's endpoint event sent; returns its reader. */
async function openSession(/** @type {string} */ name, /** @type {ReturnType<typeof upstreamStream>} */ stream, endpointData = "/message?sessionId=abc") {
  stream.send(`event: endpoint\ndata: ${endpointData}\n\n`);
  const response = await route(name);
  assert.equal(response.status, 200);
  const events = eventReader(response);
  assert.deepEqual(await events.next(), { type: "endpoint", data: routerEndpoint(name, ENDPOINT) });
  return events;
}

const call = (/** @type {string} */ tool, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name: tool, arguments: {} } });

beforeEach(async () => {
  await transact(["servers", "tools", "queue", "auth"], "readwrite", (tx) => {
    for (const store of ["servers", "tools", "queue", "auth"]) tx.objectStore(store).clear();
  });
  setOnline(true);
  fakeFetch(() => {
    throw new TypeError("fetch failed");
  });
});

describe("the event stream", () => {
  test("is passed on with a relative endpoint rewritten to the router's URL for the absolute endpoint", async () => {
    const name = await addLegacyServer();
    const stream = upstreamStream();
    const seen = fakeServer(stream);
    stream.send(": hello\nevent: endpoint\ndata: /message?sessionId=abc\n\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n");
    const response = await route(name);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/event-stream/);
    const events = eventReader(response);
    assert.deepEqual(await events.next(), { type: "endpoint", data: routerEndpoint(name, ENDPOINT) });
    assert.deepEqual(await events.next(), { type: "message", data: '{"jsonrpc":"2.0","method":"notifications/message"}' });
    stream.send("id: 4\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n");
    assert.deepEqual(await events.next(), { type: "message", data: '{"jsonrpc":"2.0","id":1,"result":{}}', id: "4" });
    stream.close();
    assert.equal(await events.end(), null);
    assert.equal(seen[0].headers.get("accept"), "text/event-stream");
    assert.equal(seen[0].headers.get("x-api-key"), "key-1");
  });

  test("an absolute endpoint on the stream's origin is rewritten too, wherever the chunks are cut", async () => {
    const name = await addLegacyServer();
    const stream = upstreamStream();
    fakeServer(stream);
    stream.send("event: endpoint\r\ndata: https://legacy.example.org");
    stream.send(`/message?sessionId=abc#frag\r`);
    stream.send("\n\r\n");
    const events = eventReader(await route(name));
    assert.deepEqual(await events.next(), { type: "endpoint", data: routerEndpoint(name, ENDPOINT) });
  });

  test("an endpoint on another origin is refused before anything is passed on, and the server's stream closed", async () => {
    const name = await addLegacyServer();
    const stream = upstreamStream();
    fakeServer(stream);
    stream.send("event: endpoint\ndata: https://collector.example.net/message?sessionId=abc\n\n");
    const response = await route(name);
    assert.equal(response.status, 502);
    const { error } = await response.json();
    assert.match(error.message, /directed its messages to https:\/\/collector.example.net, not to the origin of its event stream \(https:\/\/legacy.example.org\)/);
    await stream.cancelled;
  });

  test("a later endpoint on another origin ends the stream in an error", async () => {
    const name = await addLegacyServer();
    const stream = upstreamStream();
    fakeServer(stream);
    const events = await openSession(name, stream);
    stream.send("event: endpoint\ndata: //collector.example.net/message\n\n");
    assert.match(String(await events.end()), /directed its messages to https:\/\/collector.example.net/);
    await stream.cancelled;
  });

  test("a line over the bound is refused: before the endpoint as an error answer, after it by ending the stream", async () => {
    const name = await addLegacyServer();
    const before = upstreamStream();
    fakeServer(before);
    before.send(`data: ${"x".repeat(MAX_EVENT_CHARS)}`);
    const refused = await route(name);
    assert.equal(refused.status, 502);
    assert.match((await refused.json()).error.message, /sent too much at once/);
    await before.cancelled;

    const after = upstreamStream();
    fakeServer(after);
    const events = await openSession(name, after);
    after.send(`data: ${"x".repeat(MAX_EVENT_CHARS / 2)}\n`);
    after.send(`data: ${"x".repeat(MAX_EVENT_CHARS / 2)}\n`);
    assert.match(String(await events.end()), /sent too much at once/);
    await after.cancelled;
  });

  test("a stream that ends before naming its endpoint is an error answer", async () => {
    const name = await addLegacyServer();
    const stream = upstreamStream();
    fakeServer(stream);
    stream.send("data: {}\n\n");
    stream.close();
    const response = await route(name);
    assert.equal(response.status, 502);
    assert.match((await response.json()).error.message, /closed its event stream without naming its message endpoint/);
  });

  test("the page going away closes the server's stream", async () => {
    const name = await addLegacyServer();
    const stream = upstreamStream();
    fakeServer(stream);
    const events = await openSession(name, stream);
    await events.cancel();
    await stream.cancelled;
  });

  test("a refusal for want of a sign-in is a JSON-RPC error the page can show, kept for the sign-in", async () => {
    const name = await addLegacyServer();
    fakeFetch(() => new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer scope="events"' } }));
    const response = await route(name);
    assert.equal(response.status, 401);
    const { error } = await response.json();
    assert.equal(error.code, RpcError.SIGN_IN_NEEDED);
    assert.equal((await authRecord(name))?.challenge?.scope, "events");
    assert.equal((await authRecord(name))?.url, SSE_URL);
  });

  test("an answer that is not an event stream is an error answer", async () => {
    const name = await addLegacyServer();
    fakeFetch(() => Response.json({ hello: "world" }));
    const response = await route(name);
    assert.equal(response.status, 502);
    assert.match((await response.json()).error.message, /did not answer with an event stream/);
  });

  test("offline, or with the server out of reach, it is a 503 that says the network is needed", async () => {
    const name = await addLegacyServer();
    const seen = fakeFetch(() => new Response("down", { status: 502 }));
    setOnline(false);
    const offline = await route(name);
    assert.equal(offline.status, 503);
    const { error } = await offline.json();
    assert.equal(error.code, RpcError.NEEDS_NETWORK);
    assert.match(error.message, /^Connecting to Legacy needs the network: Legacy cannot be reached, and Satchel neither answers nor queues calls/);
    assert.equal(seen.length, 0);
    setOnline(true);
    const behindProxy = await route(name);
    assert.equal(behindProxy.status, 503);
    assert.equal((await behindProxy.json()).error.code, RpcError.NEEDS_NETWORK);
  });
});

describe("messages to the endpoint", () => {
  test("are forwarded to the endpoint with the server's headers and token, and its answer passed back", async () => {
    const name = await addLegacyServer();
    await updateAuth(name, SSE_URL, (record) => {
      record.tokens = { access_token: "token-1", token_type: "Bearer" };
      record.obtainedAt = Date.now();
    });
    const stream = upstreamStream();
    const seen = fakeServer(stream);
    await openSession(name, stream);
    const response = await route(name, { method: "POST", query: `?endpoint=${encodeURIComponent(ENDPOINT)}`, message: call("echo") });
    assert.equal(response.status, 202);
    const [get, post] = seen;
    assert.equal(get.headers.get("authorization"), "Bearer token-1");
    assert.equal(post.url, ENDPOINT);
    assert.equal(post.method, "POST");
    assert.equal(post.headers.get("authorization"), "Bearer token-1");
    assert.equal(post.headers.get("x-api-key"), "key-1");
    assert.equal(post.headers.get("mcp-protocol-version"), "2024-11-05");
    assert.deepEqual(await post.json(), call("echo"));
  });

  test("go nowhere but the server's origin: another endpoint is a 403 JSON-RPC error, and nothing is sent", async () => {
    const name = await addLegacyServer();
    const seen = fakeFetch(() => new Response(null, { status: 202 }));
    for (const endpoint of ["https://collector.example.net/message?sessionId=abc", "http://legacy.example.org/message", "not a url"]) {
      const response = await route(name, { method: "POST", query: `?endpoint=${encodeURIComponent(endpoint)}`, message: call("echo", 3) });
      assert.equal(response.status, 403);
      const answer = await response.json();
      assert.equal(answer.id, 3);
      assert.equal(answer.error.code, RpcError.INVALID_REQUEST);
      assert.match(answer.error.message, /is sent messages only at its own origin \(https:\/\/legacy.example.org\)/);
    }
    assert.equal(seen.length, 0);
  });

  test("a refusal for want of a sign-in comes on the session's stream, as the answer to that request", async () => {
    const name = await addLegacyServer();
    const stream = upstreamStream();
    fakeServer(stream, () => new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer scope="events"' } }));
    const events = await openSession(name, stream);
    const response = await route(name, { method: "POST", query: `?endpoint=${encodeURIComponent(ENDPOINT)}`, message: call("echo", 9) });
    assert.equal(response.status, 202);
    const delivered = await events.next();
    assert.equal(delivered?.type, "message");
    const answer = JSON.parse(delivered?.data ?? "null");
    assert.equal(answer.id, 9);
    assert.equal(answer.error.code, RpcError.SIGN_IN_NEEDED);
    assert.equal((await authRecord(name))?.url, SSE_URL, "the challenge is the server's, not its endpoint's");
  });

  test("without the session's stream here, a refusal is the POST's own answer", async () => {
    const name = await addLegacyServer();
    fakeFetch(() => new Response(null, { status: 401 }));
    const endpoint = "https://legacy.example.org/message?sessionId=elsewhere";
    const response = await route(name, { method: "POST", query: `?endpoint=${encodeURIComponent(endpoint)}`, message: call("echo", 9) });
    assert.equal(response.status, 401);
    assert.equal((await response.json()).error.code, RpcError.SIGN_IN_NEEDED);
  });

  test("offline, a call is refused on the stream as needing the network, and not queued", async () => {
    const name = await addLegacyServer();
    await storeTools({ server: name, tools: [{ name: "save", annotations: { idempotentHint: true } }], hidden: [], fetchedAt: Date.now(), ttlMs: 60_000, fingerprint: "" });
    const stream = upstreamStream();
    const seen = fakeServer(stream);
    const events = await openSession(name, stream);
    setOnline(false);
    const response = await route(name, { method: "POST", query: `?endpoint=${encodeURIComponent(ENDPOINT)}`, message: call("save", 2) });
    assert.equal(response.status, 202);
    const answer = JSON.parse((await events.next())?.data ?? "null");
    assert.equal(answer.id, 2);
    assert.equal(answer.error.code, RpcError.NEEDS_NETWORK);
    assert.match(answer.error.message, /^save needs the network/);
    assert.equal(answer.error.data.queueable, false);
    assert.equal((await queueState()).entries.length, 0);
    assert.equal(seen.length, 1, "only the stream's GET");
  });

  test("a tool the policy denies is refused before anything is sent", async () => {
    const name = await addLegacyServer();
    const seen = fakeFetch(() => new Response(null, { status: 202 }));
    const policy = /** @type {Policy} */ ({ version: 1, tools: { deny: [`${name}:echo`] } });
    const response = await route(name, { method: "POST", query: `?endpoint=${encodeURIComponent(ENDPOINT)}`, message: call("echo"), policy });
    assert.equal((await response.json()).error.code, RpcError.DENIED_BY_POLICY);
    assert.equal(seen.length, 0);
  });
});

describe("which servers are spoken to over HTTP+SSE", () => {
  test("a registry server whose only remote is sse", async () => {
    await storeRegistryEntries([{ server: { name: REGISTRY_LEGACY, version: "1.0.0", remotes: [{ type: "sse", url: SSE_URL }] } }]);
    const stream = upstreamStream();
    fakeServer(stream);
    stream.send("event: endpoint\ndata: /message?sessionId=abc\n\n");
    const events = eventReader(await route(REGISTRY_LEGACY));
    assert.deepEqual(await events.next(), { type: "endpoint", data: routerEndpoint(REGISTRY_LEGACY, ENDPOINT) });
  });

  test("a server the user added as Streamable HTTP, when the page tries SSE at the same URL", async () => {
    const { name } = await addServerFromUrl(SSE_URL, { policy: null });
    const stream = upstreamStream();
    fakeServer(stream);
    assert.equal((await route(name)).status, 405, "a bare GET is still Streamable HTTP's standalone stream");
    stream.send("event: endpoint\ndata: /message?sessionId=abc\n\n");
    const events = eventReader(await route(name, { query: "?transport=sse" }));
    assert.deepEqual(await events.next(), { type: "endpoint", data: routerEndpoint(name, ENDPOINT) });
    const response = await route(name, { method: "POST", query: `?endpoint=${encodeURIComponent(ENDPOINT)}`, message: call("echo") });
    assert.equal(response.status, 202);
  });

  test("not a registry server that speaks Streamable HTTP", async () => {
    await storeRegistryEntries([{ server: { name: REGISTRY_LEGACY, version: "1.0.0", remotes: [{ type: "sse", url: SSE_URL }, { type: "streamable-http", url: `${SSE_URL}/../mcp` }] } }]);
    const seen = fakeFetch(() => new Response(null, { status: 202 }));
    assert.equal((await route(REGISTRY_LEGACY, { query: "?transport=sse" })).status, 405);
    assert.equal(seen.length, 0);
  });
});
