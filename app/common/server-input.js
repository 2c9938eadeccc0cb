// What the user types or pastes about a server, checked before anything is stored: a URL, HTTP headers, a title,
// and `mcpServers` configurations as desktop clients write them (Claude Desktop, Cursor, VS Code). All of it is
// hostile until checked: sizes are bounded, and every error says which part is wrong and what to do.
import { jsonErrorDetail } from "./json-position.js";

export const MAX_URL_LENGTH = 2048;
/** A pasted configuration is at most this many bytes of UTF-8. */
export const MAX_CONFIG_BYTES = 64 * 1024;
/** At most this many servers in one pasted configuration. */
export const MAX_CONFIG_SERVERS = 50;
export const MAX_HEADERS = 32;
export const MAX_HEADER_VALUE_LENGTH = 8192;
export const MAX_TITLE_LENGTH = 100;
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
/**
 * Headers the browser or the router sets itself: a value of the user's would be dropped by `fetch` or would break
 * the MCP session, so they cannot be configured.
 */
const RESERVED_HEADERS = new Set([
  "accept",
  "connection",
  "content-length",
  "content-type",
  "cookie",
  "host",
  "last-event-id",
  "mcp-protocol-version",
  "mcp-session-id",
  "origin",
  "referer",
  "transfer-encoding",
]);
/** `${input:token}`, `${env:TOKEN}`: placeholders a desktop client fills in, which a browser has nothing to fill with. */
const DESKTOP_PLACEHOLDER = /\$\{[^}]*\}/;

/** @typedef {"streamable-http" | "sse"} Transport */
/** A remote endpoint with what to send it, ready to be stored. @typedef {{type: Transport, url: string, headers: Record<string, string>}} RemoteSpec */
/** One server of a pasted configuration: what it became, or why it cannot be added. @typedef {{key: string, spec?: RemoteSpec, error?: string}} ConfigServer */

/** A server that cannot be added or changed; `fields` says which form fields are wrong ("" for the whole form). */
export class UserServerError extends Error {
  /** @param {string} message @param {string | Map<string, string>} [field] the field it is about, or every field's error */
  constructor(message, field = "") {
    super(message);
    /** @type {Map<string, string>} */
    this.fields = field instanceof Map ? field : new Map([[field, message]]);
  }
}

/** @param {unknown} value @returns {value is Record<string, any>} */
export const isObject = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** @param {string} text @param {number} max */
export const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/**
 * A server URL the user typed, checked: http(s) only, at most 2048 characters, no credentials (they belong in a
 * header), no desktop placeholders. Returns it normalised, without a fragment (which HTTP never sends).
 * @param {unknown} text
 * @param {string} [field] the form field the URL came from
 * @returns {string}
 */
export function checkServerUrl(text, field = "url") {
  const trimmed = typeof text === "string" ? text.trim() : "";
  if (!trimmed) throw new UserServerError("Enter the server's URL, such as https://mcp.example.com/mcp", field);
  if (trimmed.length > MAX_URL_LENGTH) {
    throw new UserServerError(`The URL is ${trimmed.length} characters long; at most ${MAX_URL_LENGTH} are allowed`, field);
  }
  if (DESKTOP_PLACEHOLDER.test(trimmed)) {
    throw new UserServerError(`The URL contains ${DESKTOP_PLACEHOLDER.exec(trimmed)?.[0]}, which only a desktop client fills in: write the value itself`, field);
  }
  let url;
  try {
    url = new URL(trimmed);
  } catch {
    throw new UserServerError(`${clip(trimmed, 80)} is not a URL: write it in full, such as https://mcp.example.com/mcp`, field);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UserServerError(`Only http:// and https:// URLs can be used, not ${url.protocol}`, field);
  }
  if (url.username || url.password) {
    throw new UserServerError("Remove the user name and password from the URL: send credentials in a header instead", field);
  }
  url.hash = "";
  return url.href;
}

/**
 * Headers to send a server, checked: an object of text values, valid names (not ones the browser or the router
 * sets), no line breaks, at most 32 of them.
 * @param {unknown} headers
 * @param {string} [where] who has these headers, for the message
 * @returns {Record<string, string>}
 */
export function checkHeaders(headers, where = "") {
  /** The message, after the name of whoever has the headers when there is one. @param {string} text */
  const problem = (text) => (where ? `${where}: ${text}` : `${text[0].toUpperCase()}${text.slice(1)}`);
  if (headers === undefined || headers === null) return {};
  if (!isObject(headers)) throw new UserServerError(problem(`"headers" must be an object of header names and values`), "headers");
  const entries = Object.entries(headers);
  if (entries.length > MAX_HEADERS) throw new UserServerError(problem(`at most ${MAX_HEADERS} headers are allowed, not ${entries.length}`), "headers");
  /** @type {Record<string, string>} */
  const checked = {};
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) throw new UserServerError(problem(`${clip(JSON.stringify(name), 60)} is not a valid header name`), "headers");
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new UserServerError(problem(`the ${name} header cannot be set: the browser or Satchel sets it`), "headers");
    }
    if (typeof value !== "string") throw new UserServerError(problem(`the value of the ${name} header must be text`), "headers");
    if (/[\r\n\0]/.test(value)) throw new UserServerError(problem(`the value of the ${name} header contains a line break`), "headers");
    if (value.length > MAX_HEADER_VALUE_LENGTH) {
      throw new UserServerError(problem(`the value of the ${name} header is longer than ${MAX_HEADER_VALUE_LENGTH} characters`), "headers");
    }
    if (DESKTOP_PLACEHOLDER.test(value)) {
      throw new UserServerError(
        problem(`the ${name} header uses ${DESKTOP_PLACEHOLDER.exec(value)?.[0]}, which only a desktop client fills in: write the value itself`),
        "headers",
      );
    }
    if (Object.keys(checked).some((other) => other.toLowerCase() === name.toLowerCase())) {
      throw new UserServerError(problem(`the ${name} header is given twice`), "headers");
    }
    checked[name] = value;
  }
  return checked;
}

