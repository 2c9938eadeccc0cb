// Hosts the local MCP servers: one Web Worker per server, started on its first call, stopped after a while idle.
//
// The service worker cannot reach Web Workers, so it hands each call to the page on a MessagePort (the protocol is
// in docs/architecture.md). The page relays over a channel of its own to the worker, which lets it answer for a
// worker that crashed or had to be stopped: no call is ever left without an answer.

import { sendEnd, sendFailure } from "../common/port-protocol.js";

const IDLE_STOP_MS = 5 * 60_000;
/** Workers whose server blocks inside a call (a WASM reactor): cancelling means stopping the worker. */
const BLOCKING_WORKERS = new Set(["wasi-server"]);
/**
 * How long any other worker (Pyodide, which stops a call between its steps) has to end a cancelled call before it is
 * stopped too: a step that never returns must not hold the server for ever. The MCP client cancels a call that
 * reaches its time limit, so this is also how a runaway call ends.
 */
const CANCEL_GRACE_MS = 5_000;

/**
 * @typedef {{worker: Worker, kind: string, inflight: Map<any, MessagePort>, idleTimer: any}} HostedServer
 */

export class WorkerPool {
  /**
   * @param {(status: {serverId: string, state: string, detail?: any}) => void} onStatus
   * @param {{cancelGraceMs?: number}} [options]
   */
  constructor(onStatus, { cancelGraceMs = CANCEL_GRACE_MS } = {}) {
    this.onStatus = onStatus;
    this.cancelGraceMs = cancelGraceMs;
    /** @type {Map<string, HostedServer>} */
    this.servers = new Map();
  }

  /**
   * Relay one JSON-RPC message from the service worker (answers go back on `swPort`).
   * @param {{serverId: string, config: any, message: any}} call
   * @param {MessagePort} swPort
   */
  relay({ serverId, config, message }, swPort) {
    if (message.method === "notifications/cancelled" && this.#cancelByStopping(serverId, message, swPort)) return;
    let hosted;
    try {
      hosted = this.#ensure(serverId, config);
    } catch (error) {
      this.#fail(swPort, message, `cannot start the local server ${serverId}: ${error.message}`);
      return;
    }
    clearTimeout(hosted.idleTimer);
    const channel = new MessageChannel();
    const key = "id" in message ? message.id : Symbol("notification");
    hosted.inflight.set(key, swPort);
    channel.port1.onmessage = ({ data }) => {
      swPort.postMessage(data);
      if (data?.type === "end") {
        channel.port1.close();
        hosted.inflight.delete(key);
        this.#scheduleIdleStop(serverId, hosted);
      }
    };
    hosted.worker.postMessage({ type: "rpc", message }, [channel.port2]);
    if (message.method === "notifications/cancelled") this.#stopUnlessCancelled(serverId, hosted, message.params?.requestId);
  }

  /**
   * Stop the worker if the cancelled call is still running after the grace period (its answers go to the caller as
   * an error that says so); the next call starts it afresh.
   * @param {string} serverId
   * @param {HostedServer} hosted
   * @param {any} requestId
   */
  #stopUnlessCancelled(serverId, hosted, requestId) {
    if (!hosted.inflight.has(requestId)) return;
    setTimeout(() => {
      if (this.servers.get(serverId) !== hosted || !hosted.inflight.has(requestId)) return;
      const seconds = this.cancelGraceMs / 1000;
      this.#stop(serverId, `the local server ${serverId} was restarted: a cancelled call did not stop within ${seconds} s`);
    }, this.cancelGraceMs);
  }

  #ensure(serverId, config) {
    const existing = this.servers.get(serverId);
    if (existing) return existing;
    const kind = config?.worker;
    if (!/^[a-z][a-z0-9-]*$/.test(kind ?? "")) throw new Error(`unknown worker ${JSON.stringify(kind)}`);
    const worker = new Worker(`/workers/${kind}.js`, { type: "module", name: serverId });
    /** @type {HostedServer} */
    const hosted = { worker, kind, inflight: new Map(), idleTimer: null };
    worker.onmessage = ({ data }) => {
      if (data?.type === "status") this.onStatus(data);
    };
    worker.onerror = (event) => {
      event.preventDefault();
      this.#stop(serverId, `the local server ${serverId} crashed: ${event.message || "worker error"}`);
    };
    worker.postMessage({ type: "init", serverId, config });
    this.servers.set(serverId, hosted);
    this.onStatus({ serverId, state: "starting" });
    return hosted;
  }

  /** A blocking worker cannot see a cancellation while it computes: stop it, and answer its calls ourselves. */
  #cancelByStopping(serverId, message, swPort) {
    const hosted = this.servers.get(serverId);
    if (!hosted || !BLOCKING_WORKERS.has(hosted.kind)) return false;
    const requestId = message.params?.requestId;
    const port = hosted.inflight.get(requestId);
    if (port) {
      hosted.inflight.delete(requestId);
      sendEnd(port);
      this.#stop(serverId, `the local server ${serverId} was restarted after a cancelled call`);
    }
    sendEnd(swPort);
    return true;
  }

  /**
   * Stop every worker (before the app switches to a new version: Chromium does not activate a new service worker
   * while a Web Worker it controlled is still running).
   * @param {string} reason
   */
  stopAll(reason) {
    for (const serverId of [...this.servers.keys()]) this.#stop(serverId, reason);
  }

  /** Stop a worker; every call still waiting on it gets a JSON-RPC error that says why. */
  #stop(serverId, reason) {
    const hosted = this.servers.get(serverId);
    if (!hosted) return;
    this.servers.delete(serverId);
    clearTimeout(hosted.idleTimer);
    hosted.worker.terminate();
    for (const [id, port] of hosted.inflight) {
      if (typeof id !== "symbol") this.#fail(port, { id }, reason);
      else sendEnd(port);
    }
    this.onStatus({ serverId, state: "stopped", detail: { message: reason } });
  }

  #scheduleIdleStop(serverId, hosted) {
    if (hosted.inflight.size) return;
    clearTimeout(hosted.idleTimer);
    hosted.idleTimer = setTimeout(() => this.#stop(serverId, "stopped after being idle"), IDLE_STOP_MS);
  }

  #fail(port, message, reason) {
    sendFailure(port, message, reason);
    sendEnd(port);
  }
}
