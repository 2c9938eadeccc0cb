// What the service worker sends to a remote server (app/sw/remote.js, app/common/remote-fetch.js): the user's
// configured headers and the server's own token — never to another URL —, a refresh when the token expired or was
// refused, the challenge written down when the server wants a sign-in, and the way to its origin (directly when it
// allows CORS, else through the relay, remembered), with the relay's refusals told apart from an offline network.
import { fakeFetch, ORIGIN } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { transact } from "../../../app/common/db.js";
import { authRecord, parseChallenge, recordChallenge, signInState, updateAuth } from "../../../app/common/oauth.js";
import { fetchRemote, RELAY_ERROR_HEADER, RelayRefusal, reachOf } from "../../../app/common/remote-fetch.js";
import { sendToServer } from "../../../app/sw/remote.js";

const URL_A = "https://mcp.example.com/mcp";
const TOKEN_URL = "https://auth.example.com/token";

/** @param {string} url @param {Record<string, string>} [headers] */
const server = (url, headers) => ({
  name: "user.example/notes",
  server: { name: "user.example/notes", remotes: [{ type: "streamable-http", url }], _meta: headers ? { "io.satchel/user": { headers } } : {} },
  official: {},
  syncedAt: 0,
});
const post = () => ({ method: "POST", headers: new Headers({ "content-type": "application/json" }), body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });

/** Sign-in state as a finished sign-in leaves it. @param {any} tokens @param {number} [obtainedAt] */
const signedIn = (tokens, obtainedAt = Date.now()) =>
  updateAuth("user.example/notes", URL_A, (record) => {
    record.tokens = tokens;
    record.obtainedAt = obtainedAt;
    record.clientInformation = { client_id: "satchel-client" };
    record.discovery = {
      authorizationServerUrl: "https://auth.example.com",
      authorizationServerMetadata: {
        issuer: "https://auth.example.com",
        authorization_endpoint: "https://auth.example.com/authorize",
        token_endpoint: TOKEN_URL,
        response_types_supported: ["code"],
      },
      resourceMetadata: { resource: URL_A, authorization_servers: ["https://auth.example.com"] },
    };
  });

beforeEach(async () => {
  await transact(["auth", "meta"], "readwrite", (tx) => {
    tx.objectStore("auth").clear();
    tx.objectStore("meta").clear();
  });
});

