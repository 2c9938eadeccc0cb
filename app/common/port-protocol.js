// The port protocol between the service worker, the page and a local server's worker (docs/architecture.md), written
// once for every end: on one MessagePort per call, `{type: "message", message}` for each JSON-RPC message the server
// emits (progress notifications first, the response last), then `{type: "end"}`. Whoever gives up on a call (a
// failed worker, a stopped one, a closed page) still answers it, so no port is ever left without a JSON-RPC answer.

import { errorMessage, RpcError } from "./protocol.js";

/** @typedef {{type: "message", message: any} | {type: "end"}} PortMessage */

/** A readable reason for anything thrown. @param {unknown} error @returns {string} */
export function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

/** Post one JSON-RPC message of the call. @param {MessagePort} port @param {any} message */
export function sendMessage(port, message) {
  port.postMessage(/** @type {PortMessage} */ ({ type: "message", message }));
}

/** Nothing more comes for this call. @param {MessagePort} port */
export function sendEnd(port) {
  port.postMessage(/** @type {PortMessage} */ ({ type: "end" }));
}

/**
 * The JSON-RPC error answering `request` (none for a notification).
 * @param {any} request @param {number} code @param {string} text
 * @returns {any | null}
 */
export function errorFor(request, code, text) {
  if (request === null || typeof request !== "object" || !("id" in request)) return null;
  return errorMessage(request.id, code, text);
}

/**
 * Answer `request` with a JSON-RPC error (a notification gets none); `end` is still the caller's to send.
 * @param {MessagePort} port @param {any} request @param {string} text @param {number} [code]
 */
export function sendFailure(port, request, text, code = RpcError.INTERNAL) {
  const error = errorFor(request, code, text);
  if (error) sendMessage(port, error);
}

/**
 * Every JSON-RPC message that arrives on `port` until `end`, or until `stop` aborts (then it returns at once).
 * Returns whether the call ended (false: it was stopped before its `end`).
 * @param {MessagePort} port
 * @param {AbortSignal} stop
 * @returns {AsyncGenerator<any, boolean>}
 */
export async function* readPort(port, stop) {
  /** @type {any[]} */
  const inbox = [];
  let ended = false;
  /** @type {() => void} */
  let wake = () => {};
  port.onmessage = ({ data }) => {
    if (data?.type === "message") inbox.push(data.message);
    if (data?.type === "end") ended = true;
    wake();
  };
  stop.addEventListener("abort", () => wake(), { once: true });
  while (true) {
    while (inbox.length) yield inbox.shift();
    if (ended) return true;
    if (stop.aborted) return false;
    await new Promise((resolve) => {
      wake = () => resolve(undefined);
    });
  }
}
