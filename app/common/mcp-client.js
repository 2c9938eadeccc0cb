// Creates MCP clients the one way the app needs them: the official SDK client over Streamable HTTP, with a JSON
// Schema validator that works under our CSP, identifying itself as Satchel.
import {
  CfWorkerJsonSchemaValidator,
  Client,
  ResultSchema,
  StreamableHTTPClientTransport,
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
  const client = new Client(CLIENT_INFO, {
    capabilities: {},
    jsonSchemaValidator: new CfWorkerJsonSchemaValidator(),
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url, self.location.origin), transportOptions));
  return client;
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
