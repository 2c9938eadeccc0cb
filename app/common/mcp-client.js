// Creates MCP clients the one way the app needs them: the official SDK client, with a JSON Schema validator that
// works under our CSP, identifying itself as Satchel; over Streamable HTTP, or over the older HTTP+SSE transport
// (2024-11-05) for a server that speaks only that (the service-worker router relays both: sw/legacy-sse.js). Over
// Streamable HTTP a client negotiates the protocol era with each server: it probes with `server/discover`
// (2026-07-28, stateless) and falls back to `initialize` (2025-11-25 and before, with a session); the verdict is
// remembered per server and passed back on the next connect.
import {
  CfWorkerJsonSchemaValidator,
  Client,
  ProtocolError,
  SdkHttpError,
  specTypeSchemas,
  SSEClientTransport,
  SseError,
  StreamableHTTPClientTransport,
} from "../vendor/mcp-sdk.js";

export const CLIENT_INFO = { name: "satchel", version: "0.1.0" };
/** `_meta` key carrying the idempotency key of a call that may be replayed (the workspace server dedupes on it). */
export const IDEMPOTENCY_KEY = "io.satchel/idempotency-key";
/** `_meta` key of a result that says the call was queued, not run. */
export const QUEUED_KEY = "io.satchel/queued";
/** `_meta` key of a result the service-worker router gave from the mirror, in the stead of an unreachable server. */
export const OFFLINE_KEY = "io.satchel/offline";
/**
 * How long a remembered "legacy" verdict is trusted: a server upgraded to 2026-07-28 still answers `initialize`, so
 * a legacy verdict never fails by itself; past this age the client probes again. (A stale "modern" verdict fails
 * loudly at the first request, and the next connect probes afresh.)
 */
export const LEGACY_VERDICT_MAX_AGE_MS = 24 * 3600_000;

/** @typedef {import("../vendor/mcp-sdk.js").Client} McpClient */
/**
 * What a connection negotiated: the era ("modern": 2026-07-28 and later, `server/discover`, no session; "legacy":
 * the `initialize` handshake), the version, and for a modern server its `server/discover` result, which lets the
 * next connect skip the probe.
 * @typedef {{era: "modern" | "legacy", version: string, discover?: any}} ProtocolVerdict
 */
/** @typedef {{kind: "modern", discover: any} | {kind: "legacy"}} PriorVerdict */

/**
 * Connect a client to an MCP endpoint, negotiating the era unless `prior` says it.
 * @param {string | URL} url
 * @param {ConstructorParameters<typeof StreamableHTTPClientTransport>[1]} [transportOptions] e.g. the `fetch` it uses
 * @param {{prior?: PriorVerdict}} [connectOptions] a remembered verdict (priorVerdict), which skips the probe
 * @returns {Promise<McpClient>}
 */
export async function connectClient(url, transportOptions, { prior } = {}) {
  const client = newClient("auto");
  const transport = new StreamableHTTPClientTransport(new URL(url, self.location.origin), transportOptions);
  await client.connect(transport, prior ? { prior } : undefined);
  return client;
}

/** HTTP statuses with which a server that predates Streamable HTTP refuses its handshake (a POST it has no route for). */
const LEGACY_REFUSALS = new Set([400, 404, 405]);

/**
 * Whether a Streamable HTTP handshake failed the way it fails at a server that speaks only HTTP+SSE, so that
 * HTTP+SSE is worth a try at the same URL (as the MCP specification's backwards compatibility advises). The era probe
 * refused that way falls back to `initialize`, so the refusal seen is that of `initialize`.
 * @param {unknown} error what connectClient threw
 */
export const refusedAsLegacy = (error) => SdkHttpError.isInstance(error) && LEGACY_REFUSALS.has(error.status);

/**
 * Connect a client over HTTP+SSE, in the 2024-11-05 era it belongs to (no `server/discover` probe). A refusal of
 * the event stream that the router explains (a JSON-RPC error: the network is needed, a sign-in, an endpoint on
 * another origin) is thrown as that error. Once connected, a stream that breaks off closes the client rather than
 * reconnect: a new stream would be a new session the client never initialized.
 * @param {string | URL} url
 * @param {{fetch?: typeof fetch}} [transportOptions]
 * @returns {Promise<McpClient>}
 */
