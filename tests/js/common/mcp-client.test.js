// The page's MCP clients over the older HTTP+SSE transport (app/common/mcp-client.js), end to end through the
// service-worker router (app/sw/router.js) to a fake HTTP+SSE server: the SDK's SSEClientTransport connects, lists
// and calls; a stream the router refuses fails with the router's own explanation; a stream that breaks off closes
// the client instead of starting a session nobody initialized; and a Streamable HTTP handshake refused as older
// servers refuse it is told apart from other failures.
import { fakeFetch, ORIGIN, setOnline } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { transact } from "../../../app/common/db.js";
import { callToolRaw, connectClient, connectSseClient, listToolsRaw, refusedAsLegacy } from "../../../app/common/mcp-client.js";
import { serverPath } from "../../../app/common/mirror.js";
import { RpcError } from "../../../app/common/protocol.js";
import { addServersFromJson } from "../../../app/common/user-servers.js";
import { routeMcp } from "../../../app/sw/router.js";

const SSE_URL = "https://legacy.example.org/sse";

/** What the fake server answers to each request. @param {any} message */
function answer(message) {
  const { id, method, params } = message;
  if (method === "initialize") {
    return { jsonrpc: "2.0", id, result: { protocolVersion: "2024-11-05", capabilities: { tools: {} }, serverInfo: { name: "legacy", version: "1" } } };
  }
  if (method === "tools/list") return { jsonrpc: "2.0", id, result: { tools: [{ name: "echo", inputSchema: { type: "object" } }] } };
  if (method === "tools/call") return { jsonrpc: "2.0", id, result: { content: [{ type: "text", text: `Echo: ${params.arguments.message}` }] } };
  return null; // a notification
}

/**
 * An HTTP+SSE server at SSE_URL (GET /sse, POST /message?sessionId=…), as `fetch` reaches it from the service worker.
 * @returns {{sessions: Map<string, ReadableStreamDefaultController<Uint8Array>>}}
 */
function legacyServer() {
  const encoder = new TextEncoder();
  /** @type {Map<string, ReadableStreamDefaultController<Uint8Array>>} */
  const sessions = new Map();
  /** @param {ReadableStreamDefaultController<Uint8Array>} stream @param {string} type @param {string} data */
  const send = (stream, type, data) => stream.enqueue(encoder.encode(`event: ${type}\ndata: ${data}\n\n`));
  fakeFetch(async (request) => {
    const url = new URL(request.url);
    if (request.method === "GET" && url.href === SSE_URL) {
      const id = `s${sessions.size + 1}`;
      const body = new ReadableStream({
        start(stream) {
          sessions.set(id, stream);
          send(stream, "endpoint", `/message?sessionId=${id}`);
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }
    const stream = sessions.get(url.searchParams.get("sessionId") ?? "");
    if (request.method !== "POST" || url.pathname !== "/message" || !stream) return new Response("Not Found", { status: 404 });
    const reply = answer(await request.json());
    if (reply) send(stream, "message", JSON.stringify(reply));
    return new Response("Accepted", { status: 202 });
  });
  return { sessions };
}

/** The page's fetch: same-origin requests are the service worker's to answer, as in a browser. @type {typeof fetch} */
const pageFetch = async (input, init) => {
  const request = new Request(input instanceof URL ? input.href : input, init);
  const routed = routeMcp(/** @type {any} */ ({ request, clientId: "page" }), { policy: async () => null, onQueued: () => {} });
  assert.ok(routed, `the router does not answer ${request.url}`);
  return routed;
};

/** Add the server at SSE_URL as the user does from a configuration that says `sse`; returns its name. */
async function addLegacyServer() {
  const { added } = await addServersFromJson(JSON.stringify({ mcpServers: { Legacy: { type: "sse", url: SSE_URL } } }), { policy: null });
  return added[0].name;
}

beforeEach(async () => {
  await transact(["servers", "tools", "auth"], "readwrite", (tx) => {
    for (const store of ["servers", "tools", "auth"]) tx.objectStore(store).clear();
  });
  setOnline(true);
});

describe("a client over HTTP+SSE", () => {
  test("connects through the router, lists the tools and calls one, saying which protocol version it speaks", async () => {
    legacyServer();
    const name = await addLegacyServer();
    const client = await connectSseClient(serverPath(name), { fetch: pageFetch });
    try {
      assert.equal(client.getNegotiatedProtocolVersion(), "2024-11-05");
      assert.deepEqual((await listToolsRaw(client)).tools.map((tool) => tool.name), ["echo"]);
      const result = await callToolRaw(client, { name: "echo", arguments: { message: "hello" } });
      assert.deepEqual(result.content, [{ type: "text", text: "Echo: hello" }]);
    } finally {
      await client.close();
    }
  });

  test("offline, fails with the router's explanation that the network is needed", async () => {
    legacyServer();
    const name = await addLegacyServer();
    setOnline(false);
    await assert.rejects(connectSseClient(serverPath(name), { fetch: pageFetch }), (error) => {
      assert.equal(/** @type {any} */ (error).code, RpcError.NEEDS_NETWORK);
      assert.match(/** @type {Error} */ (error).message, /Connecting to Legacy needs the network/);
      return true;
    });
  });

  test("closes when its stream breaks off, rather than reconnect to a session it never initialized", async () => {
    const { sessions } = legacyServer();
    const name = await addLegacyServer();
    const client = await connectSseClient(serverPath(name), { fetch: pageFetch });
    const closed = new Promise((resolve) => (client.onclose = () => resolve(undefined)));
    sessions.get("s1")?.close();
    await closed;
    assert.equal(sessions.size, 1, "no second stream was opened");
  });
});

describe("refusedAsLegacy", () => {
  for (const status of [400, 404, 405]) {
    test(`a Streamable HTTP handshake refused with ${status} is worth trying over HTTP+SSE`, async () => {
      fakeFetch(() => new Response("Cannot POST /sse", { status }));
      const error = await connectClient(`${ORIGIN}/sse`).catch((failure) => failure);
      assert.equal(refusedAsLegacy(error), true);
    });
  }

  test("other failures are not", async () => {
    fakeFetch(() => new Response("down", { status: 500 }));
    assert.equal(refusedAsLegacy(await connectClient(`${ORIGIN}/mcp`).catch((failure) => failure)), false);
    fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 0, error: { code: RpcError.SIGN_IN_NEEDED, message: "sign in" } }));
    assert.equal(refusedAsLegacy(await connectClient(`${ORIGIN}/mcp`).catch((failure) => failure)), false);
    assert.equal(refusedAsLegacy(new TypeError("fetch failed")), false);
  });
});
