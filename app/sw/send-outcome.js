// What one attempt to send a queued call means for its entry, decided in one place and without side effects, so
// that every HTTP status and error the MCP SDK can surface has a tested answer:
//   try again later (back off, stay pending) — the network failed, or the server said 408, 429, 502, 503 or 504,
//                                              honouring its Retry-After;
//   wait for sign-in (`signin`)              — HTTP 401: the call is sent, once, after the user signs in;
//   failed                                   — any other HTTP error (403, 400, 413, 421…), a JSON-RPC error answer,
//                                              or a result that reports an error, with the server's message;
//   sent                                     — anything else the server answered.
// The idempotency key makes "try again" safe: a call the server did see is not done twice.

/** The last HTTP response the transport saw for a POST (`body` is read only when it is not a success). */
/** @typedef {{status: number, headers: Headers, body: string}} SeenResponse */
/**
 * The entry's new state after an attempt.
 * @typedef {{status: "sent", result: any, error: undefined}
 *   | {status: "pending", nextAttemptAt: number, notBefore: number, error: string}
 *   | {status: "signin", error: string}
 *   | {status: "failed", error: string, result?: any}} SendOutcome
 */

const BASE_BACKOFF_MS = 2_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** A Retry-After further away than this is cut to it: a queued call should not wait for days on a server's word. */
export const MAX_RETRY_AFTER_MS = 3600_000;
/** How much of a server's message an entry keeps (the Outbox shows it). */
export const MAX_MESSAGE_LENGTH = 300;
/** HTTP statuses that say "not now": the request timed out, too many requests, or a gateway lost the server. */
const RETRYABLE_STATUSES = new Set([408, 429, 502, 503, 504]);

/**
 * Exponential back-off after a failed attempt: 2 s, 4 s, 8 s… up to 5 min.
 * @param {number} attempts how many attempts were made, this one included (≥ 1)
 * @returns {number} milliseconds
 */
export const backoffMs = (attempts) => Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));

/**
 * How long a Retry-After header asks to wait: delta-seconds or an HTTP-date, at most MAX_RETRY_AFTER_MS.
 * @param {string | null} value the header
 * @param {number} now milliseconds since the epoch
 * @returns {number | null} milliseconds, or null when the header is absent or unreadable
 */
export function retryAfterMs(value, now) {
  const text = value?.trim();
  if (!text) return null;
  // An HTTP-date starts with the day's name in each of its three forms; Date.parse alone would take "-5" for a year.
  const wait = /^\d+$/.test(text) ? Number(text) * 1000 : /^[A-Za-z]{3}/.test(text) ? Date.parse(text) - now : NaN;
  if (Number.isNaN(wait)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, wait));
}

/** @param {string} text @returns {string} */
const bounded = (text) => (text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text);

/**
 * The server's own words in an HTTP error response: a JSON-RPC error's message, else the body as text (an HTML
 * error page says nothing readable), prefixed with the status.
 * @param {SeenResponse} response
 * @returns {string}
 */
export function httpErrorMessage({ status, headers, body }) {
  let said = body.trim();
  try {
    const message = JSON.parse(said)?.error?.message;
    if (typeof message === "string") said = message;
  } catch {
    // Not JSON: the text itself.
  }
  if (/html/i.test(headers.get("content-type") ?? "")) said = "";
  return bounded(said ? `HTTP ${status}: ${said.replace(/\s+/g, " ")}` : `HTTP ${status}`);
}

/**
 * A JSON-RPC error the server answered (the SDK's ProtocolError, numeric code), as opposed to what the SDK raises
 * itself for a lost connection, a timeout or a failed send (its SdkError, whose code is a string).
 * @param {any} error
 * @returns {boolean}
 */
const isServerRpcError = (error) => error?.name === "ProtocolError" && typeof error.code === "number";

/**
 * The text of a result that reports an error.
 * @param {{content?: {text?: string}[]}} result
 */
const resultErrorText = (result) =>
  bounded((result.content ?? []).map((part) => part.text ?? "").join(" ").trim() || "the server reported an error");

/**
 * Classify one attempt.
 * @param {{answer?: any, error?: any, response: SeenResponse | null, attempts: number, now: number}} attempt
 *   `answer`: the tools/call result when the call returned; `error`: what was thrown otherwise; `response`: the
 *   last POST response seen during the attempt (null when none came: the network failed); `attempts`: this one
 *   included
 * @returns {SendOutcome}
 */
export function classifySend({ answer, error, response, attempts, now }) {
  if (error === undefined) {
    if (answer?.isError) return { status: "failed", result: answer, error: resultErrorText(answer) };
    return { status: "sent", result: answer, error: undefined };
  }
  const status = response?.status ?? 0;
  if (response && !(status >= 200 && status < 300)) {
    if (status === 401) return { status: "signin", error: httpErrorMessage(response) };
    if (RETRYABLE_STATUSES.has(status)) {
      const asked = retryAfterMs(response.headers.get("retry-after"), now);
      return {
        status: "pending",
        nextAttemptAt: now + Math.max(backoffMs(attempts), asked ?? 0),
        notBefore: asked === null ? 0 : now + asked,
        error: httpErrorMessage(response),
      };
    }
    // Any other 4xx or 5xx is the server's answer to this very call; an unfollowed redirect is the SDK's to explain.
    return { status: "failed", error: status >= 400 ? httpErrorMessage(response) : bounded(String(error?.message ?? error)) };
  }
  if (isServerRpcError(error)) return { status: "failed", error: bounded(String(error.message)) };
  return { status: "pending", nextAttemptAt: now + backoffMs(attempts), notBefore: 0, error: bounded(String(error?.message ?? error)) };
}