describe("headers and tokens", () => {
  test("the configured headers and the server's token are sent; the page cannot choose the token", async () => {
    await signedIn({ access_token: "token-a", token_type: "Bearer", expires_in: 3600 });
    const seen = fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 1, result: {} }));
    const init = post();
    init.headers.set("Authorization", "Bearer from-the-page");
    const response = await sendToServer(server(URL_A, { "X-Api-Key": "k1" }), URL_A, init);
    assert.equal(response.status, 200);
    assert.equal(seen[0].headers.get("authorization"), "Bearer token-a");
    assert.equal(seen[0].headers.get("x-api-key"), "k1");
  });

  test("a token issued for one URL is never sent to another", async () => {
    await signedIn({ access_token: "token-a", token_type: "Bearer" });
    const seen = fakeFetch(() => Response.json({}));
    await sendToServer(server("https://mcp.example.com/other"), "https://mcp.example.com/other", post());
    assert.equal(seen[0].headers.get("authorization"), null);
  });

  test("an HTTP+SSE server's token goes to the message endpoint it named on its origin, and nowhere else", async () => {
    await signedIn({ access_token: "token-a", token_type: "Bearer" });
    const seen = fakeFetch(() => new Response(null, { status: 202 }));
    const endpoint = "https://mcp.example.com/message?sessionId=1";
    await sendToServer(server(URL_A), endpoint, post(), { authUrl: URL_A });
    assert.equal(seen[0].url, endpoint);
    assert.equal(seen[0].headers.get("authorization"), "Bearer token-a");
    await assert.rejects(sendToServer(server(URL_A), "https://collector.example.net/message", post(), { authUrl: URL_A }), /is not sent to https:\/\/collector.example.net/);
    assert.equal(seen.length, 1);
    fakeFetch(() => new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer scope="more"' } }));
    await sendToServer(server(URL_A), endpoint, post(), { authUrl: URL_A });
    const record = await authRecord("user.example/notes");
    assert.equal(record?.url, URL_A, "the challenge is kept for the server's URL");
    assert.equal(record?.challenge?.scope, "more");
  });

  test("an expired token is refreshed before the request, and the new one is kept", async () => {
    await signedIn({ access_token: "old", refresh_token: "refresh-1", expires_in: 60 }, Date.now() - 3600_000);
    const seen = fakeFetch(async (request) => {
      if (request.url === TOKEN_URL) {
        const form = new URLSearchParams(await request.text());
        assert.equal(form.get("grant_type"), "refresh_token");
        assert.equal(form.get("refresh_token"), "refresh-1");
        assert.equal(form.get("resource"), URL_A);
        return Response.json({ access_token: "new", token_type: "Bearer", expires_in: 3600 });
      }
      return Response.json({});
    });
    await sendToServer(server(URL_A), URL_A, post());
    assert.deepEqual(seen.map((request) => request.url), [TOKEN_URL, URL_A]);
    assert.equal(seen[1].headers.get("authorization"), "Bearer new");
    const record = await authRecord("user.example/notes");
    assert.equal(record?.tokens.access_token, "new");
    assert.equal(record?.tokens.refresh_token, "refresh-1", "a refresh answer without a refresh token keeps the old one");
  });

  test("a refused token is refreshed once and the request sent again", async () => {
    await signedIn({ access_token: "revoked", refresh_token: "refresh-1", expires_in: 3600 });
    let calls = 0;
    fakeFetch((request) => {
      if (request.url === TOKEN_URL) return Response.json({ access_token: "fresh", token_type: "Bearer" });
      calls += 1;
      return request.headers.get("authorization") === "Bearer fresh"
        ? Response.json({ ok: true })
        : new Response(null, { status: 401, headers: { "WWW-Authenticate": 'Bearer error="invalid_token"' } });
    });
    const response = await sendToServer(server(URL_A), URL_A, post());
    assert.equal(response.status, 200);
    assert.equal(calls, 2);
    assert.equal(signInState(await authRecord("user.example/notes"), URL_A), "signed-in");
  });
});

describe("challenges", () => {
  test("a 401 without a usable token records what the server asked for: a sign-in is needed", async () => {
    fakeFetch(() =>
      new Response(null, {
        status: 401,
        headers: { "WWW-Authenticate": 'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp", scope="notes:read"' },
      }),
    );
    const response = await sendToServer(server(URL_A), URL_A, post());
    assert.equal(response.status, 401);
    const record = await authRecord("user.example/notes");
    assert.equal(signInState(record, URL_A), "needed");
    assert.equal(record?.challenge?.scope, "notes:read");
    assert.equal(record?.challenge?.resourceMetadataUrl, "https://mcp.example.com/.well-known/oauth-protected-resource/mcp");
  });

  test("a 403 asking for more scope keeps the earlier scope in what the next sign-in asks for, and counts", async () => {
    await signedIn({ access_token: "basic", scope: "mcp:basic" });
    const refusal = () =>
      new Response(null, { status: 403, headers: { "WWW-Authenticate": 'Bearer error="insufficient_scope", scope="mcp:write"' } });
    fakeFetch(refusal);
    await sendToServer(server(URL_A), URL_A, post());
    let record = await authRecord("user.example/notes");
    assert.equal(record?.challenge?.scope, "mcp:basic mcp:write");
    assert.equal(record?.stepUps, 1);
    assert.equal(record?.tokens.access_token, "basic", "a token short of scope still works for what it covers");
    await recordChallenge("user.example/notes", URL_A, refusal());
    record = await authRecord("user.example/notes");
    assert.equal(record?.stepUps, 2);
  });

  test("an answer with the stepped-up token starts the count of scope refusals again", async () => {
    await signedIn({ access_token: "wider", scope: "mcp:basic mcp:write" });
    await updateAuth("user.example/notes", URL_A, (record) => {
      record.stepUps = 2;
    });
    fakeFetch(() => Response.json({ jsonrpc: "2.0", id: 1, result: {} }));
    await sendToServer(server(URL_A), URL_A, post());
    assert.equal((await authRecord("user.example/notes"))?.stepUps, 0);
  });

  test("WWW-Authenticate parameters are read quoted or bare, and only from a Bearer challenge", () => {
    assert.deepEqual(parseChallenge('Bearer realm="x", scope="a b", error=insufficient_scope'), {
      resourceMetadataUrl: undefined,
      scope: "a b",
      error: "insufficient_scope",
    });
    assert.deepEqual(parseChallenge('Basic realm="x"'), {});
    assert.deepEqual(parseChallenge(null), {});
  });
});

