// The router: the one place that decides where an MCP call runs. Every MCP client of the page talks to
// `/mcp/<server name>` on our own origin; this module answers those URLs:
//   local server            → the page bridge to the Web Worker hosting it;
//   remote server, online   → forwarded to its Streamable HTTP endpoint (sw/remote.js adds its headers and token,
//                             directly or through the relay); a 401 or a lack of scope becomes an error that asks
//                             the page to sign in;
//   remote server, offline  → answered from the mirror (handshake, tools/list); a tools/call is queued if the tool
//                             is safe to replay, otherwise refused with an error that says it needs the network.
//                             Either protocol era: `server/discover` (2026-07-28) is answered with the server's
//                             own remembered discover result, or refused when it was last seen speaking 2025-11-25,
//                             which the SDK client takes as its cue to fall back to the `initialize` answer;
//   remote server on the older HTTP+SSE transport → its event stream and message endpoint relayed (sw/legacy-sse.js),
//                             online only: offline it needs the network, and nothing is queued.
// Before any of that, a managed policy is applied: a server or tool it does not allow is refused here, whatever
// the page asks for; so is a server the user added and then disabled.
// The router never opens the standalone GET event stream of a Streamable HTTP server (it answers 405, which the MCP
// client accepts): a stream the service worker relays keeps it busy, and the browser will not activate a new version
// of the app while the old service worker is busy. Servers still stream progress inside the answer to each request.
// An HTTP+SSE server cannot work without its stream, so that one is relayed, and keeps the service worker busy (an
// update waits) for as long as the page holds a client to it; the page drops its clients whenever the network comes
// or goes, and a client whose stream broke off is closed rather than left to reconnect.
import { findTool, getServer, getTools, localConfig, remoteUrl, serverNameFromPath } from "../common/mirror.js";
import { IDEMPOTENCY_KEY, OFFLINE_KEY, QUEUED_KEY } from "../common/mcp-client.js";
import { policyRefusal, toolDenied } from "../common/policy.js";
import { changesIdempotently } from "../common/tool-annotations.js";
import { disabledRefusal, userEndpoint } from "../common/user-servers.js";
import { errorMessage, HANDSHAKE_VERSIONS, MODERN_VERSIONS, PROTOCOL_VERSION_META_KEY, RpcError } from "../common/protocol.js";
import { RelayRefusal } from "../common/remote-fetch.js";
import { callLocalServer } from "./local-bridge.js";
import { accepted, isRequest, jsonResponse, sseResponse } from "./mcp-http.js";
import { enqueue, SYNC_TAG } from "./queue.js";
import { routeLegacySse, speaksLegacySse } from "./legacy-sse.js";
import { isGatewayError, sendToServer, signInRefusal } from "./remote.js";

// The router runs in the service worker.
const serviceWorker = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/** @typedef {import("../common/mirror.js").MirroredServer} MirroredServer */
/** @typedef {import("../common/policy.js").Policy} Policy */
/** @typedef {{error?: Response, message?: any}} ParsedBody the JSON-RPC message of a request, or the answer to it */
/** @typedef {{policy: () => Promise<Policy | null>, onQueued: (tool: string) => void}} RouterHooks */
/**
 * One MCP request on its way through the router.
 * @typedef {{event: FetchEvent, server: MirroredServer, body: string | null, message: any, policy: Policy | null}}
 *   RoutedCall
 */

/** Protocol versions this router can answer a handshake in while a remote server is out of reach, newest first. */
const OFFLINE_PROTOCOL_VERSIONS = [...HANDSHAKE_VERSIONS].reverse();
/** Request headers a remote MCP server needs to see. */
// Never the page's Authorization: the service worker adds the token of exactly this server (sw/remote.js).
const FORWARDED_HEADERS = ["accept", "content-type", "last-event-id", "mcp-protocol-version", "mcp-session-id", "mcp-method", "mcp-name"];

/**
 * The response for an MCP request, or null when the URL is not the router's.
 * @param {FetchEvent} event
 * @param {RouterHooks} hooks the managed policy (null when
 *   unmanaged; rejects when a managed build's policy is broken) and what to do after a call was queued
 * @returns {Promise<Response> | null}
 */