export async function connectSseClient(url, transportOptions = {}) {
  /** @type {{code: number, message: string, data?: unknown} | undefined} */
  let refusal;
  const send = transportOptions.fetch ?? fetch;
  /** @type {typeof fetch} */
  const fetchExplained = async (input, init) => {
    const response = await send(input, init);
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    if (method.toUpperCase() === "GET" && !response.ok && /json/i.test(response.headers.get("content-type") ?? "")) {
      const error = (await response.clone().json().catch(() => null))?.error;
      if (typeof error?.code === "number" && typeof error.message === "string") refusal = error;
    }
    return response;
  };
  const client = newClient("legacy");
  const transport = new SSEClientTransport(new URL(url, self.location.origin), { fetch: fetchExplained });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close().catch(() => {}); // a stream that failed to start would otherwise try again on its own
    if (refusal && SseError.isInstance(error)) throw new ProtocolError(refusal.code, refusal.message, refusal.data);
    throw error;
  }
  client.onerror = (error) => {
    // After the event source has scheduled its reconnection, which closing it then cancels.
    if (SseError.isInstance(error)) queueMicrotask(() => void client.close().catch(() => {}));
  };
  return client;
}

/**
 * A client of the SDK as the app makes them.
 * @param {"auto" | "legacy"} negotiation "auto": probe with `server/discover`, else `initialize`; "legacy": `initialize`
 */
function newClient(negotiation) {
  return new Client(CLIENT_INFO, {
    capabilities: {},
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
    versionNegotiation: { mode: negotiation },
  });
}

/**
 * The era and version a connected client negotiated, or null before it has.
 * @param {McpClient} client
 * @returns {ProtocolVerdict | null}
 */
export function protocolVerdict(client) {
  const era = client.getProtocolEra();
  const version = client.getNegotiatedProtocolVersion();
  if (!era || !version) return null;
  const discover = era === "modern" ? client.getDiscoverResult() : undefined;
  return discover ? { era, version, discover } : { era, version };
}

/**
 * The remembered verdict to pass to the next connect, or undefined to probe: a modern verdict needs the server's
 * discover result; a legacy one is trusted for LEGACY_VERDICT_MAX_AGE_MS.
 * @param {{protocolEra?: string, discover?: any, protocolCheckedAt?: number} | null | undefined} record
 * @param {number} now milliseconds since the epoch
 * @returns {PriorVerdict | undefined}
 */
export function priorVerdict(record, now) {
  if (record?.protocolEra === "modern" && record.discover && typeof record.discover === "object") {
    return { kind: "modern", discover: record.discover };
  }
  const checkedAt = record?.protocolCheckedAt;
  if (record?.protocolEra === "legacy" && typeof checkedAt === "number" && now - checkedAt < LEGACY_VERDICT_MAX_AGE_MS) {
    return { kind: "legacy" };
  }
  return undefined;
}

/**
 * How the servers list names a protocol: "MCP 2026-07-28 (stateless)" for the modern era, "MCP 2025-11-25" otherwise.
 * @param {string | undefined} version
 * @param {string | undefined} era
 * @returns {string | null} null when nothing was negotiated yet
 */
export function protocolLabel(version, era) {
  if (!version) return null;
  return era === "modern" ? `MCP ${version} (stateless)` : `MCP ${version}`;
}

/**
 * tools/call without the SDK's own result checks, so a queued result (no structured content yet) comes through;
 * the caller checks structured content against the tool's output schema when there is some.
 * @param {McpClient} client
 * @param {{name: string, arguments?: any, _meta?: any}} params
 * @param {{onprogress?: (progress: any) => void, signal?: AbortSignal, timeout?: number}} [options]
 */
export function callToolRaw(client, params, options = {}) {
  return client.request({ method: "tools/call", params }, specTypeSchemas.Result, {
    ...options,
    resetTimeoutOnProgress: true,
  });
}

/**
 * tools/list, every page, unparsed: one malformed tool must not hide the others. `offline`: the router answered from
 * the mirror, not the server.
 * @param {McpClient} client
 * @returns {Promise<{tools: any[], ttlMs: number, offline: boolean}>}
 */
export async function listToolsRaw(client) {
  /** @type {unknown[]} */
  const tools = [];
  /** @type {string | undefined} */
  let cursor;
  let ttlMs = 0;
  let offline = false;
  do {
    /** @type {Record<string, any>} the result, unchecked */
    const page = await client.request({ method: "tools/list", params: cursor ? { cursor } : {} }, specTypeSchemas.Result);
    tools.push(...(Array.isArray(page.tools) ? page.tools : []));
    if (typeof page.ttlMs === "number") ttlMs = page.ttlMs;
    if (page._meta?.[OFFLINE_KEY] === true) offline = true;
    cursor = page.nextCursor;
  } while (cursor);
  return { tools, ttlMs, offline };
}
