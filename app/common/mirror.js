// The registry mirror in IndexedDB: every known server's registry entry and its last tools/list, readable with
// or without a network. The service worker writes servers (registry sync); the page writes tool lists (it holds
// the MCP clients) and the servers the user adds (common/user-servers.js); both read. A registry sync never
// overwrites or deletes a server the user added.
import { getAll, getOne, putOne, transact } from "./db.js";

export const LOCAL_META_KEY = "io.satchel/local";
/** `server._meta` key of a server the user added (common/user-servers.js): how it was added, its state, headers. */
export const USER_META_KEY = "io.satchel/user";
/**
 * Names of user-added servers start with this namespace. Registry names are reverse-DNS namespaces of a domain (or
 * GitHub account) the publisher proved to own, and "user" is no top-level domain, so no registry entry can carry one;
 * the mirror drops any that claims to.
 */
export const USER_NAMESPACE = "user.";
/** The build's registry snapshot: its bundled servers (satchel/build/registry_snapshot.py), precached. */
export const SNAPSHOT_URL = "/registry.json";
export const OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official";

/** @typedef {{name: string, server: any, official: any, syncedAt: number}} MirroredServer */
/** @typedef {{name: string, reason: string}} HiddenTool */
/**
 * What the server last negotiated while the network was up (absent until then): `protocolVersion`, `protocolEra`
 * ("modern": 2026-07-28 and later, stateless; "legacy": the `initialize` handshake), for a modern server its
 * `server/discover` result `discover` (the next connect adopts it instead of probing; offline, the router answers
 * with it), and `protocolCheckedAt`, when that was learnt.
 * @typedef {{server: string, tools: any[], hidden: HiddenTool[], fetchedAt: number, ttlMs: number,
 *   fingerprint: string, protocolVersion?: string, protocolEra?: "modern" | "legacy", discover?: any,
 *   protocolCheckedAt?: number}} MirroredTools
 */
/**
 * What a user-added server carries in `server._meta["io.satchel/user"]`: when and how it was added (the registry
 * entry it came from), whether the user turned it off, the HTTP headers sent to it with every request, and whether
 * its remote is HTTP+SSE because Streamable HTTP was tried and refused (`sseFallback`) rather than because it was
 * declared so.
 * @typedef {{addedAt: number, source: "url" | "json" | "registry", registryName?: string, disabled: boolean,
 *   headers: Record<string, string>, sseFallback?: boolean}} UserServerMeta
 */

/** Same-origin URL at which the page's MCP client reaches a server (the service-worker router answers it). */
/** @param {string} name */
export const serverPath = (name) => `/mcp/${encodeURIComponent(name)}`;

/**
 * The query of a router URL that asks to try the older HTTP+SSE transport at a server the user added as Streamable
 * HTTP, which refused that handshake as older servers do (the fallback of page/mcp-host.js).
 */
export const SSE_PROBE_QUERY = "transport=sse";

