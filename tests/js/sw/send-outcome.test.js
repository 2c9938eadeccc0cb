// What one attempt to send a queued call means (app/sw/send-outcome.js): a network failure, 408, 429 and 502–504
// back off and keep the entry pending (a Retry-After is honoured, bounded, and never shortens the back-off); 401
// waits for sign-in; every other HTTP error fails the entry with the server's message; a JSON-RPC error or a
// result that reports an error fails it; anything else is sent.
import "../fakes.js";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ProtocolError, SdkError, SdkErrorCode } from "../../../app/vendor/mcp-sdk.js";
import { backoffMs, classifySend, MAX_MESSAGE_LENGTH, MAX_RETRY_AFTER_MS, retryAfterMs } from "../../../app/sw/send-outcome.js";

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

/**
 * An attempt that got an HTTP error response.
 * @param {number} status @param {{body?: string, headers?: Record<string, string>, attempts?: number}} [details]
 */
const httpFailure = (status, { body = "", headers = {}, attempts = 1 } = {}) =>
  classifySend({
    error: new Error(`Streamable HTTP error: Error POSTing to endpoint: ${body}`),
    response: { status, headers: new Headers(headers), body },
    attempts,
    now: NOW,
  });

describe("backoffMs", () => {
  test("doubles from 2 s with each attempt, up to 5 minutes", () => {
    assert.deepEqual([1, 2, 3, 4].map(backoffMs), [2_000, 4_000, 8_000, 16_000]);
    assert.equal(backoffMs(30), 5 * 60_000);
  });
});

describe("retryAfterMs", () => {
  test("reads delta-seconds", () => assert.equal(retryAfterMs(" 120 ", NOW), 120_000));
  test("reads an HTTP-date", () => assert.equal(retryAfterMs(new Date(NOW + 600_000).toUTCString(), NOW), 600_000));
  test("a date in the past means now", () => assert.equal(retryAfterMs(new Date(NOW - 60_000).toUTCString(), NOW), 0));
  test("is cut to one hour", () => {
    assert.equal(retryAfterMs("86400", NOW), MAX_RETRY_AFTER_MS);
    assert.equal(retryAfterMs(new Date(NOW + 3 * 86_400_000).toUTCString(), NOW), MAX_RETRY_AFTER_MS);
  });
  test("an absent or unreadable header says nothing", () => {
    for (const value of [null, "", "soon", "-5", "1.5"]) assert.equal(retryAfterMs(value, NOW), null, String(value));
  });
});

describe("classifySend: answers", () => {
  test("a result is sent", () => {
    const answer = { content: [{ type: "text", text: "saved" }] };
    assert.deepEqual(classifySend({ answer, response: null, attempts: 1, now: NOW }), { status: "sent", result: answer, error: undefined });
  });

  test("a result that reports an error fails with its text", () => {
    const answer = { isError: true, content: [{ type: "text", text: "disk" }, { type: "text", text: "full" }] };
    assert.deepEqual(classifySend({ answer, response: null, attempts: 1, now: NOW }), { status: "failed", result: answer, error: "disk full" });
  });

  test("a JSON-RPC error answer fails with its message", () => {
    const response = { status: 200, headers: new Headers(), body: "" };
    const outcome = classifySend({ error: new ProtocolError(-32602, "bad title"), response, attempts: 1, now: NOW });
    assert.equal(outcome.status, "failed");
    assert.match(outcome.error ?? "", /bad title/);
  });
});

describe("classifySend: try again later", () => {
  test("a network failure (no response) backs off and stays pending", () => {
    const outcome = classifySend({ error: new TypeError("fetch failed"), response: null, attempts: 3, now: NOW });
    assert.deepEqual(outcome, { status: "pending", nextAttemptAt: NOW + 8_000, notBefore: 0, error: "fetch failed" });
  });

  test("the SDK's lost connection and timeout are network failures, not the server's answer", () => {
    for (const code of [SdkErrorCode.ConnectionClosed, SdkErrorCode.RequestTimeout, SdkErrorCode.SendFailed]) {
      const outcome = classifySend({ error: new SdkError(code, "gone"), response: null, attempts: 1, now: NOW });
      assert.equal(outcome.status, "pending", code);
    }
  });

  for (const status of [408, 429, 502, 503, 504]) {
    test(`HTTP ${status} backs off and stays pending`, () => {
      const outcome = httpFailure(status, { body: "busy", attempts: 2 });
      assert.deepEqual(outcome, { status: "pending", nextAttemptAt: NOW + 4_000, notBefore: 0, error: `HTTP ${status}: busy` });
    });
  }

  test("429 with Retry-After in seconds waits that long, and no forced flush may come sooner", () => {
    const outcome = httpFailure(429, { headers: { "retry-after": "90" } });
    assert.deepEqual(outcome, { status: "pending", nextAttemptAt: NOW + 90_000, notBefore: NOW + 90_000, error: "HTTP 429" });
  });

  test("503 with Retry-After as an HTTP-date waits until then", () => {
    const outcome = httpFailure(503, { headers: { "retry-after": new Date(NOW + 1_800_000).toUTCString() } });
    assert.equal(outcome.status === "pending" && outcome.nextAttemptAt, NOW + 1_800_000);
  });

  test("a Retry-After shorter than the back-off does not shorten it", () => {
    const outcome = httpFailure(429, { headers: { "retry-after": "1" }, attempts: 4 });
    assert.equal(outcome.status === "pending" && outcome.nextAttemptAt, NOW + 16_000);
  });

  test("a Retry-After of days waits one hour", () => {
    const outcome = httpFailure(429, { headers: { "retry-after": "259200" } });
    assert.equal(outcome.status === "pending" && outcome.nextAttemptAt, NOW + MAX_RETRY_AFTER_MS);
  });
});

describe("classifySend: the user must act", () => {
  test("HTTP 401 waits for sign-in", () => {
    const outcome = httpFailure(401, { body: "token expired", headers: { "www-authenticate": 'Bearer realm="notes"' } });
    assert.deepEqual(outcome, { status: "signin", error: "HTTP 401: token expired" });
  });

  for (const status of [400, 403, 404, 413, 421, 500]) {
    test(`HTTP ${status} fails with the server's message`, () => {
      assert.deepEqual(httpFailure(status, { body: "not for you" }), { status: "failed", error: `HTTP ${status}: not for you` });
    });
  }

  test("the message of a JSON-RPC error body is the server's message", () => {
    const body = JSON.stringify({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "payload too large for this workspace" } });
    assert.equal(httpFailure(413, { body, headers: { "content-type": "application/json" } }).error, "HTTP 413: payload too large for this workspace");
  });

  test("an HTML error page is not shown, only its status", () => {
    const outcome = httpFailure(403, { body: "<html><body><h1>403 Forbidden</h1></body></html>", headers: { "content-type": "text/html" } });
    assert.equal(outcome.error, "HTTP 403");
  });

  test("a long message is cut", () => {
    const outcome = httpFailure(400, { body: "x".repeat(5_000) });
    assert.equal(outcome.error?.length, MAX_MESSAGE_LENGTH);
    assert.ok(outcome.error?.endsWith("…"));
  });

  test("a redirect the SDK would not follow fails with the SDK's explanation", () => {
    const error = new Error("Streamable HTTP error: Error POSTing to endpoint: Redirect to plain http not followed");
    const outcome = classifySend({ error, response: { status: 302, headers: new Headers(), body: "" }, attempts: 1, now: NOW });
    assert.deepEqual(outcome, { status: "failed", error: error.message });
  });
});
