// The worker side of the port protocol (docs/architecture.md) shared by every local-server worker: how a failed
// call is answered, so no port is ever left without a JSON-RPC answer.

import { RpcError } from "../common/protocol.js";

/** A readable reason for anything thrown. @param {unknown} error @returns {string} */
export function describe(error) {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Answer a request that failed inside the worker with a JSON-RPC error (notifications get no answer).
 * @param {MessagePort} port
 * @param {any} message the JSON-RPC message being handled
 * @param {string | null} serverId
 * @param {unknown} error
 */
export function answerFailure(port, message, serverId, error) {
  if (message === null || typeof message !== "object" || !("id" in message)) return;
  const text = `the local server ${serverId ?? "(not initialised)"} failed: ${describe(error)}`;
  port.postMessage({
    type: "message",
    message: { jsonrpc: "2.0", id: message.id, error: { code: RpcError.INTERNAL, message: text } },
  });
}