/** The server name in a router URL path, or null for any other path. @param {string} pathname */
export function serverNameFromPath(pathname) {
  const match = /^\/mcp\/([^/]+)$/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/**
 * How a local server is hosted, or null for a remote one.
 * @param {MirroredServer} entry
 * @returns {any}
 */
export const localConfig = (entry) => entry.server?._meta?.[LOCAL_META_KEY] ?? null;

/** A transport a browser can speak to a remote server: Streamable HTTP, or the older HTTP+SSE (2024-11-05). */
/** @typedef {"streamable-http" | "sse"} RemoteType */
/** A `remotes` entry of a server.json with a URL (it may hold more: headers, variables). @typedef {{type: RemoteType, url: string}} Remote */

/**
 * The remote a client uses, from a server.json's `remotes`: Streamable HTTP when there is one, else HTTP+SSE.
 * @param {any} server a registry's server.json
 * @returns {Remote | null} the `remotes` entry itself
 */
export function chosenRemote(server) {
  const remotes = Array.isArray(server?.remotes) ? server.remotes : [];
  /** @param {RemoteType} type */
  const ofType = (type) => remotes.find((/** @type {any} */ remote) => remote?.type === type && typeof remote.url === "string");
  return ofType("streamable-http") ?? ofType("sse") ?? null;
}

/**
 * The remote endpoint of a mirrored server and how to speak to it, or null for one without (a local server).
 * @param {Pick<MirroredServer, "server">} entry
 * @returns {Remote | null}
 */
export const remoteOf = (entry) => chosenRemote(entry.server);

/**
 * The URL of a server's chosen remote (remoteOf).
 * @param {Pick<MirroredServer, "server">} entry
 * @returns {string | null}
 */
export const remoteUrl = (entry) => remoteOf(entry)?.url ?? null;

/**
 * How the user added a server, or null for a server of a registry. Only a name in the user namespace counts (the
 * mirror keeps registry entries out of it), so a registry entry that carries the key is not taken for the user's.
 * @param {Pick<MirroredServer, "name" | "server">} entry
 * @returns {UserServerMeta | null}
 */
export const userMeta = (entry) => (entry.name.startsWith(USER_NAMESPACE) && entry.server?._meta?.[USER_META_KEY]) || null;

/** Whether the user added this server (rather than a registry listing it). @param {Pick<MirroredServer, "name" | "server">} entry */
export const isUserServer = (entry) => userMeta(entry) !== null;

/** @returns {Promise<MirroredServer[]>} sorted by name */
export async function listServers() {
  /** @type {MirroredServer[]} */
  const servers = await getAll("servers");
  return servers.sort((a, b) => a.name.localeCompare(b.name));
}

/** @param {string} name @returns {Promise<MirroredServer | undefined>} */
export const getServer = (name) => getOne("servers", name);

/**
 * Store registry entries (`{server, _meta}` as the registry API lists them); deleted ones are removed. Every server
 * the user added is named in the user namespace, which is the user's alone: a registry entry there is ignored.
 * @param {any[]} entries
 */
export function storeRegistryEntries(entries) {
  const now = Date.now();
  return transact("servers", "readwrite", (tx) => {
    const store = tx.objectStore("servers");
    for (const entry of entries) {
      const { name } = entry.server;
      if (name.startsWith(USER_NAMESPACE)) continue;
      const official = entry._meta?.[OFFICIAL_META_KEY] ?? {};
      if (official.status === "deleted") store.delete(name);
      else if (official.isLatest !== false) store.put({ name, server: entry.server, official, syncedAt: now });
    }
  });
}

/** @param {string} server @returns {Promise<MirroredTools | undefined>} */
export const getTools = (server) => getOne("tools", server);

/** @param {MirroredTools} record */
export const storeTools = (record) => putOne("tools", record);

/**
 * What a local server's tool list depends on: the exact files it runs (they change only with a new build).
 * @param {MirroredServer} entry
 */
export const localFingerprint = (entry) => JSON.stringify(localConfig(entry)?.files ?? null);

/**
 * Whether a mirrored tool list may be reused without asking the server: a local server's list holds as long as its
 * files are the same; a remote one's until its `ttlMs` runs out.
 * @param {MirroredTools | undefined} record
 * @param {MirroredServer} entry
 */
export function toolsAreFresh(record, entry) {
  if (!record) return false;
  if (localConfig(entry)) return record.fingerprint === localFingerprint(entry);
  return Date.now() - record.fetchedAt < (record.ttlMs ?? 0);
}

/** @param {string} key */
export async function getMeta(key) {
  return (await getOne("meta", key))?.value;
}

/** @param {string} key @param {any} value */
export const setMeta = (key, value) => putOne("meta", { key, value });

/**
 * Tool definition by name from the mirror (annotations decide queueing), or undefined.
 * @param {string} server
 * @param {string} toolName
 * @returns {Promise<any>}
 */
export async function findTool(server, toolName) {
  const record = await getTools(server);
  return record?.tools.find((tool) => tool.name === toolName);
}