export function routeMcp(event, hooks) {
  const url = new URL(event.request.url);
  if (url.origin !== serviceWorker.location.origin) return null;
  const name = serverNameFromPath(url.pathname);
  return name === null ? null : route(event, name, hooks);
}

/**
 * @param {FetchEvent} event
 * @param {string} name the server named by the URL
 * @param {RouterHooks} hooks
 * @returns {Promise<Response>}
 */
async function route(event, name, { policy: currentPolicy, onQueued }) {
  const { request } = event;
  const body = request.method === "POST" ? await request.text() : null;
  /** @type {ParsedBody} */
  const parsed = body === null ? {} : parseMessage(body);
  if (parsed.error) return parsed.error;
  const { message } = parsed;
  /** @param {string} text @param {number} status */
  const refuse = (text, status) =>
    message && isRequest(message)
      ? jsonResponse(errorMessage(message.id, RpcError.DENIED_BY_POLICY, text))
      : jsonResponse(errorMessage(null, RpcError.DENIED_BY_POLICY, text), status);

  let policy;
  try {
    policy = await currentPolicy();
  } catch (error) {
    const reason = /** @type {Error} */ (error).message;
    return refuse(`Satchel is managed by your organisation, but its policy cannot be used: ${reason}`, 503);
  }
  const server = await getServer(name);
  if (!server) {
    return jsonResponse(errorMessage(null, RpcError.INVALID_REQUEST, `no MCP server named ${name} in the registry`), 404);
  }
  const local = localConfig(server);
  const tool = message?.method === "tools/call" ? message.params?.name : undefined;
  // A server the user added obeys the policy's rules for those (allowed at all, at an allowed origin), checked on
  // every call since the policy may have changed since it was added; and one the user turned off is not reachable.
  const refusal = policyRefusal(policy, name, { remote: !local, tool, userUrl: userEndpoint(server) }) ?? disabledRefusal(server);
  if (refusal) return refuse(refusal, 403);
  const call = { event, server, body, message, policy };
  if (local) return routeLocal(call, local);
  return speaksLegacySse(server, new URL(request.url), request.method) ? routeLegacySse(call) : routeRemote(call, onQueued);
}

/**
 * The single JSON-RPC message of a POST body, or the error response to send instead.
 * @param {string} text
 * @returns {ParsedBody}
 */
function parseMessage(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return { error: jsonResponse(errorMessage(null, RpcError.PARSE, "the request body is not valid JSON"), 400) };
  }
  if (Array.isArray(message)) {
    return { error: jsonResponse(errorMessage(null, RpcError.INVALID_REQUEST, "JSON-RPC batches are not supported"), 400) };
  }
  if (message === null || typeof message !== "object" || message.jsonrpc !== "2.0") {
    return { error: jsonResponse(errorMessage(null, RpcError.INVALID_REQUEST, "not a JSON-RPC 2.0 message"), 400) };
  }
  return { message };
}

/**
 * @param {RoutedCall} call
 * @param {any} config the server's `io.satchel/local` registry metadata
 * @returns {Promise<Response>}
 */
async function routeLocal({ event, server, message }, config) {
  const { request } = event;
  if (request.method === "DELETE") return new Response(null, { status: 200 }); // stateless: no session to end
  if (request.method !== "POST") return new Response(null, { status: 405, headers: { Allow: "POST, DELETE" } });
  const abandoned = new AbortController();
  request.signal?.addEventListener("abort", () => abandoned.abort(), { once: true });
  const messages = callLocalServer(event.clientId, server.name, config, message, abandoned.signal);
  if (!isRequest(message)) {
    // Delivered without holding the event open: a slow worker (Pyodide still loading) must not keep the service
    // worker busy, since a busy service worker delays the activation of a new version.
    (async () => { for await (const _ of messages); })();
    return accepted();
  }
  cancelWhenAbandoned(event.clientId, server.name, config, message.id, abandoned.signal);
  // Progress can only reach the client on a stream; without a progress token the answer is one JSON body, which
  // never leaves a half-read stream holding the service worker awake.
  if (message.params?._meta?.progressToken === undefined) {
    let answer = null;
    for await (const reply of messages) if (reply?.id === message.id) answer = reply;
    return jsonResponse(answer ?? errorMessage(message.id, RpcError.INTERNAL, `${server.name} gave no answer`));
  }
  return sseResponse(messages, message.id, () => abandoned.abort());
}

