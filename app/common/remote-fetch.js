// How the app reaches another origin: directly when the server allows it by CORS, else through the same-origin
// relay that `satchel serve` (satchel/relay.py) or a kiosk bundle's web server (satchel/bundle/relay_proxy.py)
// offers, and which way worked for each origin, so the next request takes it at once and the server's details can
// say which path is used and why. The service worker (forwarding MCP requests, sending queued calls) and the page
// (OAuth discovery and token requests) both fetch through here.
//
// A failed direct fetch says nothing about why (a TypeError for "offline" and for "no CORS" alike), so the relay is
// tried next: if it cannot be reached either, the network is down; if it reaches the server, the server refuses
// cross-origin requests; if it refuses (an address the operator did not allow, a body over its limit), that refusal
// is the answer, with the relay's reason.
//
// Both relays take one form, built here only: `/relay/<scheme>/<host[:port]>/<path>?<query>`, the target's scheme,
// host and port as its origin writes them and its path and query as they are (still percent-encoded), so
// `https://mcp.example/a%2Fb?x=1` goes to `/relay/https/mcp.example/a%2Fb?x=1`.
import { getMeta, setMeta } from "./mirror.js";

/** The relay's path prefix; the rest of a relay URL names the target (see relayUrl below). */
export const RELAY_PATH = "/relay";
/** Header the relay requires: a custom header makes other origins' requests preflighted, which the relay refuses. */
export const RELAY_HEADER = "X-Satchel-Relay";
/** Header on the relay's own error answers (as opposed to the upstream server's), naming the kind of failure. */
export const RELAY_ERROR_HEADER = "X-Satchel-Relay-Error";
/** Relay failures that mean "the server cannot be reached now": try again later, like a network failure. */
const RELAY_UNREACHABLE = new Set(["unreachable", "timeout"]);
/** Longest relay error text kept (it is shown to the user). */
const MAX_REASON_CHARS = 300;

/** @typedef {{path: "direct" | "relay", reason: string, checkedAt: number}} Reach */

/** A request the relay (or the lack of one) refused: the server is reachable in principle, not this way. */
export class RelayRefusal extends Error {
  /** @param {string} message @param {string} kind */
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}

/** @type {Map<string, Reach>} what this context learned, ahead of IndexedDB */
const known = new Map();
const metaKey = (/** @type {string} */ origin) => `reach:${origin}`;

/**
 * How an origin was last reached, or undefined before the first request to it.
 * @param {string} origin
 * @returns {Promise<Reach | undefined>}
 */
export async function reachOf(origin) {
  return known.get(origin) ?? (await getMeta(metaKey(origin)));
}

/** @param {string} origin @param {Reach["path"]} path @param {string} reason */
async function remember(origin, path, reason) {
  if (known.get(origin)?.path === path) return;
  const reach = { path, reason, checkedAt: Date.now() };
  known.set(origin, reach);
  await setMeta(metaKey(origin), reach).catch(() => {}); // losing the note only costs one extra try next time
}

/**
 * fetch() for a URL of any origin, by whichever path works.
 * @param {string | URL} url
 * @param {RequestInit} [init] a string body only (it may be sent twice)
 * @returns {Promise<Response>}
 */
export async function fetchRemote(url, init = {}) {
  const target = new URL(url, self.location.origin);
  if (target.origin === self.location.origin) return fetch(target, init);
  const { origin } = target;
  if ((await reachOf(origin))?.path === "relay") return viaRelay(target, init);
  let response;
  try {
    response = await fetch(target, { ...init, mode: "cors", credentials: "omit", cache: "no-store" });
  } catch (directFailure) {
    if (init.signal?.aborted) throw directFailure;
    response = await viaRelay(target, init);
    await remember(origin, "relay", `${origin} does not allow requests from other origins (CORS), so Satchel's server relays them`);
    return response;
  }
  await remember(origin, "direct", `${origin} allows requests from this app (CORS), so the browser talks to it directly`);
  return response;
}

/**
 * The same-origin URL through which the relay reaches `target`.
 * @param {URL} target an http(s) URL
 * @returns {string}
 */
function relayUrl(target) {
  const scheme = target.protocol.slice(0, -1);
  return `${RELAY_PATH}/${scheme}/${target.host}${target.pathname}${target.search}`;
}

/**
 * @param {URL} target
 * @param {RequestInit} init
 * @returns {Promise<Response>}
 */
async function viaRelay(target, init) {
  const headers = new Headers(init.headers);
  headers.set(RELAY_HEADER, "1");
  // A TypeError here means our own origin is out of reach: the network is down.
  const response = await fetch(relayUrl(target), { ...init, headers, credentials: "same-origin", cache: "no-store" });
  const failure = response.headers.get(RELAY_ERROR_HEADER);
  if (failure === null && response.status === 404 && !response.headers.has("X-Satchel-Relay-Target")) {
    throw new RelayRefusal(
      `${target.origin} does not allow requests from other origins (CORS), and the site Satchel is served from offers no relay`,
      "no-relay",
    );
  }
  if (failure === null) return response;
  const reason = (await relayReason(response)) || `the relay answered ${response.status}`;
  if (RELAY_UNREACHABLE.has(failure)) throw new TypeError(`${target.origin} cannot be reached: ${reason}`);
  throw new RelayRefusal(`${target.origin} cannot be reached through Satchel's relay: ${reason}`, failure);
}

/** The relay's own explanation (`{"error": "..."}`), bounded. @param {Response} response */
async function relayReason(response) {
  try {
    const body = await response.json();
    return typeof body?.error === "string" ? body.error.slice(0, MAX_REASON_CHARS) : "";
  } catch {
    return "";
  }
}
