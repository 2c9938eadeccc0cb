// Where the router sends each MCP call (app/sw/router.js): a local server's calls to the page bridge, a reachable
// remote server's as they are, an unreachable one's answered from the mirror or queued, and what a managed policy
// forbids refused with -32011.
import { windows, setOnline, fakeFetch, ORIGIN } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { transact } from "../../../app/common/db.js";
import { storeRegistryEntries, storeTools } from "../../../app/common/mirror.js";
import { callToolRaw, connectClient, listToolsRaw } from "../../../app/common/mcp-client.js";
import { authRecord } from "../../../app/common/oauth.js";
import { RpcError } from "../../../app/common/protocol.js";
import { addServerFromUrl, setUserServerDisabled } from "../../../app/common/user-servers.js";
import { queueState } from "../../../app/sw/queue.js";
import { routeMcp } from "../../../app/sw/router.js";

const REMOTE = "io.example/notes";
const LOCAL = "io.satchel/tools";
const REMOTE_URL = `${ORIGIN}/mcp/workspace`;

const remoteEntry = {
  server: {
    name: REMOTE,
    title: "Notes",
    version: "1.0.0",
    remotes: [{ type: "streamable-http", url: REMOTE_URL }],
    _meta: { "io.satchel/queueable": ["tag_note"] },
  },
};
const localEntry = {
  server: { name: LOCAL, version: "1.0.0", _meta: { "io.satchel/local": { worker: "pyodide-server", files: [] } } },
};
const remoteTools = [
  { name: "save_note", annotations: { idempotentHint: true, readOnlyHint: false } },
  { name: "search_notes", annotations: { idempotentHint: true, readOnlyHint: true } },
  { name: "delete_note", annotations: { destructiveHint: true } },
  { name: "tag_note", annotations: {} },
];

/** @typedef {import("../../../app/common/policy.js").Policy} Policy */

/**
 * Send one JSON-RPC message through the router as a page's MCP client would; returns its response (null when the
 * router does not answer that URL) and the tools it queued.
 * @param {string} server
 * @param {any} message
 * @param {{policy?: Policy | null, method?: string, url?: string}} [options]
 */
async function route(server, message, { policy = null, method = "POST", url } = {}) {
  const request = new Request(url ?? `${ORIGIN}/mcp/${encodeURIComponent(server)}`, {
    method,
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
    body: method === "POST" ? JSON.stringify(message) : undefined,
  });
  /** @type {string[]} */
  const queued = [];
  const event = /** @type {any} */ ({ request, clientId: "" });
  const response = await routeMcp(event, { policy: async () => policy, onQueued: (tool) => queued.push(tool) });
  return { response, queued };
}

/**
 * The SDK client of a page, talking to `server` through the router (as the service worker puts it in its way).
 * @param {string} server
 */
function routedClient(server) {
  /** @type {typeof fetch} */
  const send = async (input, init) => {
    const request = new Request(input, init);
    const hooks = { policy: async () => null, onQueued: () => {} };
    const response = await routeMcp(/** @type {any} */ ({ request, clientId: "" }), hooks);
    return response ?? new Response(null, { status: 404 });
  };
  return connectClient(`${ORIGIN}/mcp/${encodeURIComponent(server)}`, { fetch: send });
}

/** @param {Response | null} response */
async function json(response) {
  assert.ok(response);
  return response.json();
}

const call = (name, id = 1) => ({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: { text: "hi" } } });

beforeEach(async () => {
  await transact(["servers", "tools", "queue", "auth"], "readwrite", (tx) => {
    for (const store of ["servers", "tools", "queue", "auth"]) tx.objectStore(store).clear();
  });
  await storeRegistryEntries([remoteEntry, localEntry]);
  await storeTools({ server: REMOTE, tools: remoteTools, hidden: [], fetchedAt: Date.now(), ttlMs: 60_000, fingerprint: "" });
  windows.length = 0;
  setOnline(true);
  fakeFetch(() => {
    throw new TypeError("fetch failed");
  });
});

