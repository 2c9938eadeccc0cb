// Every request the service worker sends to a remote MCP server goes through `sendToServer`: the router's forwarding
// and the Outbox's queued calls alike. It adds what the server needs and nothing else — the headers the user
// configured for that server, and its OAuth access token (refreshed first when it has expired), only when the
// request goes to exactly the URL the token was issued for — and reaches the server directly or through the relay
// (common/remote-fetch.js). A 401, or a 403 asking for more scope, is written down (common/oauth.js), so the page can
// offer to sign in; a refused token is refreshed once and the request sent again before anyone is asked.
import { authRecord, recordChallenge, tokenExpired, updateAuth } from "../common/oauth.js";
import { fetchRemote } from "../common/remote-fetch.js";
import { refreshAuthorization } from "../vendor/mcp-sdk.js";

/** Where a user-added server keeps the headers to send it (common/user-servers.js). */
const USER_META_KEY = "io.satchel/user";

/** @typedef {import("../common/mirror.js").MirroredServer} MirroredServer */

/**
 * Headers the user configured for this server (an API key, say), if it is one they added.
 * @param {MirroredServer} server
 * @returns {Record<string, string>}
 */
export function configuredHeaders(server) {
  const headers = server.server?._meta?.[USER_META_KEY]?.headers;
  if (!headers || typeof headers !== "object") return {};
  return Object.fromEntries(Object.entries(headers).filter(([, value]) => typeof value === "string"));
}

/**
 * Send one HTTP request to a remote server's MCP endpoint.
 * @param {MirroredServer} server
 * @param {string} url the server's endpoint (`remoteUrl(server)`)
 * @param {RequestInit} init a string body only (a refused token means sending it again)
 * @returns {Promise<Response>} the server's answer; a TypeError when it cannot be reached; a RelayRefusal
 */
export async function sendToServer(server, url, init) {
  const base = new Headers(init.headers);
  for (const [name, value] of Object.entries(configuredHeaders(server))) base.set(name, value);
  const attempt = async (/** @type {string | undefined} */ token) => {
    const headers = new Headers(base);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return fetchRemote(url, { ...init, headers });
  };
  let { token, refreshed } = await usableToken(server.name, url);
  let response = await attempt(token);
  if (response.status === 401 && token && !refreshed) {
    ({ token, refreshed } = await usableToken(server.name, url, { force: true }));
    if (refreshed) response = await attempt(token);
  }
  if (response.status === 401 || isScopeChallenge(response)) {
    await recordChallenge(server.name, url, response);
  } else if (response.ok && token) {
    await updateAuth(server.name, url, (record) => {
      if (record.stepUps) record.stepUps = 0;
    });
  }
  return response;
}

/** A 403 whose challenge says the token lacks scope (RFC 6750 `insufficient_scope`). @param {Response} response */
export const isScopeChallenge = (response) =>
  response.status === 403 && /error\s*=\s*"?insufficient_scope/i.test(response.headers.get("WWW-Authenticate") ?? "");

/**
 * The access token to send to `url`, refreshed first when it has expired (or `force`: the server refused it).
 * @param {string} server
 * @param {string} url
 * @param {{force?: boolean}} [options]
 * @returns {Promise<{token?: string, refreshed: boolean}>}
 */
async function usableToken(server, url, { force = false } = {}) {
  const record = await authRecord(server);
  if (!record || record.url !== url || !record.tokens?.access_token) return { refreshed: false };
  if (!force && !tokenExpired(record)) return { token: record.tokens.access_token, refreshed: false };
  const refreshed = await refresh(record);
  return refreshed ? { token: refreshed, refreshed: true } : { refreshed: false };
}

/**
 * Trade the refresh token for a new access token, with what the sign-in discovered; on failure the token is dropped
 * and the record says a sign-in is needed.
 * @param {import("../common/oauth.js").AuthRecord} record
 * @returns {Promise<string | undefined>} the new access token
 */
async function refresh(record) {
  const { discovery, clientInformation, tokens } = record;
  const authorizationServer = discovery?.authorizationServerUrl;
  if (!tokens?.refresh_token || !authorizationServer || !clientInformation) {
    await needsSignIn(record, "the access token expired and there is no refresh token");
    return undefined;
  }
  try {
    const fresh = await refreshAuthorization(authorizationServer, {
      metadata: discovery.authorizationServerMetadata,
      clientInformation,
      refreshToken: tokens.refresh_token,
      resource: discovery.resourceMetadata?.resource ? new URL(discovery.resourceMetadata.resource) : undefined,
      fetchFn: fetchRemote,
    });
    await updateAuth(record.server, record.url, (stored) => {
      // A server may keep the refresh token the same and leave it out of the answer.
      stored.tokens = { ...fresh, refresh_token: fresh.refresh_token ?? tokens.refresh_token };
      stored.obtainedAt = Date.now();
      stored.challenge = undefined;
    });
    return fresh.access_token;
  } catch (error) {
    await needsSignIn(record, `the token could not be refreshed: ${/** @type {Error} */ (error).message}`);
    return undefined;
  }
}

/** @param {import("../common/oauth.js").AuthRecord} record @param {string} why */
function needsSignIn(record, why) {
  return updateAuth(record.server, record.url, (stored) => {
    stored.tokens = undefined;
    stored.challenge = { ...(stored.challenge ?? {}), status: 401, at: Date.now(), detail: why };
  });
}
