// The registry mirror in IndexedDB: every known server's registry entry and its last tools/list, readable with
// or without a network. The service worker writes servers (registry sync); the page writes tool lists (it holds
// the MCP clients); both read.
import { getAll, getOne, putOne, transact } from "./db.js";

export const LOCAL_META_KEY = "io.satchel/local";
/** The build's registry snapshot: its bundled servers (satchel/build/registry_snapshot.py), precached. */
export const SNAPSHOT_URL = "/registry.json";
export const OFFICIAL_META_KEY = "io.modelcontextprotocol.registry/official";

/** @typedef {{name: string, server: any, official: any, syncedAt: number}} MirroredServer */
/** @typedef {{name: string, reason: string}} HiddenTool */
/**
 * @typedef {{server: string, tools: any[], hidden: HiddenTool[], fetchedAt: number, ttlMs: number,
 *   fingerprint: string}} MirroredTools
 */

/** Same-origin URL at which the page's MCP client reaches a server (the service-worker router answers it). */
/** @param {string} name */
export const serverPath = (name) => `/mcp/${encodeURIComponent(name)}`;

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

/**
 * The Streamable HTTP endpoint of a remote server.
 * @param {Pick<MirroredServer, "server">} entry
 * @returns {string | null}
 */
export const remoteUrl = (entry) =>
  (entry.server?.remotes ?? []).find((/** @type {{type: string, url: string}} */ remote) => remote.type === "streamable-http")?.url ?? null;

/** @returns {Promise<MirroredServer[]>} sorted by name */
export async function listServers() {
  /** @type {MirroredServer[]} */
  const servers = await getAll("servers");
  return servers.sort((a, b) => a.name.localeCompare(b.name));
}

/** @param {string} name @returns {Promise<MirroredServer | undefined>} */
export const getServer = (name) => getOne("servers", name);

/**
 * Store registry entries (`{server, _meta}` as the registry API lists them); deleted ones are removed.
 * @param {any[]} entries
 */
export function storeRegistryEntries(entries) {
  const now = Date.now();
  return transact("servers", "readwrite", (tx) => {
    const store = tx.objectStore("servers");
    for (const entry of entries) {
      const official = entry._meta?.[OFFICIAL_META_KEY] ?? {};
      if (official.status === "deleted") store.delete(entry.server.name);
      else if (official.isLatest !== false) store.put({ name: entry.server.name, server: entry.server, official, syncedAt: now });
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
