// Carries a JSON-RPC message from the service worker to a local MCP server. A service worker cannot start or talk
// to a Web Worker, so the message goes to a page with a MessagePort; the page hands the port to the worker that
// hosts the server, and the worker answers on it directly (protocol in docs/architecture.md).
import { errorFor, readPort } from "../common/port-protocol.js";
import { RpcError } from "../common/protocol.js";

const serviceWorker = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/**
 * The window that made the request, or else any window of the app that can host the worker.
 * @param {string} clientId
 * @returns {Promise<Client | null>}
 */
async function hostPage(clientId) {
  const own = clientId ? await serviceWorker.clients.get(clientId) : null;
  if (own && own.type === "window") return own;
  const windows = await serviceWorker.clients.matchAll({ type: "window" });
  return windows[0] ?? null;
}

/** How often a call checks that the page hosting its worker is still open. */
const PAGE_CHECK_MS = 1_000;

/**
 * Send `message` to the local server `serverName` and yield every message it answers with.
 *
 * Ends early when `signal` aborts (the caller went away) or the hosting page closes: a call must never keep the
 * service worker busy for ever, because the browser activates a new version only once the old one is idle.
 * @param {string} clientId the fetch event's client
 * @param {string} serverName
 * @param {any} config the server's `io.satchel/local` registry metadata
 * @param {any} message one JSON-RPC request or notification
 * @param {AbortSignal} signal
 * @returns {AsyncGenerator<any>}
 */
export async function* callLocalServer(clientId, serverName, config, message, signal) {
  const page = await hostPage(clientId);
  if (!page) {
    const error = errorFor(message, RpcError.NO_HOST_PAGE, `no open Satchel page can host the local server ${serverName}`);
    if (error) yield error;
    return;
  }
  const channel = new MessageChannel();
  // Reading stops when the caller goes away or the hosting page closes.
  const stop = new AbortController();
  signal.addEventListener("abort", () => stop.abort(), { once: true });
  let pageClosed = false;
  const watch = setInterval(async () => {
    if (!(await serviceWorker.clients.get(page.id))) {
      pageClosed = true;
      stop.abort();
    }
  }, PAGE_CHECK_MS);
  page.postMessage({ type: "mcp-bridge", serverId: serverName, config, message }, [channel.port2]);
  try {
    const ended = yield* readPort(channel.port1, stop.signal);
    if (!ended && pageClosed && !signal.aborted) {
      const error = errorFor(message, RpcError.NO_HOST_PAGE, `the page hosting the local server ${serverName} was closed`);
      if (error) yield error;
    }
  } finally {
    clearInterval(watch);
    channel.port1.close();
  }
}
