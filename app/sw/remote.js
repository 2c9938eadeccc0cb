// Every request the service worker sends to a remote MCP server goes through `sendToServer`: the router's forwarding
// and the Outbox's queued calls alike. It adds what the server needs and nothing else — the headers the user
// configured for that server, and its OAuth access token (refreshed first when it has expired), only when the
// request goes to exactly the URL the token was issued for, or to the message endpoint that an HTTP+SSE server at that
// URL named on its own origin — and reaches the server directly or through the relay
// (common/remote-fetch.js). A 401, or a 403 asking for more scope, is written down (common/oauth.js), so the page can
// offer to sign in; a refused token is refreshed once and the request sent again before anyone is asked.
import { authRecord, recordChallenge, tokenExpired, updateAuth } from "../common/oauth.js";
import { errorMessage, RpcError } from "../common/protocol.js";
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
 * @param {string} url the server's endpoint (`remoteUrl(server)`), or a URL on its origin the server named itself
 * @param {RequestInit} init a string body only (a refused token means sending it again)
 * @param {{authUrl?: string}} [options] authUrl: the endpoint whose token is sent, when `url` is another URL of the
 *   same server (the message endpoint an HTTP+SSE server names on the stream opened at authUrl); it must be on the
 *   same origin
 * @returns {Promise<Response>} the server's answer; a TypeError when it cannot be reached; a RelayRefusal
 */
export async function sendToServer(server, url, init, { authUrl = url } = {}) {
  const origin = (/** @type {string} */ address) => new URL(address, self.location.origin).origin;
  if (origin(url) !== origin(authUrl)) throw new Error(`the token for ${origin(authUrl)} is not sent to ${origin(url)}`);
  const base = new Headers(init.headers);
  for (const [name, value] of Object.entries(configuredHeaders(server))) base.set(name, value);
  const attempt = async (/** @type {string | undefined} */ token) => {
    const headers = new Headers(base);
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return fetchRemote(url, { ...init, headers });
  };
  let { token, refreshed, stepUps } = await usableToken(server.name, authUrl);
  let response = await attempt(token);
  if (response.status === 401 && token && !refreshed) {
    ({ token, refreshed } = await usableToken(server.name, authUrl, { force: true }));
    if (refreshed) response = await attempt(token);
  }
  if (response.status === 401 || isScopeChallenge(response)) {
    await recordChallenge(server.name, authUrl, response);
  } else if (response.ok && token && stepUps) {
    // A step-up worked: the count of refusals in a row starts again (written only then, not on every request).
    await updateAuth(server.name, authUrl, (record) => {
      record.stepUps = 0;
    });
  }
  return response;
}

/** A 403 whose challenge says the token lacks scope (RFC 6750 `insufficient_scope`). @param {Response} response */
export const isScopeChallenge = (response) =>
  response.status === 403 && /error\s*=\s*"?insufficient_scope/i.test(response.headers.get("WWW-Authenticate") ?? "");

/** What a reverse proxy answers when the server behind it is down or does not answer. */
const GATEWAY_ERRORS = new Set([502, 503, 504]);

/**
 * An answer that says the server is out of reach rather than answering: a proxy in front of it (a kiosk's nginx)
 * answered in its stead.
 * @param {Response} response
 */
export const isGatewayError = (response) => GATEWAY_ERRORS.has(response.status);

/**
 * The JSON-RPC error that asks the page to sign in, for a request the server refused for want of a sign-in (401)
 * or of scope (403 insufficient_scope); null for any other answer. The page turns it into a "Sign in" button.
 * @param {MirroredServer} server
 * @param {Response} response
 * @param {{id: string | number | null, method?: string}} request what was asked (`id` null: the event stream)
 */
export function signInRefusal(server, response, { id, method }) {
  const scopeShort = isScopeChallenge(response);
  if (response.status !== 401 && !scopeShort) return null;
  const label = server.server.title ?? server.name;
  const text = scopeShort
    ? `${label} needs more permission for ${method ?? "this"}: sign in again to grant it`
    : `${label} needs you to sign in`;
  const data = { reason: scopeShort ? "insufficient-scope" : "sign-in", server: server.name };
  return errorMessage(id, RpcError.SIGN_IN_NEEDED, text, data);
}

/**
 * The access token to send to `url`, refreshed first when it has expired (or `force`: the server refused it).
 * @param {string} server
 * @param {string} url
 * @param {{force?: boolean}} [options]
 * @returns {Promise<{token?: string, refreshed: boolean, stepUps: number}>} stepUps: the scope refusals in a row so far
 */
async function usableToken(server, url, { force = false } = {}) {
  const record = await authRecord(server);
  if (!record || record.url !== url || !record.tokens?.access_token) return { refreshed: false, stepUps: 0 };
  const stepUps = record.stepUps ?? 0;
  if (!force && !tokenExpired(record)) return { token: record.tokens.access_token, refreshed: false, stepUps };
  const refreshed = await refresh(record);
  return refreshed ? { token: refreshed, refreshed: true, stepUps } : { refreshed: false, stepUps };
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
