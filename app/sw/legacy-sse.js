// The older HTTP+SSE transport (MCP 2024-11-05), routed as Streamable HTTP is: the page's client (the SDK's
// SSEClientTransport) talks to `/mcp/<name>` on our origin, and every request to the server goes through
// sendToServer (its configured headers, its token, directly or through the relay).
//   GET  /mcp/<name>                 opens the server's event stream and passes it on event by event. The `endpoint`
//                                    event, where the server says where messages are to be POSTed, is rewritten to
//                                    `/mcp/<name>?endpoint=<that URL, absolute>`, and refused unless that URL is on
//                                    the event stream's origin (before the stream is answered: an error response;
//                                    after: the stream ends in an error): a server must not direct our POSTs, with
//                                    its token and headers, anywhere else.
//   POST /mcp/<name>?endpoint=<URL>  forwards one message there, again only on the server's origin; the answer
//                                    (202) is passed back, and the server's reply comes on the stream.
// Since replies come on the stream, a request the router answers itself (offline, out of reach, a sign-in needed)
// gets its JSON-RPC error on the stream of its session, and its POST is accepted.
// Offline nothing is answered from the mirror and nothing is queued: a legacy session lives in its stream, which
// cannot outlast the network. The stream is the server's and hostile: events are parsed with bounds (sse-events.js).
// While a stream is open the service worker is busy, which delays the activation of a new version of the app.
import { errorMessage, RpcError } from "../common/protocol.js";
import { isUserServer, remoteOf, serverPath, SSE_PROBE_QUERY } from "../common/mirror.js";
import { RelayRefusal } from "../common/remote-fetch.js";
import { accepted, isRequest, jsonResponse } from "./mcp-http.js";
import { isGatewayError, sendToServer, signInRefusal } from "./remote.js";
import { formatEvent, SseParser, SseTooLarge } from "./sse-events.js";

/** @typedef {import("../common/mirror.js").MirroredServer} MirroredServer */
/** @typedef {import("./sse-events.js").SseEvent} SseEvent */
/** One request on its way through the router (router.js's RoutedCall). @typedef {{event: FetchEvent, server: MirroredServer, body: string | null, message: any}} LegacyCall */
/** Puts a JSON-RPC message on the stream of one session, for its client. @typedef {(message: any) => void} Deliver */

/** The query parameter of a POST that names the message endpoint it goes to. */
export const ENDPOINT_PARAM = "endpoint";
/** How long a server may take to name its message endpoint once its stream is open. */
export const ENDPOINT_WAIT_MS = 30_000;
/** A longer endpoint is refused: no server needs one, and the page puts it in a URL of its own. */
const MAX_ENDPOINT_CHARS = 8192;
/** Request headers of the page's POSTs a server needs to see (never its Authorization: sendToServer adds the token). */
const FORWARDED_HEADERS = ["content-type", "mcp-protocol-version"];

/** The streams this service worker relays, by server name and message endpoint: where their replies go. @type {Map<string, Deliver>} */
const openStreams = new Map();
/** @param {string} server @param {string} endpoint the absolute URL */
const streamKey = (server, endpoint) => `${server}\u0000${endpoint}`;

/** @param {MirroredServer} server */
const labelOf = (server) => server.server.title ?? server.name;

/** The server's stream cannot be passed on; `status` is the answer's while none has been sent. */
class StreamRefused extends Error {
  /** @param {string} message @param {number} [status] */
  constructor(message, status = 502) {
    super(message);
    this.status = status;
  }
}

/**
 * Whether a request to a remote server's router URL belongs to the HTTP+SSE transport: the server's remote is `sse`,
 * or the user added it as Streamable HTTP and the page is trying SSE on it (a GET with SSE_PROBE_QUERY, then POSTs to
 * the endpoint that stream named).
 * @param {MirroredServer} server
 * @param {URL} url the request's
 * @param {string} method
 */
export function speaksLegacySse(server, url, method) {
  const remote = remoteOf(server);
  if (!remote) return false;
  if (remote.type === "sse") return true;
  if (!isUserServer(server)) return false;
  return method === "POST" ? url.searchParams.has(ENDPOINT_PARAM) : method === "GET" && url.search === `?${SSE_PROBE_QUERY}`;
}

/**
 * Answer a request of the HTTP+SSE transport (speaksLegacySse), once the policy has allowed it.
 * @param {LegacyCall} call
 * @returns {Promise<Response>}
 */
export async function routeLegacySse(call) {
  const { request } = call.event;
  const sseUrl = /** @type {import("../common/mirror.js").Remote} */ (remoteOf(call.server)).url;
  if (request.method === "GET") return openStream(call, sseUrl);
  const endpoint = new URL(request.url).searchParams.get(ENDPOINT_PARAM);
  if (request.method === "POST" && endpoint !== null) return forwardMessage(call, sseUrl, endpoint);
  return new Response(null, { status: 405, headers: { Allow: "GET, POST" } });
}

/**
 * The JSON-RPC error for what cannot be done without the server.
 * @param {MirroredServer} server
 * @param {string | number | null} id
 * @param {string} what
 */
