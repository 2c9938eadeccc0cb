// Server-sent events read from a remote server's stream and written out again, for the router's relay of the older
// HTTP+SSE transport (sw/legacy-sse.js), which must see each event whole to rewrite the `endpoint` one. The parser
// follows the HTML standard's rules (any of CRLF, LF, CR ends a line; a blank line dispatches; `:` starts a comment;
// one space after the colon is dropped) and takes text as it arrives, chunk by chunk. The stream is the server's and
// hostile until read: a line, or the data of one event, longer than its bound is refused rather than buffered.

/** The most characters one line, or the data of one event, may hold (about 1 MiB of text). */
export const MAX_EVENT_CHARS = 1 << 20;

/**
 * One event: its type ("message" when none was named), its data (null when it carried none: it only sets an id or
 * a reconnection time), its id and its retry field when it had them.
 * @typedef {{type: string, data: string | null, id?: string, retry?: string}} SseEvent
 */

/** A stream that sent a line or an event over the bound. */
export class SseTooLarge extends Error {}

/** Turns decoded text, chunk by chunk, into whole events. */
export class SseParser {
  #maxChars;
  /** The start of a line whose end has not arrived. */
  #partial = "";
  /** The last chunk ended with CR: an LF at the start of the next belongs to the same line break. */
  #afterCr = false;
  /** @type {string[]} */
  #data = [];
  #dataChars = 0;
  #type = "";
  /** @type {string | undefined} */
  #id;
  /** @type {string | undefined} */
  #retry;

  /** @param {{maxChars?: number}} [bounds] */
  constructor({ maxChars = MAX_EVENT_CHARS } = {}) {
    this.#maxChars = maxChars;
  }

  /**
   * The events completed by one more chunk of the stream's text.
   * @param {string} text
   * @returns {SseEvent[]}
   * @throws {SseTooLarge}
   */
  push(text) {
    /** @type {SseEvent[]} */
    const events = [];
    let chunk = text;
    if (this.#afterCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.#afterCr = false;
    const buffer = this.#partial + chunk;
    const breaks = /\r\n|\r|\n/g;
    breaks.lastIndex = this.#partial.length; // the partial line holds no break
    let start = 0;
    for (let found = breaks.exec(buffer); found; found = breaks.exec(buffer)) {
      // A CR that ends the buffer may be the first half of a CRLF split between chunks.
      if (found[0] === "\r" && found.index === buffer.length - 1) this.#afterCr = true;
      this.#line(buffer.slice(start, found.index), events);
      start = breaks.lastIndex;
    }
    this.#partial = buffer.slice(start);
    if (this.#partial.length > this.#maxChars) throw new SseTooLarge(`a line of the event stream is over ${this.#maxChars} characters`);
    return events;
  }

  /** @param {string} line @param {SseEvent[]} events */
  #line(line, events) {
    if (line.length > this.#maxChars) throw new SseTooLarge(`a line of the event stream is over ${this.#maxChars} characters`);
    if (line === "") {
      this.#dispatch(events);
      return;
    }
    if (line.startsWith(":")) return; // a comment (a keep-alive)
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") {
      this.#dataChars += value.length + 1;
      if (this.#dataChars > this.#maxChars) throw new SseTooLarge(`an event of the stream carries over ${this.#maxChars} characters`);
      this.#data.push(value);
    } else if (field === "event") {
      this.#type = value;
    } else if (field === "id") {
      if (!value.includes("\0")) this.#id = value;
    } else if (field === "retry") {
      if (/^\d+$/.test(value)) this.#retry = value;
    }
    // Any other field is ignored, as the standard says.
  }

  /** @param {SseEvent[]} events */
  #dispatch(events) {
    if (this.#data.length || this.#id !== undefined || this.#retry !== undefined) {
      /** @type {SseEvent} */
      const event = { type: this.#type || "message", data: this.#data.length ? this.#data.join("\n") : null };
      if (this.#id !== undefined) event.id = this.#id;
      if (this.#retry !== undefined) event.retry = this.#retry;
      events.push(event);
    }
    this.#data = [];
    this.#dataChars = 0;
    this.#type = "";
    this.#id = undefined;
    this.#retry = undefined;
  }
}

/**
 * The text of one event on a stream: what a client parses back into the same event.
 * @param {SseEvent} event
 * @returns {string}
 */
export function formatEvent({ type, data, id, retry }) {
  let text = type === "message" ? "" : `event: ${type}\n`;
  if (id !== undefined) text += `id: ${id}\n`;
  if (retry !== undefined) text += `retry: ${retry}\n`;
  if (data !== null) for (const line of data.split("\n")) text += `data: ${line}\n`;
  return `${text}\n`;
}
