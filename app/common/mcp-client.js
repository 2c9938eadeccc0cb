// Creates MCP clients the one way the app needs them: the official SDK client, with a JSON Schema validator that
// works under our CSP, identifying itself as Satchel; over Streamable HTTP, or over the older HTTP+SSE transport
// (2024-11-05) for a server that speaks only that (the service-worker router relays both: sw/legacy-sse.js).
import {
  CfWorkerJsonSchemaValidator,
  Client,
  McpError,
  ResultSchema,
  SSEClientTransport,
  SseError,
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "../vendor/mcp-sdk.js";

export const CLIENT_INFO = { name: "satchel", version: "0.1.0" };
/** `_meta` key carrying the idempotency key of a call that may be replayed (the workspace server dedupes on it). */
export const IDEMPOTENCY_KEY = "io.satchel/idempotency-key";
/** `_meta` key of a result that says the call was queued, not run. */
export const QUEUED_KEY = "io.satchel/queued";

/**
 * Connect a client to an MCP endpoint.
 * @param {string | URL} url
 * @param {ConstructorParameters<typeof StreamableHTTPClientTransport>[1]} [transportOptions] e.g. the `fetch` it uses
 * @returns {Promise<Client>}
 */
export async function connectClient(url, transportOptions) {
  const client = newClient();
  await client.connect(new StreamableHTTPClientTransport(new URL(url, self.location.origin), transportOptions));
  return client;
}

/** HTTP statuses with which a server that predates Streamable HTTP refuses its handshake (a POST it has no route for). */
const LEGACY_REFUSALS = new Set([400, 404, 405]);

/**
 * Whether a Streamable HTTP handshake failed the way it fails at a server that speaks only HTTP+SSE, so that
 * HTTP+SSE is worth a try at the same URL (as the MCP specification's backwards compatibility advises).
 * @param {unknown} error what connectClient threw
 */
export const refusedAsLegacy = (error) => error instanceof StreamableHTTPError && LEGACY_REFUSALS.has(/** @type {number} */ (error.code));

/** SSEClientTransport that says which protocol version it was set to, as the Streamable HTTP one does. */
class SseTransport extends SSEClientTransport {
  /** @type {string | undefined} */
  protocolVersion;

  /** @param {string} version */
  setProtocolVersion(version) {
    super.setProtocolVersion(version);
    this.protocolVersion = version;
  }
}

/**
 * Connect a client over HTTP+SSE. A refusal of the event stream that the router explains (a JSON-RPC error: the
 * network is needed, a sign-in, an endpoint on another origin) is thrown as that error. Once connected, a stream that
 * breaks off closes the client rather than reconnect: a new stream would be a new session the client never
 * initialized.
 * @param {string | URL} url
 * @param {{fetch?: typeof fetch}} [transportOptions]
 * @returns {Promise<Client>}
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
  const client = newClient();
  const transport = new SseTransport(new URL(url, self.location.origin), { fetch: fetchExplained });
  try {
    await client.connect(transport);
  } catch (error) {
    await transport.close().catch(() => {}); // a stream that failed to start would otherwise try again on its own
    if (refusal && error instanceof SseError) throw new McpError(refusal.code, refusal.message, refusal.data);
    throw error;
  }
  client.onerror = (error) => {
    // After the event source has scheduled its reconnection, which closing it then cancels.
    if (error instanceof SseError) queueMicrotask(() => void client.close().catch(() => {}));
  };
  return client;
}

/** A client of the SDK as the app makes them. */
function newClient() {
  return new Client(CLIENT_INFO, {
    capabilities: {},
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
  });
}

/**
 * tools/call without the SDK's own result checks, so a queued result (no structured content yet) comes through;
 * the caller checks structured content against the tool's output schema when there is some.
 * @param {Client} client
 * @param {{name: string, arguments?: any, _meta?: any}} params
 * @param {{onprogress?: (progress: any) => void, signal?: AbortSignal, timeout?: number}} [options]
 */
export function callToolRaw(client, params, options = {}) {
  return client.request({ method: "tools/call", params }, ResultSchema, {
    ...options,
    resetTimeoutOnProgress: true,
  });
}

/**
 * tools/list, every page, unparsed: one malformed tool must not hide the others.
 * @param {Client} client
 * @returns {Promise<{tools: any[], ttlMs: number}>}
 */
export async function listToolsRaw(client) {
  /** @type {unknown[]} */
  const tools = [];
  /** @type {string | undefined} */
  let cursor;
  let ttlMs = 0;
  do {
    /** @type {Record<string, any>} the result, unchecked */
    const page = await client.request({ method: "tools/list", params: cursor ? { cursor } : {} }, ResultSchema);
    tools.push(...(Array.isArray(page.tools) ? page.tools : []));
    if (typeof page.ttlMs === "number") ttlMs = page.ttlMs;
    cursor = page.nextCursor;
  } while (cursor);
  return { tools, ttlMs };
}