function needsNetwork(server, id, what) {
  const text = `${what} needs the network: ${labelOf(server)} cannot be reached, and Satchel neither answers nor queues calls to a server on the older HTTP+SSE transport`;
  return errorMessage(id, RpcError.NEEDS_NETWORK, text, { reason: "offline", queueable: false });
}

/**
 * GET: the server's event stream, passed on once it has named its message endpoint.
 * @param {LegacyCall} call
 * @param {string} sseUrl
 * @returns {Promise<Response>}
 */
async function openStream({ event, server }, sseUrl) {
  const { request } = event;
  const label = labelOf(server);
  if (!navigator.onLine) return jsonResponse(needsNetwork(server, null, `Connecting to ${label}`), 503);
  const headers = new Headers({ accept: "text/event-stream" });
  const lastEventId = request.headers.get("last-event-id");
  if (lastEventId !== null) headers.set("last-event-id", lastEventId);
  const upstream = new AbortController();
  request.signal?.addEventListener("abort", () => upstream.abort(), { once: true });
  let response;
  try {
    response = await sendToServer(server, sseUrl, { method: "GET", headers, signal: upstream.signal });
  } catch (error) {
    if (error instanceof RelayRefusal) {
      return jsonResponse(errorMessage(null, RpcError.RELAY_REFUSED, error.message, { reason: "relay", kind: error.kind }), 502);
    }
    return jsonResponse(needsNetwork(server, null, `Connecting to ${label}`), 503);
  }
  const refusal = signInRefusal(server, response, { id: null });
  const isEventStream = /^text\/event-stream\b/i.test(response.headers.get("content-type") ?? "");
  if (refusal || isGatewayError(response) || !response.ok || !isEventStream || !response.body) {
    await response.body?.cancel().catch(() => {});
    if (refusal) return jsonResponse(refusal, response.status);
    if (isGatewayError(response)) return jsonResponse(needsNetwork(server, null, `Connecting to ${label}`), 503);
    const why = response.ok ? "did not answer with an event stream" : `answered HTTP ${response.status}`;
    return jsonResponse(errorMessage(null, RpcError.INVALID_REQUEST, `${label} ${why} when asked for its event stream`), response.ok ? 502 : response.status);
  }
  const relay = new RelayedStream(server, sseUrl, response.body.pipeThrough(new TextDecoderStream()).getReader(), upstream);
  let first;
  try {
    first = await relay.untilEndpoint();
  } catch (error) {
    relay.end();
    const refused = error instanceof StreamRefused ? error : new StreamRefused(`${label}'s event stream broke off: ${error?.message ?? error}`, 503);
    return jsonResponse(errorMessage(null, RpcError.INVALID_REQUEST, refused.message), refused.status);
  }
  return relay.response(first);
}

/** One server's event stream on its way to the page: parsed, its endpoint rewritten, re-encoded event by event. */
class RelayedStream {
  #server;
  #sseUrl;
  #reader;
  #upstream;
  #parser = new SseParser();
  #encoder = new TextEncoder();
  /** Where this stream is registered in `openStreams`, once it named its endpoint. @type {string | null} */
  #key = null;
  /** @type {ReadableStreamDefaultController<Uint8Array> | null} null before the response is made and after the end */
  #controller = null;
  /** @type {Deliver} */
  #deliver = (message) => this.#controller?.enqueue(this.#encoder.encode(formatEvent({ type: "message", data: JSON.stringify(message) })));

  /**
   * @param {MirroredServer} server
   * @param {string} sseUrl
   * @param {ReadableStreamDefaultReader<string>} reader the server's stream, decoded
   * @param {AbortController} upstream aborts the request to the server
   */
  constructor(server, sseUrl, reader, upstream) {
    this.#server = server;
    this.#sseUrl = sseUrl;
    this.#reader = reader;
    this.#upstream = upstream;
  }