/** A title for a server known only by its URL: host and path. @param {string} url */
export function titleFromUrl(url) {
  const parsed = new URL(url);
  return clip(`${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`, MAX_TITLE_LENGTH);
}

/** A title the user typed, checked. @param {unknown} title */
export function checkTitle(title) {
  const text = typeof title === "string" ? title.trim() : "";
  if (!text) throw new UserServerError("Give the server a name", "title");
  if (text.length > MAX_TITLE_LENGTH) throw new UserServerError(`The name is longer than ${MAX_TITLE_LENGTH} characters`, "title");
  return text;
}

/**
 * One server of a pasted configuration.
 * @param {string} key its name in the configuration
 * @param {unknown} value
 * @returns {ConfigServer}
 */
function configServer(key, value) {
  try {
    if (!isObject(value)) throw new UserServerError(`${key}: expected an object with a "url"`);
    if (value.command !== undefined || value.type === "stdio") {
      const program = typeof value.command === "string" ? clip(value.command, 80) : "a local command";
      throw new UserServerError(
        `Runs only on a desktop: ${key} starts a program (${program}), which a web app cannot do. Add a server that is reached by URL instead.`,
      );
    }
    const url = value.url ?? value.serverUrl;
    if (url === undefined) throw new UserServerError(`${key} has no "url": give the address of the server`);
    /** @type {Transport} */
    let type;
    if (value.type === undefined || ["http", "streamable-http", "streamableHttp"].includes(value.type)) type = "streamable-http";
    else if (value.type === "sse") type = "sse";
    else throw new UserServerError(`${key}: unknown "type" ${clip(JSON.stringify(value.type), 40)}; use "http" (Streamable HTTP) or "sse"`);
    let checked;
    try {
      checked = checkServerUrl(url);
    } catch (error) {
      throw new UserServerError(`${key}: ${error.message}`);
    }
    return { key, spec: { type, url: checked, headers: checkHeaders(value.headers, key) } };
  } catch (error) {
    if (!(error instanceof UserServerError)) throw error;
    return { key, error: error.message };
  }
}

/**
 * The servers of a pasted configuration: `{"mcpServers": {name: entry}}` (Claude Desktop, Cursor),
 * `{"servers": {name: entry}}` (VS Code) or one bare entry; an entry is `{url, type?, headers?}` (remote) or
 * `{command, args?}` (a program, which a browser cannot start). Throws for a document that is too large, not JSON
 * (with the line and column) or of no known shape; an entry that cannot be added comes back with its error.
 * @param {unknown} text
 * @returns {ConfigServer[]}
 */
export function parseServerConfig(text) {
  if (typeof text !== "string" || !text.trim()) throw new UserServerError('Paste a configuration such as {"mcpServers": {…}}', "config");
  // UTF-8 takes at least one byte per UTF-16 unit, so a text longer than the limit is too large without encoding it.
  const bytes = text.length > MAX_CONFIG_BYTES ? text.length : new TextEncoder().encode(text).length;
  if (bytes > MAX_CONFIG_BYTES) {
    throw new UserServerError(`The configuration is ${Math.ceil(bytes / 1024)} KiB; at most ${MAX_CONFIG_BYTES / 1024} KiB can be pasted`, "config");
  }
  let doc;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw new UserServerError(`The configuration is not valid JSON: ${jsonErrorDetail(text, error)}`, "config");
  }
  if (!isObject(doc)) throw new UserServerError("The configuration must be a JSON object", "config");
  const listKey = ["mcpServers", "servers"].find((key) => key in doc);
  if (listKey === undefined) {
    if ("url" in doc || "serverUrl" in doc || "command" in doc) {
      const named = typeof doc.name === "string" && doc.name.trim() ? clip(doc.name.trim(), MAX_TITLE_LENGTH) : null;
      const url = doc.url ?? doc.serverUrl;
      return [configServer(named ?? (typeof url === "string" && URL.canParse(url) ? titleFromUrl(url) : "this server"), doc)];
    }
    throw new UserServerError('Expected {"mcpServers": {…}} (Claude Desktop), {"servers": {…}} (VS Code) or one server with a "url"', "config");
  }
  const servers = doc[listKey];
  if (!isObject(servers)) throw new UserServerError(`"${listKey}" must be an object of servers by name`, "config");
  const entries = Object.entries(servers);
  if (entries.length === 0) throw new UserServerError(`"${listKey}" lists no server`, "config");
  if (entries.length > MAX_CONFIG_SERVERS) {
    throw new UserServerError(`"${listKey}" lists ${entries.length} servers; at most ${MAX_CONFIG_SERVERS} can be added at once`, "config");
  }
  return entries.map(([key, value]) => configServer(clip(key.trim() || "(no name)", MAX_TITLE_LENGTH), value));
}
