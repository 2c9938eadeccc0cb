// Sign-in to remote MCP servers (MCP authorization, 2025-11-25): what is stored for each server, and the OAuth client
// provider the TypeScript SDK's `auth()` drives (discovery by RFC 9728 / RFC 8414 / OpenID, client identity by a
// Client ID Metadata Document, dynamic registration or pre-registered credentials, PKCE S256, `resource`, refresh).
//
// Everything lives in IndexedDB's `auth` store, one record per server, so the page (which signs in: a person has to
// see the authorization server) and the service worker (which sends requests and refreshes tokens, also for queued
// calls while no page is open) share it. A token is bound to the URL of the server it was issued for: it is only
// ever attached to requests to exactly that URL (and, for an HTTP+SSE server, to the message endpoint it names on
// that URL's origin: sw/legacy-sse.js), and it is never logged or shown.
import { getOne, transact, result } from "./db.js";
import { fetchRemote } from "./remote-fetch.js";

/** @typedef {import("@modelcontextprotocol/client").OAuthClientProvider} OAuthClientProvider */

/** Where the authorization server sends the browser back (app/oauth/callback.html). */
export const CALLBACK_PATH = "/oauth/callback.html";
/** Satchel's Client ID Metadata Document, served by `satchel serve` (its URL is the client_id). */
export const CLIENT_METADATA_PATH = "/oauth/client-metadata.json";
/** Seconds before expiry at which a token is refreshed rather than sent. */
const EXPIRY_MARGIN_S = 30;
/** How many times in a row one server may ask for more scope before Satchel stops asking the user. */
export const MAX_STEP_UPS = 2;

/**
 * What a server's last 401/403 said (RFC 6750 `WWW-Authenticate: Bearer ...`).
 * @typedef {{resourceMetadataUrl?: string, scope?: string, error?: string, detail?: string, status: number, at: number}}
 *   Challenge
 */
/**
 * @typedef {{server: string, url: string, tokens?: any, obtainedAt?: number, clientInformation?: any,
 *   preRegistered?: boolean, discovery?: any, codeVerifier?: string, pending?: {state: string, startedAt: number,
 *   scope?: string, mode?: "popup" | "redirect"}, challenge?: Challenge, stepUps?: number, signedOutAt?: number}} AuthRecord
 */

/** @param {string} server @returns {Promise<AuthRecord | undefined>} */
export const authRecord = (server) => getOne("auth", server);

/**
 * Change a server's record in one transaction.
 * @param {string} server
 * @param {string} url the server's endpoint (a record for another URL is started afresh: nothing carries over)
 * @param {(record: AuthRecord) => AuthRecord | void} change
 * @returns {Promise<AuthRecord>}
 */
export function updateAuth(server, url, change) {
  return transact("auth", "readwrite", async (tx) => {
    const store = tx.objectStore("auth");
    /** @type {AuthRecord | undefined} */
    const stored = await result(store.get(server));
    /** @type {AuthRecord} */
    const record = stored && stored.url === url ? stored : { server, url };
    /** @type {AuthRecord} */
    const updated = change(record) || record;
    store.put(updated);
    return updated;
  });
}

/**
 * Where a server stands: "signed-in" (a token, possibly to be refreshed), "needed" (it asked and there is no
 * usable token), "signed-out" (the user signed out, and it has not asked since), "none" (it never asked).
 * @param {AuthRecord | undefined} record
 * @param {string} url
 * @returns {"signed-in" | "needed" | "signed-out" | "none"}
 */
export function signInState(record, url) {
  if (!record || record.url !== url) return "none";
  if (record.tokens?.access_token && !record.challenge) return "signed-in";
  if (record.challenge) return "needed";
  return record.signedOutAt ? "signed-out" : "none";
}

/** Whether a stored token is past (or within a margin of) its expiry. @param {AuthRecord} record */
export function tokenExpired(record) {
  const lifetime = Number(record.tokens?.expires_in);
  if (!record.obtainedAt || !Number.isFinite(lifetime) || lifetime <= 0) return false;
  return Date.now() >= record.obtainedAt + (lifetime - EXPIRY_MARGIN_S) * 1000;
}

/**
 * The parameters of a `WWW-Authenticate: Bearer` challenge (quoted or token values).
 * @param {string | null} header
 * @returns {{resourceMetadataUrl?: string, scope?: string, error?: string}}
 */
