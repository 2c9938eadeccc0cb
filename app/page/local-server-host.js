// The page's half of the local-server bridge: the service worker posts each call for a local MCP server here, with
// a port to answer on, and the worker pool relays it to the Web Worker hosting that server.
import { WorkerPool } from "./worker-pool.js";

/**
 * @param {(status: any) => void} onStatus worker state changes (loading, ready, stopped, error)
 * @returns {WorkerPool}
 */
export function hostLocalServers(onStatus) {
  const pool = new WorkerPool(onStatus);
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type !== "mcp-bridge") return;
    const [port] = event.ports;
    if (port) pool.relay(event.data, port);
  });
  // Messages the service worker sent before this listener existed are held until the queue is started.
  navigator.serviceWorker.startMessages();
  return pool;
}