describe("which URLs the router answers", () => {
  test("a URL outside /mcp/ is not the router's", async () => {
    const { response } = await route(REMOTE, call("save_note"), { url: `${ORIGIN}/index.html`, method: "GET" });
    assert.equal(response, null);
  });

  test("another origin is not the router's", async () => {
    const { response } = await route(REMOTE, call("save_note"), { url: "https://elsewhere.test/mcp/x" });
    assert.equal(response, null);
  });

  test("a server the mirror does not know is a 404 with a JSON-RPC error", async () => {
    const { response } = await route("io.example/unknown", call("x"));
    assert.equal(response?.status, 404);
    assert.equal((await json(response)).error.code, RpcError.INVALID_REQUEST);
  });

  test("a body that is not JSON is a parse error", async () => {
    const request = new Request(`${ORIGIN}/mcp/${encodeURIComponent(REMOTE)}`, { method: "POST", body: "{" });
    const response = await routeMcp(/** @type {any} */ ({ request, clientId: "" }), { policy: async () => null, onQueued: () => {} });
    assert.equal(response?.status, 400);
    assert.equal((await json(response)).error.code, RpcError.PARSE);
  });
});

describe("remote servers", () => {
  test("online, a call is forwarded to the server's endpoint untouched", async () => {
    const seen = fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 1, result: { content: [] } }));
    const { response } = await route(REMOTE, call("save_note"));
    assert.deepEqual(await json(response), { jsonrpc: "2.0", id: 1, result: { content: [] } });
    assert.equal(seen.length, 1);
    assert.equal(seen[0].url, REMOTE_URL);
    assert.deepEqual(await seen[0].json(), call("save_note"));
  });

  test("a 401 becomes a JSON-RPC error asking the page to sign in; the challenge is kept", async () => {
    fakeFetch(() => new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer scope="notes"' } }));
    const { response } = await route(REMOTE, call("save_note", 7));
    const answer = await json(response);
    assert.equal(answer.id, 7);
    assert.equal(answer.error.code, RpcError.SIGN_IN_NEEDED);
    assert.equal(answer.error.data.reason, "sign-in");
    assert.equal((await authRecord(REMOTE))?.challenge?.scope, "notes");
  });

  test("a 403 for want of scope asks for a new sign-in; any other 403 is the server's own answer", async () => {
    fakeFetch(() => new Response(null, { status: 403, headers: { "WWW-Authenticate": 'Bearer error="insufficient_scope", scope="w"' } }));
    const { response } = await route(REMOTE, call("save_note"));
    assert.equal((await json(response)).error.data.reason, "insufficient-scope");
    fakeFetch(() => new Response("forbidden", { status: 403 }));
    const { response: plain } = await route(REMOTE, call("save_note"));
    assert.equal(plain?.status, 403);
  });

  test("the page's Authorization header is never forwarded", async () => {
    const seen = fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 1, result: {} }));
    const request = new Request(`${ORIGIN}/mcp/${encodeURIComponent(REMOTE)}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer stolen" },
      body: JSON.stringify(call("save_note")),
    });
    await routeMcp(/** @type {any} */ ({ request, clientId: "" }), { policy: async () => null, onQueued: () => {} });
    assert.equal(seen[0].headers.get("authorization"), null);
  });

  test("a GET resuming a stream (Last-Event-ID) is forwarded; a bare GET is answered 405", async () => {
    const seen = fakeFetch(() => new Response("id: 2\ndata: {}\n\n", { headers: { "content-type": "text/event-stream" } }));
    const url = `${ORIGIN}/mcp/${encodeURIComponent(REMOTE)}`;
    const resume = new Request(url, { method: "GET", headers: { accept: "text/event-stream", "last-event-id": "event-1" } });
    const hooks = { policy: async () => null, onQueued: () => {} };
    const resumed = await routeMcp(/** @type {any} */ ({ request: resume, clientId: "" }), hooks);
    assert.equal(resumed?.status, 200);
    assert.equal(seen[0].headers.get("last-event-id"), "event-1");
    const bare = await routeMcp(/** @type {any} */ ({ request: new Request(url, { method: "GET" }), clientId: "" }), hooks);
    assert.equal(bare?.status, 405);
  });

  test("offline, an idempotent tool that changes something is queued", async () => {
    setOnline(false);
    const { response, queued } = await route(REMOTE, call("save_note"));
    const answer = await json(response);
    assert.match(answer.result.content[0].text, /^Queued: save_note/);
    assert.equal(typeof answer.result._meta["io.satchel/queued"].seq, "number");
    assert.deepEqual(queued, ["save_note"]);
    const { entries } = await queueState();
    assert.deepEqual(entries.map((entry) => [entry.tool, entry.url, entry.status]), [["save_note", REMOTE_URL, "pending"]]);
  });

  test("a tool the registry entry lists as queueable is queued", async () => {
    setOnline(false);
    const { queued } = await route(REMOTE, call("tag_note"));
    assert.deepEqual(queued, ["tag_note"]);
  });

  test("the same idempotency key queued twice is one entry", async () => {
    setOnline(false);
    const keyed = call("save_note");
    keyed.params._meta = { "io.satchel/idempotency-key": "note-1" };
    await route(REMOTE, keyed);
    await route(REMOTE, { ...keyed, id: 2 });
    const { entries } = await queueState();
    assert.deepEqual(entries.map((entry) => entry.key), ["note-1"]);
  });

  for (const tool of ["search_notes", "delete_note"]) {
    test(`offline, ${tool} is refused as needing the network, not queued`, async () => {
      setOnline(false);
      const { response, queued } = await route(REMOTE, call(tool));
      const { error } = await json(response);
      assert.equal(error.code, RpcError.NEEDS_NETWORK);
      assert.equal(error.data.queueable, false);
      assert.deepEqual(queued, []);
      assert.equal((await queueState()).entries.length, 0);
    });
  }

  test("an unreachable server is answered as offline", async () => {
    const { queued } = await route(REMOTE, call("save_note"));
    assert.deepEqual(queued, ["save_note"]);
  });

  test("a gateway error from a proxy in front of the server counts as unreachable", async () => {
    fakeFetch(() => new Response("bad gateway", { status: 502 }));
    const { queued } = await route(REMOTE, call("save_note"));
    assert.deepEqual(queued, ["save_note"]);
  });

  test("offline, the handshake and tools/list come from the mirror, without the tools a policy denies", async () => {
    setOnline(false);
    const policy = /** @type {Policy} */ ({ version: 1, tools: { deny: [`${REMOTE}:delete_note`] } });
    const hello = await json((await route(REMOTE, { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18" } }, { policy })).response);
    assert.equal(hello.result.protocolVersion, "2025-06-18");
    assert.equal(hello.result._meta["io.satchel/offline"], true);
    const list = await json((await route(REMOTE, { jsonrpc: "2.0", id: 2, method: "tools/list" }, { policy })).response);
    assert.deepEqual(list.result.tools.map((tool) => tool.name), ["save_note", "search_notes", "tag_note"]);
  });

  test("offline, server/discover of a server last seen speaking 2025-11-25 is refused as needing the network", async () => {
    setOnline(false);
    const { error } = await json((await route(REMOTE, { jsonrpc: "2.0", id: 1, method: "server/discover", params: {} })).response);
    assert.equal(error.code, RpcError.NEEDS_NETWORK);
  });

  test("offline, the SDK client falls back from server/discover to the mirror's handshake and lists the tools", async () => {
    setOnline(false);
    const client = await routedClient(REMOTE);
    try {
      assert.equal(client.getProtocolEra(), "legacy");
      const { tools, offline } = await listToolsRaw(client);
      assert.deepEqual(tools.map((tool) => tool.name), remoteTools.map((tool) => tool.name));
      assert.equal(offline, true);
    } finally {
      await client.close();
    }
  });

  test("offline, a server remembered speaking 2026-07-28 gets its own discover result, and its client stays stateless", async () => {
    const discover = { supportedVersions: ["2026-07-28"], capabilities: { tools: {} }, _meta: { "io.example/build": "7" } };
    // What the page mirrors is what it screened: well-formed tools, each with its input schema.
    const tools = remoteTools.map((tool) => ({ ...tool, inputSchema: { type: "object" } }));
    await storeTools({
      server: REMOTE, tools, hidden: [], fetchedAt: Date.now(), ttlMs: 60_000, fingerprint: "",
      protocolVersion: "2026-07-28", protocolEra: "modern", discover, protocolCheckedAt: Date.now(),
    });
    setOnline(false);
    const answer = await json((await route(REMOTE, { jsonrpc: "2.0", id: 1, method: "server/discover", params: {} })).response);
    assert.deepEqual(answer.result.supportedVersions, ["2026-07-28"]);
    assert.deepEqual(answer.result._meta, { "io.example/build": "7", "io.satchel/offline": true });
    const client = await routedClient(REMOTE);
    try {
      assert.equal(client.getProtocolEra(), "modern");
      assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
      const listed = await listToolsRaw(client);
      assert.deepEqual(listed.tools.map((tool) => tool.name), remoteTools.map((tool) => tool.name));
      assert.equal(listed.offline, true);
      const queued = await callToolRaw(client, { name: "save_note", arguments: { text: "hi" } });
      assert.match(queued.content[0].text, /^Queued: save_note/);
    } finally {
      await client.close();
    }
  });

  test("offline, a notification is accepted with 202", async () => {
    setOnline(false);
    const { response } = await route(REMOTE, { jsonrpc: "2.0", method: "notifications/initialized" });
    assert.equal(response?.status, 202);
  });
});

describe("a managed policy", () => {
  test("refuses a server it does not allow", async () => {
    const policy = /** @type {Policy} */ ({ version: 1, servers: { allow: [LOCAL] } });
    const { response } = await route(REMOTE, call("save_note"), { policy });
    const { error } = await json(response);
    assert.equal(error.code, RpcError.DENIED_BY_POLICY);
    assert.match(error.message, /is not allowed by your organisation's policy/);
  });

  test("refuses a denied tool even when it is called directly", async () => {
    const policy = /** @type {Policy} */ ({ version: 1, organization: "Riverside", tools: { deny: [`${REMOTE}:save_note`] } });
    const seen = fakeFetch(() => Response.json({}));
    const { error } = await json((await route(REMOTE, call("save_note"), { policy })).response);
    assert.equal(error.code, RpcError.DENIED_BY_POLICY);
    assert.match(error.message, /blocked by Riverside's policy/);
    assert.equal(seen.length, 0);
  });

  test("that keeps everything on the device refuses every remote server", async () => {
    const policy = /** @type {Policy} */ ({ version: 1, sync: { remoteAllowed: false } });
    const { error } = await json((await route(REMOTE, call("save_note"), { policy })).response);
    assert.equal(error.code, RpcError.DENIED_BY_POLICY);
  });

  test("that cannot be read refuses everything with 503", async () => {
    const request = new Request(`${ORIGIN}/mcp/${encodeURIComponent(REMOTE)}`, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }) });
    const hooks = { policy: async () => Promise.reject(new Error("/policy.json is missing")), onQueued: () => {} };
    const response = await routeMcp(/** @type {any} */ ({ request, clientId: "" }), hooks);
    assert.equal(response?.status, 503);
    assert.match((await json(response)).error.message, /policy cannot be used: \/policy.json is missing/);
  });
});

describe("servers the user added", () => {
  const USER_URL = "https://tools.example.org/mcp";

  /** Add the server at USER_URL as the user does; returns its name. */
  async function addUserServer() {
    return (await addServerFromUrl(USER_URL, { policy: null })).name;
  }

  test("are forwarded to their URL, whatever servers.allow lists, when the policy lets users add servers", async () => {
    const name = await addUserServer();
    const seen = fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 1, result: { content: [] } }));
    const policy = /** @type {Policy} */ ({ version: 1, servers: { allow: [LOCAL], userAdded: true } });
    const { response } = await route(name, call("save_note"), { policy });
    assert.deepEqual(await json(response), { jsonrpc: "2.0", id: 1, result: { content: [] } });
    assert.deepEqual(seen.map((request) => request.url), [USER_URL]);
    const closed = /** @type {Policy} */ ({ version: 1, servers: { allow: [LOCAL] } });
    const { response: refused } = await route(name, call("save_note"), { policy: closed });
    assert.equal((await json(refused)).error.code, RpcError.DENIED_BY_POLICY);
  });

  test("once disabled, nothing reaches them, online or offline", async () => {
    const name = await addUserServer();
    await setUserServerDisabled(name, true);
    const seen = fakeFetch(() => Response.json({}));
    for (const online of [true, false]) {
      setOnline(online);
      const { response, queued } = await route(name, call("save_note", 7));
      assert.equal(response?.status, 200);
      const answer = await json(response);
      assert.equal(answer.id, 7);
      assert.equal(answer.error.code, RpcError.DENIED_BY_POLICY);
      assert.equal(answer.error.message, 'tools.example.org/mcp is disabled: enable it under "Servers and tools" to use it');
      assert.deepEqual(queued, []);
    }
    assert.equal(seen.length, 0);
    await setUserServerDisabled(name, false);
    setOnline(true);
    fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 1, result: {} }));
    assert.deepEqual((await json((await route(name, call("save_note"))).response)).result, {});
  });

  test("are refused when the policy no longer allows their origin, or no longer allows added servers", async () => {
    const name = await addUserServer();
    const seen = fakeFetch(() => Response.json({}));
    for (const [servers, message] of /** @type {[any, RegExp][]} */ ([
      [{ origins: ["https://other.example.org"] }, /allows added servers only at https:\/\/other.example.org: https:\/\/tools.example.org is not one of them/],
      [{ userAdded: false }, /does not allow servers added on this device/],
    ])) {
      const { error } = await json((await route(name, call("save_note"), { policy: /** @type {Policy} */ ({ version: 1, servers }) })).response);
      assert.equal(error.code, RpcError.DENIED_BY_POLICY);
      assert.match(error.message, message);
    }
    assert.equal(seen.length, 0);
    const allowed = /** @type {Policy} */ ({ version: 1, servers: { origins: ["https://tools.example.org"] } });
    fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 1, result: {} }));
    assert.deepEqual((await json((await route(name, call("save_note"), { policy: allowed })).response)).result, {});
  });
});

describe("local servers", () => {
  test("a call goes to an open page, which relays the worker's answer", async () => {
    /** @type {any[]} */
    const relayed = [];
    windows.push({
      id: "page-1",
      type: "window",
      /** @param {any} data @param {MessagePort[]} ports */
      postMessage(data, [port]) {
        relayed.push(data);
        port.postMessage({ type: "message", message: { jsonrpc: "2.0", id: data.message.id, result: { content: [] } } });
        port.postMessage({ type: "end" });
      },
    });
    const { response } = await route(LOCAL, call("summarize_extractive", 7));
    assert.deepEqual(await json(response), { jsonrpc: "2.0", id: 7, result: { content: [] } });
    assert.equal(relayed[0].type, "mcp-bridge");
    assert.equal(relayed[0].serverId, LOCAL);
  });

  test("a caller that goes away cancels its call on the local server, as a 2026-07-28 client means it", async () => {
    /** @type {any[]} */
    const relayed = [];
    /** @type {() => void} */
    let received = () => {};
    const gotCall = new Promise((resolve) => (received = () => resolve(undefined)));
    windows.push({
      id: "page-1",
      type: "window",
      /** @param {any} data @param {MessagePort[]} ports */
      postMessage(data, [port]) {
        relayed.push(data.message);
        if (data.message.method === "tools/call") received(); // and no answer: the worker is busy
        else port.postMessage({ type: "end" });
      },
    });
    const caller = new AbortController();
    const request = new Request(`${ORIGIN}/mcp/${encodeURIComponent(LOCAL)}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(call("summarize_extractive", 9)),
      signal: caller.signal,
    });
    const routed = routeMcp(/** @type {any} */ ({ request, clientId: "page-1" }), { policy: async () => null, onQueued: () => {} });
    await gotCall;
    caller.abort();
    await routed;
    assert.deepEqual(relayed.map((message) => message.method), ["tools/call", "notifications/cancelled"]);
    assert.equal(relayed[1].params.requestId, 9);
  });

  test("with no page open to host the worker, the call fails with -32012", async () => {
    const { error } = await json((await route(LOCAL, call("summarize_extractive"))).response);
    assert.equal(error.code, RpcError.NO_HOST_PAGE);
  });

  test("offline does not matter to a local server", async () => {
    setOnline(false);
    const { error } = await json((await route(LOCAL, call("summarize_extractive"))).response);
    assert.equal(error.code, RpcError.NO_HOST_PAGE); // it tried the page bridge, not the mirror
  });
});