export function parseChallenge(header) {
  if (!header || !/^\s*bearer\b/i.test(header)) return {};
  /** @type {Record<string, string>} */
  const params = {};
  for (const match of header.matchAll(/([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[match[1].toLowerCase()] = match[2] !== undefined ? match[2].replace(/\\(.)/g, "$1") : match[3];
  }
  return { resourceMetadataUrl: params.resource_metadata, scope: params.scope, error: params.error };
}

/**
 * Note a 401, or a 403 asking for more scope: the server wants a (new) sign-in.
 * @param {string} server
 * @param {string} url
 * @param {Response} response
 */
export function recordChallenge(server, url, response) {
  const challenge = { ...parseChallenge(response.headers.get("WWW-Authenticate")), status: response.status, at: Date.now() };
  return updateAuth(server, url, (record) => {
    // A token that is refused outright is useless; one short of scope still works for what it covers, so it is
    // kept until the new sign-in replaces it.
    if (response.status === 401) record.tokens = undefined;
    // The scope asked for grows: a step-up keeps what the earlier sign-in had, so the new token covers both.
    const earlier = record.challenge?.scope ?? record.tokens?.scope;
    if (response.status === 403 && challenge.scope && earlier) challenge.scope = mergeScopes(earlier, challenge.scope);
    record.challenge = challenge;
    if (response.status === 403) record.stepUps = (record.stepUps ?? 0) + 1;
  });
}

/** @param {string} a @param {string} b */
const mergeScopes = (a, b) => [...new Set(`${a} ${b}`.split(/\s+/).filter(Boolean))].join(" ");

/** Forget the tokens (sign out); the client registration is kept. @param {string} server @param {string} url */
export const signOut = (server, url) =>
  updateAuth(server, url, (record) => {
    record.tokens = undefined;
    record.pending = undefined;
    record.challenge = undefined;
    record.signedOutAt = Date.now();
  });

/** The record waiting for the authorization response with this `state`. @param {string} state */
export const recordForState = (state) =>
  transact("auth", "readonly", (tx) => result(tx.objectStore("auth").index("state").get(state)));

/**
 * The OAuth client provider the SDK drives for one server; its storage is the server's `auth` record.
 * `onRedirect` is what to do with the authorization URL: the page opens it; the service worker cannot, so it only
 * leaves the record saying that a sign-in is needed.
 * @implements {OAuthClientProvider}
 */
export class StoredOAuthProvider {
  /**
   * @param {string} server
   * @param {string} url the server's MCP endpoint
   * @param {{onRedirect: (authorizationUrl: URL) => void | Promise<void>, clientMetadataUrl?: string}} options
   */
  constructor(server, url, { onRedirect, clientMetadataUrl }) {
    this.server = server;
    this.url = url;
    this.onRedirect = onRedirect;
    /** Only an https URL can be a client_id (the SDK checks too); otherwise Satchel registers itself. */
    this.clientMetadataUrl = clientMetadataUrl?.startsWith("https://") ? clientMetadataUrl : undefined;
  }

  get redirectUrl() {
    return new URL(CALLBACK_PATH, self.location.origin).href;
  }

  get clientMetadata() {
    return clientMetadata(self.location.origin);
  }

  /** @param {(record: AuthRecord) => AuthRecord | void} change */
  #update(change) {
    return updateAuth(this.server, this.url, change);
  }

  async #record() {
    const record = await authRecord(this.server);
    return record?.url === this.url ? record : undefined;
  }

  async state() {
    const state = crypto.randomUUID();
    await this.#update((record) => {
      record.pending = { state, startedAt: Date.now(), scope: record.challenge?.scope };
    });
    return state;
  }

  async clientInformation() {
    return (await this.#record())?.clientInformation;
  }

  /** @param {any} information */
  async saveClientInformation(information) {
    await this.#update((record) => {
      record.clientInformation = information;
    });
  }

  async tokens() {
    return (await this.#record())?.tokens;
  }

  /** @param {any} tokens */
  async saveTokens(tokens) {
    await this.#update((record) => {
      record.tokens = tokens;
      record.obtainedAt = Date.now();
      record.challenge = undefined;
      record.pending = undefined;
    });
  }

  /** @param {URL} authorizationUrl */
  async redirectToAuthorization(authorizationUrl) {
    await this.onRedirect(authorizationUrl);
  }

  /** @param {string} codeVerifier */
  async saveCodeVerifier(codeVerifier) {
    await this.#update((record) => {
      record.codeVerifier = codeVerifier;
    });
  }

  async codeVerifier() {
    const verifier = (await this.#record())?.codeVerifier;
    if (!verifier) throw new Error("no sign-in is in progress for this server (the PKCE verifier is missing)");
    return verifier;
  }

  /** @param {any} discovery */
  async saveDiscoveryState(discovery) {
    await this.#update((record) => {
      record.discovery = discovery;
    });
  }

  async discoveryState() {
    return (await this.#record())?.discovery;
  }

  /** @param {"all" | "client" | "tokens" | "verifier" | "discovery"} scope */
  async invalidateCredentials(scope) {
    await this.#update((record) => {
      // Credentials the user typed in are theirs to change; the server saying they are invalid does not erase them.
      if ((scope === "all" || scope === "client") && !record.preRegistered) record.clientInformation = undefined;
      if (scope === "all" || scope === "tokens") record.tokens = undefined;
      if (scope === "all" || scope === "verifier") record.codeVerifier = undefined;
      if (scope === "all" || scope === "discovery") record.discovery = undefined;
    });
  }
}

/**
 * Satchel's OAuth client metadata (RFC 7591 fields; also the body of its Client ID Metadata Document).
 * @param {string} origin
 */
export function clientMetadata(origin) {
  return {
    client_name: "Satchel",
    client_uri: origin,
    redirect_uris: [new URL(CALLBACK_PATH, origin).href],
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    token_endpoint_auth_method: "none",
  };
}

/**
 * The URL of the Client ID Metadata Document this site publishes, if any: `satchel serve` serves it (with the
 * client_id an operator may set to where the document is published behind a TLS proxy); a static host does not.
 * @returns {Promise<string | undefined>}
 */
export async function publishedClientId() {
  try {
    const response = await fetch(CLIENT_METADATA_PATH, { cache: "no-store" });
    if (!response.ok) return undefined;
    const document = await response.json();
    return typeof document?.client_id === "string" ? document.client_id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * fetch() for OAuth requests (discovery, registration, token): directly or through the relay, never with cookies.
 * @type {(url: string | URL, init?: RequestInit) => Promise<Response>}
 */
export const oauthFetch = (url, init) => fetchRemote(url, init);