/**
 * Tell a local server that a call was cancelled when its caller goes away: a 2026-07-28 client cancels by closing the
 * call's stream instead of sending notifications/cancelled, so the router says it for the client. A server that has
 * answered already ignores it.
 * @param {string} clientId
 * @param {string} serverName
 * @param {any} config the server's `io.satchel/local` registry metadata
 * @param {string | number} requestId
 * @param {AbortSignal} abandoned aborts when the caller goes away
 */
function cancelWhenAbandoned(clientId, serverName, config, requestId, abandoned) {
  abandoned.addEventListener("abort", () => {
    const notice = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId, reason: "the client went away" } };
    const replies = callLocalServer(clientId, serverName, config, notice, new AbortController().signal);
    (async () => { for await (const _ of replies); })();
  }, { once: true });
}

/**
 * @param {RoutedCall} call
 * @param {(tool: string) => void} onQueued
 * @returns {Promise<Response>}
 */
async function routeRemote({ event, server, body, message, policy }, onQueued) {
  const { request } = event;
  const target = remoteUrl(server);
  if (!target) {
    return jsonResponse(errorMessage(null, RpcError.INVALID_REQUEST, `${server.name} has no streamable-http or sse endpoint`), 502);
  }
  // A GET with Last-Event-ID resumes the stream of a request whose answer has not come yet (SSE polling): it ends
  // with that answer, so it is relayed; a bare GET would open the standalone stream, which is not.
  const resuming = request.method === "GET" && request.headers.has("last-event-id");
  if (request.method === "GET" && !resuming) return new Response(null, { status: 405, headers: { Allow: "POST, DELETE" } });
  if (navigator.onLine) {
    const headers = new Headers();
    for (const name of FORWARDED_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    const abandoned = new AbortController();
    request.signal?.addEventListener("abort", () => abandoned.abort(), { once: true });
    try {
      const response = await sendToServer(server, target, { method: request.method, headers, body, signal: abandoned.signal });
      // A proxy in front of the server (a kiosk's nginx) answers for it when it is down: that is out of reach too.
      if (!isGatewayError(response)) return answerFrom(server, message, response);
    } catch (error) {
      if (error instanceof RelayRefusal) {
        const refusal = errorMessage(message?.id ?? null, RpcError.RELAY_REFUSED, error.message, { reason: "relay", kind: error.kind });
        return jsonResponse(refusal, message && isRequest(message) ? 200 : 502);
      }
      // Unreachable: answer as if offline, below.
    }
  }
  if (request.method !== "POST") return new Response(null, { status: 200 }); // DELETE: no session to end offline
  if (!isRequest(message)) return accepted();
  return jsonResponse(inRequestEra(message, await answerOffline(server, target, message, { onQueued, policy })));
}

/**
 * An answer in the era of the request it answers: a 2026-07-28 result says that it is complete (`resultType`), and a
 * list says how long it may be cached (not at all: the mirror's copy promises nothing), where a 2025-era one says
 * neither.
 * @param {any} message the JSON-RPC request
 * @param {any} answer its JSON-RPC response
 * @returns {any}
 */
function inRequestEra(message, answer) {
  const modern = MODERN_VERSIONS.includes(message.params?._meta?.[PROTOCOL_VERSION_META_KEY]);
  if (!modern || !answer.result || message.method === "server/discover") return answer;
  const cache = message.method === "tools/list" ? { ttlMs: 0, cacheScope: "private" } : {};
  return { ...answer, result: { resultType: "complete", ...cache, ...answer.result } };
}

/**
 * The server's answer as the page's client should see it: a request it refused for want of a sign-in (401) or of
 * scope (403 insufficient_scope) becomes a JSON-RPC error the page turns into a "Sign in" button.
 * @param {MirroredServer} server
 * @param {any} message
 * @param {Response} response
 * @returns {Promise<Response>}
 */
async function answerFrom(server, message, response) {
  const refusal = message && isRequest(message) ? signInRefusal(server, response, message) : null;
  if (!refusal) return response;
  await response.body?.cancel();
  return jsonResponse(refusal);
}

/**
 * What the router says for a remote server it cannot reach.
 * @param {MirroredServer} server
 * @param {string} target the server's Streamable HTTP endpoint
 * @param {any} message a JSON-RPC request
 * @param {{onQueued: (tool: string) => void, policy: Policy | null}} context
 * @returns {Promise<object>} the JSON-RPC response
 */
async function answerOffline(server, target, message, { onQueued, policy }) {
  const { id, method, params = {} } = message;
  const label = server.server.title ?? server.name;
  /** @param {string} what */
  const needsNetwork = (what) =>
    errorMessage(id, RpcError.NEEDS_NETWORK, `${what} needs the network: ${label} cannot be reached`, { reason: "offline" });
  switch (method) {
    case "initialize": {
      const asked = params.protocolVersion;
      return {
        jsonrpc: "2.0",
        id,
        result: {
          protocolVersion: OFFLINE_PROTOCOL_VERSIONS.includes(asked) ? asked : OFFLINE_PROTOCOL_VERSIONS[0],
          capabilities: { tools: {} },
          serverInfo: { name: server.name, version: server.server.version ?? "0" },
          instructions: `${label} is out of reach; Satchel answers from its offline mirror and queues safe calls.`,
          _meta: { [OFFLINE_KEY]: true },
        },
      };
    }
    case "server/discover": {
      // A 2026-07-28 server's own discover result keeps its client in that era; any error is a 2025-era signal to
      // the SDK client (only -32022 with modern versions is not), so it falls back to `initialize`, answered above.
      const discover = (await getTools(server.name))?.discover;
      if (!discover) return needsNetwork("server/discover");
      return { jsonrpc: "2.0", id, result: { ...discover, _meta: { ...discover._meta, [OFFLINE_KEY]: true } } };
    }
    case "ping":
      return { jsonrpc: "2.0", id, result: {} };
    case "tools/list": {
      const record = await getTools(server.name);
      if (!record) return needsNetwork(`listing the tools of ${label} for the first time`);
      const tools = record.tools.filter((/** @type {{name: string}} */ tool) => !toolDenied(policy, server.name, tool.name));
      return { jsonrpc: "2.0", id, result: { tools, _meta: { [OFFLINE_KEY]: true } } };
    }
    case "tools/call": {
      const tool = await findTool(server.name, params.name);
      if (!tool) return errorMessage(id, RpcError.INVALID_PARAMS, `unknown tool ${params.name} on ${label}`);
      if (!isQueueable(server, tool)) {
        return errorMessage(
          id,
          RpcError.NEEDS_NETWORK,
          `${tool.name} needs the network: ${label} cannot be reached, and the call is not safe to send later`,
          { reason: "offline", queueable: false },
        );
      }
      const key = params._meta?.[IDEMPOTENCY_KEY] ?? crypto.randomUUID();
      const entry = await enqueue({ server: server.name, url: target, tool: tool.name, arguments: params.arguments ?? {}, key });
      await serviceWorker.registration.sync?.register(SYNC_TAG).catch(() => {}); // replay when the network is back
      onQueued(tool.name);
      return {
        jsonrpc: "2.0",
        id,
        result: {
          content: [{ type: "text", text: `Queued: ${tool.name} will be sent to ${label} when the network is back.` }],
          _meta: { [QUEUED_KEY]: { seq: entry.seq, key, queuedAt: new Date(entry.createdAt).toISOString() } },
        },
      };
    }
    default:
      return needsNetwork(method);
  }
}

/**
 * Safe to replay later: the server says the tool is idempotent and it changes something (a read-only call is
 * useless later), or the registry entry lists it as queueable.
 * @param {MirroredServer} server
 * @param {{name: string, annotations?: {idempotentHint?: boolean, readOnlyHint?: boolean}}} tool
 * @returns {boolean}
 */
function isQueueable(server, tool) {
  if (changesIdempotently(tool)) return true;
  const listed = server.server._meta?.["io.satchel/queueable"];
  return Array.isArray(listed) && listed.includes(tool.name);
}
