// Reading a server's event stream as it arrives (app/sw/sse-events.js): whole events out of arbitrary chunks, the
// standard's line and field rules, bounds on what one line or event may hold, and events written back out as a
// client reads them.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { formatEvent, MAX_EVENT_CHARS, SseParser, SseTooLarge } from "../../../app/sw/sse-events.js";

/** Every event of `chunks`, pushed one after another. @param {string[]} chunks @param {SseParser} [parser] */
const parseAll = (chunks, parser = new SseParser()) => chunks.flatMap((chunk) => parser.push(chunk));

describe("SseParser", () => {
  test("an event comes out once its blank line has arrived, however the text is cut", () => {
    const text = "event: endpoint\ndata: /message?sessionId=1\n\ndata: {\"a\":1}\n\n";
    const whole = parseAll([text]);
    assert.deepEqual(whole, [
      { type: "endpoint", data: "/message?sessionId=1" },
      { type: "message", data: '{"a":1}' },
    ]);
    assert.deepEqual(parseAll([...text]), whole, "one character at a time");
    const parser = new SseParser();
    assert.deepEqual(parser.push("event: endpoint\ndata: /mess"), []);
    assert.deepEqual(parser.push("age?sessionId=1\n"), []);
    assert.deepEqual(parser.push("\n"), [whole[0]]);
  });

  test("CRLF, CR and LF all end a line, a CRLF split between chunks included", () => {
    assert.deepEqual(parseAll(["data: a\r\n\r\ndata: b\r\rdata: c\n\n"]), [
      { type: "message", data: "a" },
      { type: "message", data: "b" },
      { type: "message", data: "c" },
    ]);
    assert.deepEqual(parseAll(["data: a\r", "\n", "data: b\r", "\n\r", "\n"]), [{ type: "message", data: "a\nb" }]);
  });

  test("data lines join with LF; one space after the colon is dropped; comments and unknown fields are ignored", () => {
    assert.deepEqual(parseAll([": keep-alive\ndata:  two spaces\ndata:none\nfoo: bar\ndata\n\n"]), [
      { type: "message", data: " two spaces\nnone\n" },
    ]);
  });

  test("an id or retry without data is an event of its own; a blank line alone is none", () => {
    assert.deepEqual(parseAll(["\n\nid: 7\nretry: 5000\n\nretry: soon\nid: a\0b\n\n"]), [{ type: "message", data: null, id: "7", retry: "5000" }]);
  });

  test("an event cut off by the end of the stream is never dispatched", () => {
    assert.deepEqual(parseAll(["data: half"]), []);
  });

  test("a line longer than the bound is refused, whether it ends or not", () => {
    assert.throws(() => parseAll(["data: " + "x".repeat(20) + "\n"], new SseParser({ maxChars: 16 })), SseTooLarge);
    const parser = new SseParser({ maxChars: 16 });
    assert.deepEqual(parser.push("data: 0123456789"), []);
    assert.throws(() => parser.push("abcdef"), SseTooLarge);
  });

  test("an event whose data lines add up to more than the bound is refused", () => {
    assert.throws(() => parseAll(["data: 0123456\ndata: 0123456\ndata: 0123456\n"], new SseParser({ maxChars: 16 })), SseTooLarge);
  });

  test("the default bound is about 1 MiB of text", () => {
    assert.equal(MAX_EVENT_CHARS, 1 << 20);
    assert.throws(() => new SseParser().push("x".repeat(MAX_EVENT_CHARS + 1)), SseTooLarge);
  });
});

describe("formatEvent", () => {
  test("writes an event a parser reads back the same", () => {
    const events = [
      { type: "endpoint", data: "/mcp/x?endpoint=https%3A%2F%2Fa.test%2Fm" },
      { type: "message", data: "line one\nline two", id: "3" },
      { type: "message", data: null, retry: "100" },
    ];
    const text = events.map(formatEvent).join("");
    assert.equal(text.startsWith("event: endpoint\ndata: /mcp/x?endpoint="), true);
    assert.deepEqual(parseAll([text]), events);
  });
});
