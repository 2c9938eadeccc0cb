// Streamable HTTP responses built by the service worker itself (local servers, offline answers), shaped as the
// MCP transport expects: a JSON-RPC response as JSON or as an SSE stream, 202 for notifications.

const JSON_HEADERS = { "Content-Type": "application/json" };

/** @param {any} message @param {number} [status] @returns {Response} */
export const jsonResponse = (message, status = 200) =>
  new Response(JSON.stringify(message), { status, headers: JSON_HEADERS });

/** @returns {Response} */
export const accepted = () => new Response(null, { status: 202 });

/**
 * An SSE response carrying every JSON-RPC message `messages` yields for the request `requestId` (progress first,
 * the response last). The stream closes as soon as the response is sent: a client may stop reading once it has its
 * answer, and a response stream left open keeps the service worker busy (which delays updates of the app).
 * @param {AsyncIterator<any>} messages
 * @param {string | number} requestId
 * @param {() => void} onCancel called when the reader goes away before the end
 */
export function sseResponse(messages, requestId, onCancel) {
  const encoder = new TextEncoder();
  /** @param {any} message */
  const isAnswer = (message) => message?.id === requestId && ("result" in message || "error" in message);
  const stream = new ReadableStream({
    async pull(controller) {
      const { value, done } = await messages.next();
      if (done) {
        controller.close();
        return;
      }
      controller.enqueue(encoder.encode(`event: message\ndata: ${JSON.stringify(value)}\n\n`));
      if (isAnswer(value)) {
        controller.close();
        messages.return?.();
      }
    },
    cancel: onCancel,
  });
  return new Response(stream, {
    headers: { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" },
  });
}

/**
 * True for a JSON-RPC request (it expects a response), false for a notification.
 * @param {unknown} message
 * @returns {boolean}
 */
export const isRequest = (message) => message !== null && typeof message === "object" && "id" in message;
