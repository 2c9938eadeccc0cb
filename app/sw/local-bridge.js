// Carries a JSON-RPC message from the service worker to a local MCP server. A service worker cannot start or talk
// to a Web Worker, so the message goes to a page with a MessagePort; the page hands the port to the worker that
// hosts the server, and the worker answers on it directly (protocol in docs/architecture.md).
import { errorMessage, RpcError } from "./mcp-http.js";

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
    if ("id" in message) {
      yield errorMessage(message.id, RpcError.NO_HOST_PAGE, `no open Satchel page can host the local server ${serverName}`);
    }
    return;
  }
  const channel = new MessageChannel();
  /** @type {any[]} */
  const inbox = [];
  /** @type {(value?: unknown) => void} */
  let wake = () => {};
  let ended = false;
  channel.port1.onmessage = (event) => {
    if (event.data?.type === "message") inbox.push(event.data.message);
    if (event.data?.type === "end") ended = true;
    wake();
  };
  let pageClosed = false;
  const watch = setInterval(async () => {
    if (!(await serviceWorker.clients.get(page.id))) {
      pageClosed = true;
      wake();
    }
  }, PAGE_CHECK_MS);
  signal.addEventListener("abort", () => wake(), { once: true });
  page.postMessage({ type: "mcp-bridge", serverId: serverName, config, message }, [channel.port2]);
  try {
    while (true) {
      while (inbox.length) yield inbox.shift();
      if (ended || signal.aborted) return;
      if (pageClosed) {
        if ("id" in message) {
          yield errorMessage(message.id, RpcError.NO_HOST_PAGE, `the page hosting the local server ${serverName} was closed`);
        }
        return;
      }
      await new Promise((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearInterval(watch);
    channel.port1.close();
  }
}
