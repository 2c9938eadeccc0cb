// The protocol eras of the app's MCP client (app/common/mcp-client.js): it negotiates the era with each server, and
// what it learnt (the era, the version, a 2026-07-28 server's discover result) is remembered and given back to the
// next connect, which then skips the `server/discover` probe.
import { fakeFetch, legacyHandshake } from "../fakes.js";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  connectClient,
  LEGACY_VERDICT_MAX_AGE_MS,
  listToolsRaw,
  priorVerdict,
  protocolLabel,
  protocolVerdict,
} from "../../../app/common/mcp-client.js";

const URL_A = "https://satchel.test/mcp/workspace";
const NOW = Date.UTC(2026, 11, 7);
const DISCOVER = { supportedVersions: ["2025-11-25", "2026-07-28"], capabilities: { tools: {} }, _meta: {} };
const TOOL = { name: "save_note", inputSchema: { type: "object" } };

/** A 2026-07-28 server (stateless: no session, no `initialize`); returns the requests it saw. */
function modernServer() {
  return fakeFetch(async (request) => {
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const message = await request.json();
    if (!("id" in message)) return new Response(null, { status: 202 });
    if (message.method === "server/discover") return Response.json({ jsonrpc: "2.0", id: message.id, result: DISCOVER });
    if (message.method === "tools/list") {
      const result = { resultType: "complete", ttlMs: 0, cacheScope: "private", tools: [TOOL] };
      return Response.json({ jsonrpc: "2.0", id: message.id, result });
    }
    return Response.json({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
  });
}

/** A 2025-11-25 server; returns the requests it saw. */
function legacyServer() {
  return fakeFetch(async (request) => {
    if (request.method !== "POST") return new Response(null, { status: 405 });
    const message = await request.json();
    if (!("id" in message)) return new Response(null, { status: 202 });
    return legacyHandshake(message) ?? Response.json({ jsonrpc: "2.0", id: message.id, result: { tools: [TOOL] } });
  });
}

/** The JSON-RPC methods among the requests a fake server saw. @param {Request[]} seen */
const methods = async (seen) => Promise.all(seen.filter((r) => r.method === "POST").map(async (r) => (await r.clone().json()).method));

describe("negotiating the era", () => {
  test("a 2026-07-28 server is spoken to stateless, after a server/discover probe", async () => {
    const seen = modernServer();
    const client = await connectClient(URL_A);
    try {
      assert.deepEqual(protocolVerdict(client), { era: "modern", version: "2026-07-28", discover: client.getDiscoverResult() });
      assert.deepEqual((await listToolsRaw(client)).tools, [TOOL]);
      assert.deepEqual(await methods(seen), ["server/discover", "tools/list"]);
      assert.equal(seen.at(-1)?.headers.get("mcp-method"), "tools/list");
    } finally {
      await client.close();
    }
  });

  test("a 2025-11-25 server that refuses the probe gets the initialize handshake", async () => {
    const seen = legacyServer();
    const client = await connectClient(URL_A);
    try {
      assert.deepEqual(protocolVerdict(client), { era: "legacy", version: "2025-11-25" });
      assert.deepEqual((await methods(seen)).slice(0, 3), ["server/discover", "initialize", "notifications/initialized"]);
    } finally {
      await client.close();
    }
  });
});

describe("remembering the era", () => {
  test("a remembered 2026-07-28 verdict is adopted without a probe", async () => {
    modernServer();
    const first = await connectClient(URL_A);
    const verdict = protocolVerdict(first);
    await first.close();
    const record = { protocolEra: verdict?.era, protocolVersion: verdict?.version, discover: verdict?.discover, protocolCheckedAt: NOW };
    const seen = modernServer();
    const client = await connectClient(URL_A, undefined, { prior: priorVerdict(record, NOW) });
    try {
      assert.equal(client.getProtocolEra(), "modern");
      await listToolsRaw(client);
      assert.deepEqual(await methods(seen), ["tools/list"]);
    } finally {
      await client.close();
    }
  });

  test("a remembered 2025-11-25 verdict skips the probe while it is recent, and is probed again once it is old", async () => {
    const record = { protocolEra: "legacy", protocolVersion: "2025-11-25", protocolCheckedAt: NOW - 1000 };
    assert.deepEqual(priorVerdict(record, NOW), { kind: "legacy" });
    const seen = legacyServer();
    const client = await connectClient(URL_A, undefined, { prior: priorVerdict(record, NOW) });
    await client.close();
    assert.equal((await methods(seen))[0], "initialize");
    assert.equal(priorVerdict(record, NOW + LEGACY_VERDICT_MAX_AGE_MS), undefined);
  });

  test("nothing remembered, or a modern verdict without its discover result, means a probe", () => {
    assert.equal(priorVerdict(undefined, NOW), undefined);
    assert.equal(priorVerdict({ protocolEra: "modern", protocolVersion: "2026-07-28" }, NOW), undefined);
  });
});

test("the servers list names the era: stateless for 2026-07-28", () => {
  assert.equal(protocolLabel("2026-07-28", "modern"), "MCP 2026-07-28 (stateless)");
  assert.equal(protocolLabel("2025-11-25", "legacy"), "MCP 2025-11-25");
  assert.equal(protocolLabel("2025-06-18", undefined), "MCP 2025-06-18");
  assert.equal(protocolLabel(undefined, undefined), null);
});