  /**
   * Read until the server names its message endpoint; what comes before is dropped (the server cannot address a
   * session it has not yet named).
   * @returns {Promise<string>} the text to send first: the rewritten endpoint event and any events after it
   * @throws {StreamRefused}
   */
  async untilEndpoint() {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.end();
    }, ENDPOINT_WAIT_MS);
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (done) throw new StreamRefused(`${labelOf(this.#server)} closed its event stream without naming its message endpoint`);
        const events = this.#parse(value);
        const at = events.findIndex((event) => event.type === "endpoint");
        if (at >= 0) return this.#relayed(events.slice(at));
      }
    } catch (error) {
      if (timedOut) throw new StreamRefused(`${labelOf(this.#server)} did not name its message endpoint within ${ENDPOINT_WAIT_MS / 1000} s`, 504);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The response that carries the stream to the page.
   * @param {string} first what untilEndpoint returned
   */
  response(first) {
    const stream = new ReadableStream({
      start: (controller) => {
        this.#controller = controller;
        controller.enqueue(this.#encoder.encode(first));
      },
      pull: (controller) => this.#pull(controller),
      cancel: () => this.end(),
    });
    return new Response(stream, { headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" } });
  }

  /** Stop: forget the session's stream, and close the request to the server. */
  end() {
    if (this.#key !== null && openStreams.get(this.#key) === this.#deliver) openStreams.delete(this.#key);
    this.#key = null;
    this.#controller = null;
    this.#upstream.abort();
    this.#reader.cancel().catch(() => {});
  }

  /**
   * Pass on at least one event, or the end of the stream (a pull that enqueues nothing would not be called again).
   * @param {ReadableStreamDefaultController<Uint8Array>} controller
   */
  async #pull(controller) {
    try {
      for (;;) {
        const { done, value } = await this.#reader.read();
        if (this.#controller === null) return; // ended meanwhile
        if (done) {
          this.end();
          controller.close();
          return;
        }
        const text = this.#relayed(this.#parse(value));
        if (text) {
          controller.enqueue(this.#encoder.encode(text));
          return;
        }
      }
    } catch (error) {
      this.end();
      controller.error(error);
    }
  }

  /** @param {string} text @returns {SseEvent[]} */
  #parse(text) {
    try {
      return this.#parser.push(text);
    } catch (error) {
      if (error instanceof SseTooLarge) throw new StreamRefused(`${labelOf(this.#server)} sent too much at once: ${error.message}`);
      throw error;
    }
  }

  /** The events as the page gets them: the endpoint rewritten, the rest as they were. @param {SseEvent[]} events */
  #relayed(events) {
    return events.map((event) => formatEvent(event.type === "endpoint" ? { ...event, data: this.#rewrite(event.data) } : event)).join("");
  }

  /**
   * The router URL that stands for the endpoint the server named; the stream is registered under it.
   * @param {string | null} data the endpoint event's
   * @throws {StreamRefused}
   */
  #rewrite(data) {
    const label = labelOf(this.#server);
    const origin = new URL(this.#sseUrl).origin;
    const trimmed = data?.trim() ?? "";
    if (!trimmed || trimmed.length > MAX_ENDPOINT_CHARS) throw new StreamRefused(`${label} named no usable message endpoint`);
    let target;
    try {
      target = new URL(trimmed, this.#sseUrl);
    } catch {
      throw new StreamRefused(`${label} named a message endpoint that is not a URL`);
    }
    if (target.origin !== origin) {
      throw new StreamRefused(
        `${label} directed its messages to ${target.origin}, not to the origin of its event stream (${origin}): Satchel sends them nowhere else`,
      );
    }
    target.hash = "";
    if (this.#key !== null) openStreams.delete(this.#key);
    this.#key = streamKey(this.#server.name, target.href);
    openStreams.set(this.#key, this.#deliver);
    return `${serverPath(this.#server.name)}?${ENDPOINT_PARAM}=${encodeURIComponent(target.href)}`;
  }
}

/**
 * POST: one message to the endpoint the server named, on its origin only.
 * @param {LegacyCall} call
 * @param {string} sseUrl
 * @param {string} endpoint the query's, hostile until checked
 * @returns {Promise<Response>}
 */
async function forwardMessage({ event, server, body, message }, sseUrl, endpoint) {
  const { request } = event;
  const id = message && isRequest(message) ? message.id : null;
  const origin = new URL(sseUrl).origin;
  const target = URL.canParse(endpoint) ? new URL(endpoint) : null;
  if (!target || target.origin !== origin) {
    const elsewhere = target ? target.origin : "an address that is not a URL";
    const text = `${labelOf(server)} is sent messages only at its own origin (${origin}), not at ${elsewhere}`;
    return jsonResponse(errorMessage(id, RpcError.INVALID_REQUEST, text), 403);
  }
  // The client waits for its answer on the stream of its session: an error the router answers itself goes there.
  const deliver = id === null ? undefined : openStreams.get(streamKey(server.name, target.href));
  /** @param {any} error a JSON-RPC error @param {number} status the POST's, when the stream is not this worker's */
  const answer = (error, status) => {
    if (!deliver) return jsonResponse(error, status);
    deliver(error);
    return accepted();
  };
  const what = message.method === "tools/call" && typeof message.params?.name === "string" ? message.params.name : String(message.method);
  if (!navigator.onLine) return answer(needsNetwork(server, id, what), 503);
  const headers = new Headers();
  for (const name of FORWARDED_HEADERS) {
    const value = request.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const upstream = new AbortController();
  request.signal?.addEventListener("abort", () => upstream.abort(), { once: true });
  let response;
  try {
    response = await sendToServer(server, target.href, { method: "POST", headers, body, signal: upstream.signal }, { authUrl: sseUrl });
  } catch (error) {
    if (error instanceof RelayRefusal) {
      return answer(errorMessage(id, RpcError.RELAY_REFUSED, error.message, { reason: "relay", kind: error.kind }), 502);
    }
    return answer(needsNetwork(server, id, what), 503);
  }
  const refusal = id === null ? null : signInRefusal(server, response, message);
  if (refusal || isGatewayError(response)) {
    await response.body?.cancel().catch(() => {});
    return refusal ? answer(refusal, response.status) : answer(needsNetwork(server, id, what), 503);
  }
  return response;
}
