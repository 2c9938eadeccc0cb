// What a tool's annotations (MCP `ToolAnnotations`) mean for Satchel, written once for the page and the service
// worker: the form's badges, the idempotency key a call carries and what the offline queue may replay all follow
// from the same reading.

/** @typedef {{idempotentHint?: boolean, readOnlyHint?: boolean}} ToolHints */

/**
 * The tool changes something, and doing it twice is the same as once: a call carries an idempotency key, and it
 * is safe to send again later (a read-only call would be useless later).
 * @param {{annotations?: ToolHints}} tool
 * @returns {boolean}
 */
export function changesIdempotently(tool) {
  return tool.annotations?.idempotentHint === true && tool.annotations?.readOnlyHint !== true;
}