describe("the way to another origin", () => {
  test("a server that allows CORS is reached directly, and that is remembered", async () => {
    const seen = fakeFetch(() => Response.json({}));
    await sendToServer(server(URL_A), URL_A, post());
    assert.equal(seen[0].url, URL_A);
    assert.equal((await reachOf("https://mcp.example.com"))?.path, "direct");
  });

  test("a server that refuses CORS is reached through the relay, and the next request goes there at once", async () => {
    const target = "https://nocors.example.com/mcp";
    const seen = fakeFetch((request) => {
      if (request.url.startsWith(`${ORIGIN}/relay/`)) {
        assert.equal(request.headers.get("x-satchel-relay"), "1");
        return Response.json({ ok: true }, { headers: { "X-Satchel-Relay-Target": "https://nocors.example.com" } });
      }
      throw new TypeError("Failed to fetch");
    });
    await sendToServer(server(target), target, post());
    await sendToServer(server(target), target, post());
    assert.deepEqual(
      seen.map((request) => request.url),
      [target, `${ORIGIN}/relay/https/nocors.example.com/mcp`, `${ORIGIN}/relay/https/nocors.example.com/mcp`],
    );
    const reach = await reachOf("https://nocors.example.com");
    assert.equal(reach?.path, "relay");
    assert.match(reach?.reason ?? "", /CORS/);
  });

  test("the relay URL names the scheme, host and port, and keeps the path and query as they are", async () => {
    const relayed = fakeFetch((request) => {
      if (request.url.startsWith(`${ORIGIN}/relay/`)) return Response.json({});
      throw new TypeError("Failed to fetch");
    });
    const targets = {
      "http://nocors3.example.com:8080/a%2Fb/c%20d?tenant=a%20b&next=%2F#top": "/relay/http/nocors3.example.com:8080/a%2Fb/c%20d?tenant=a%20b&next=%2F",
      "https://[FD00::1]/mcp": "/relay/https/[fd00::1]/mcp",
      "https://bücher.example:443": "/relay/https/xn--bcher-kva.example/",
    };
    for (const [target, relayPath] of Object.entries(targets)) {
      await fetchRemote(target, post());
      assert.equal(relayed.at(-1)?.url, `${ORIGIN}${relayPath}`, target);
    }
  });

  test("when the relay cannot reach the server either, it is a network failure (try again later)", async () => {
    const target = "https://down.example.com/mcp";
    fakeFetch((request) => {
      if (!request.url.startsWith(`${ORIGIN}/relay/`)) throw new TypeError("Failed to fetch");
      return Response.json({ error: "connection refused" }, { status: 502, headers: { [RELAY_ERROR_HEADER]: "unreachable" } });
    });
    await assert.rejects(sendToServer(server(target), target, post()), TypeError);
  });

  test("a relay refusal (a private address) is an error with the relay's reason, not 'offline'", async () => {
    const target = "https://intranet.example.com/mcp";
    fakeFetch((request) => {
      if (!request.url.startsWith(`${ORIGIN}/relay/`)) throw new TypeError("Failed to fetch");
      return Response.json(
        { error: "intranet.example.com resolves to a private address 10.0.0.5" },
        { status: 403, headers: { [RELAY_ERROR_HEADER]: "refused" } },
      );
    });
    await assert.rejects(sendToServer(server(target), target, post()), (error) => {
      assert.ok(error instanceof RelayRefusal);
      assert.equal(error.kind, "refused");
      assert.match(error.message, /private address 10\.0\.0\.5/);
      return true;
    });
  });

  test("a site without a relay says so", async () => {
    const target = "https://nocors2.example.com/mcp";
    fakeFetch((request) => {
      if (!request.url.startsWith(`${ORIGIN}/relay/`)) throw new TypeError("Failed to fetch");
      return new Response("not found", { status: 404 });
    });
    await assert.rejects(sendToServer(server(target), target, post()), (error) => {
      assert.ok(error instanceof RelayRefusal);
      assert.equal(error.kind, "no-relay");
      return true;
    });
  });
});
