// The browser around the app's modules, faked at its boundary so that their logic runs under `node --test`:
// IndexedDB (fake-indexeddb), the Cache API (Map-backed), the service worker's global scope (`self.location`,
// `self.clients`, `self.registration`), `navigator` (onLine, Web Locks) and `fetch`. Import it before any app
// module: some of them read `self` as they load.
import "fake-indexeddb/auto";

export const ORIGIN = "https://satchel.test";

/** A Cache of the Cache API, keyed by URL path (what the app stores and asks for). */
class MapCache {
  /** @type {Map<string, Response>} */
  entries = new Map();

  /** @param {RequestInfo | URL} request */
  static key(request) {
    const url = request instanceof Request ? request.url : String(request);
    return new URL(url, ORIGIN).pathname;
  }

  /** @param {RequestInfo | URL} request */
  async match(request) {
    return this.entries.get(MapCache.key(request))?.clone();
  }

  /** @param {RequestInfo | URL} request @param {Response} response */
  async put(request, response) {
    // A real Cache reads the body when it stores it: a response used twice fails here as it would there.
    const body = await response.arrayBuffer();
    this.entries.set(MapCache.key(request), new Response(body, { status: response.status, headers: response.headers }));
  }

  /** @param {RequestInfo | URL} request */
  async delete(request) {
    return this.entries.delete(MapCache.key(request));
  }

  async keys() {
    return [...this.entries.keys()].map((path) => new Request(new URL(path, ORIGIN)));
  }
}

/** CacheStorage over named MapCaches. */
export class MapCacheStorage {
  /** @type {Map<string, MapCache>} */
  caches = new Map();

  /** @param {string} name */
  async open(name) {
    if (!this.caches.has(name)) this.caches.set(name, new MapCache());
    return /** @type {MapCache} */ (this.caches.get(name));
  }

  /** @param {string} name */
  async has(name) {
    return this.caches.has(name);
  }

  /** @param {string} name */
  async delete(name) {
    return this.caches.delete(name);
  }

  async keys() {
    return [...this.caches.keys()];
  }
}

/** @type {any} */
const scope = globalThis;
scope.self = globalThis;
/** In a browser a relative URL is relative to the document or worker; node's Request needs an absolute one. */
scope.Request = class extends Request {
  /** @param {RequestInfo | URL} input @param {RequestInit} [init] */
  constructor(input, init) {
    super(typeof input === "string" ? new URL(input, ORIGIN).href : input, init);
  }
};
scope.location = new URL(`${ORIGIN}/`);
scope.caches = new MapCacheStorage();
scope.registration = { sync: { register: async () => {} } };
/** The window clients the service worker sees; a test puts fake pages here. @type {any[]} */
export const windows = [];
scope.clients = {
  /** @param {string} id */
  get: async (id) => windows.find((client) => client.id === id),
  matchAll: async () => [...windows],
};
scope.navigator = {
  onLine: true,
  locks: {
    /** Web Locks for one context: requests for one name run one after another. @type {Map<string, Promise<any>>} */
    held: new Map(),
    /** @param {string} name @param {() => Promise<any>} task */
    request(name, task) {
      const run = (this.held.get(name) ?? Promise.resolve()).catch(() => {}).then(task);
      this.held.set(name, run);
      return run;
    },
  },
};

/** @param {boolean} online */
export function setOnline(online) {
  scope.navigator.onLine = online;
}

/**
 * Answer every `fetch` with `handler` (it gets a Request); returns the requests seen.
 * @param {(request: Request) => Response | Promise<Response>} handler
 * @returns {Request[]}
 */
export function fakeFetch(handler) {
  /** @type {Request[]} */
  const seen = [];
  scope.fetch = async (/** @type {RequestInfo | URL} */ input, /** @type {RequestInit} */ init) => {
    const request = new Request(input instanceof URL ? input.href : input, init);
    seen.push(request.clone());
    return handler(request);
  };
  return seen;
}

/** @param {ArrayBuffer | Uint8Array | string} data */
export async function sha256Hex(data) {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Buffer.from(digest).toString("hex");
}

/**
 * A 2025-11-25 server's answer to the handshake, or null for any other message: the SDK client's era probe
 * (`server/discover`) is refused as an unknown method, which sends the client on to `initialize`.
 * @param {any} message the JSON-RPC request
 * @returns {Response | null}
 */
export function legacyHandshake(message) {
  if (message.method === "server/discover") {
    return Response.json({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: "Method not found" } });
  }
  if (message.method === "initialize") {
    const result = { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "fake", version: "1" } };
    return Response.json({ jsonrpc: "2.0", id: message.id, result });
  }
  return null;
}
