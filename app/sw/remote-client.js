// How the queue reaches a remote MCP server: the one place that opens its client, so that what a connection needs
// (credentials, the route it takes: sw/remote.js) is added here and nowhere else. Each client records the last HTTP response to
// its POSTs, because the SDK's error for a refusal carries its status but not its headers or body: the status and
// headers (401, Retry-After) are what decide whether a call waits, is retried or has failed (sw/send-outcome.js).
import { connectClient, priorVerdict } from "../common/mcp-client.js";
import { getServer, getTools } from "../common/mirror.js";
import { sendToServer } from "./remote.js";

/** @typedef {import("../common/mcp-client.js").McpClient} Client */
/** @typedef {import("./send-outcome.js").SeenResponse} SeenResponse */
/**
 * @typedef {{client: Client, lastResponse: () => SeenResponse | null, close: () => Promise<void>}} RemoteClient
 * @typedef {(entry: {server: string, url: string}) => Promise<RemoteClient>} OpenRemoteClient
 */

/** How much of an error response's body is kept (the message shown is shorter still). */
const MAX_BODY_CHARS = 4_000;

/** Connecting failed: what was thrown, and the last response seen while trying (null when none came). */
export class ConnectFailure extends Error {
  /** @param {any} cause @param {SeenResponse | null} response */
  constructor(cause, response) {
    super(String(cause?.message ?? cause), { cause });
    this.response = response;
  }
}

/**
 * A `fetch` for the SDK's transport that remembers the last response to a POST (the requests that carry calls; the
 * GET of the optional event stream is not about any one call).
 * @param {typeof fetch} send how a request reaches the server
 * @returns {{fetch: typeof fetch, last: () => SeenResponse | null}}
 */
function recordingFetch(send) {
  /** @type {SeenResponse | null} */
  let last = null;
  /** @type {typeof fetch} */
  const record = async (input, init) => {
    const method = init?.method ?? (input instanceof Request ? input.method : "GET");
    if (method.toUpperCase() !== "POST") return send(input, init);
    last = null;
    const response = await send(input, init);
    const body = response.ok ? "" : (await response.clone().text().catch(() => "")).slice(0, MAX_BODY_CHARS);
    last = { status: response.status, headers: response.headers, body };
    return response;
  };
  return { fetch: record, last: () => last };
}

/**
 * Open a client to the entry's server: the SDK client over Streamable HTTP to `entry.url`.
 * @type {OpenRemoteClient}
 * @throws {ConnectFailure} when the handshake fails
 */
export async function openRemoteClient(entry) {
  const server = await getServer(entry.server);
  // A server still in the mirror gets what sw/remote.js adds (its headers, its token, the relay); one removed since
  // the call was queued is sent the call as it is.
  /** @type {typeof fetch} */
  const send = server
    ? (input, init = {}) => sendToServer(server, String(input instanceof Request ? input.url : input), { ...init, body: /** @type {string | undefined} */ (init.body ?? undefined) })
    : fetch;
  const recorder = recordingFetch(send);
  // The era the page last found this server speaking, as the page's own clients use it: no probe to repeat for each
  // flush, and none to trip over (a server whose CORS predates 2026-07-28's headers refuses the probe's preflight).
  const prior = server ? priorVerdict(await getTools(entry.server), Date.now()) : undefined;
  let client;
  try {
    client = await connectClient(entry.url, { fetch: recorder.fetch }, { prior });
  } catch (error) {
    throw new ConnectFailure(error, recorder.last());
  }
  return { client, lastResponse: recorder.last, close: () => client.close() };
}
