// Keeps the registry mirror current: seeds it from the registry snapshot shipped with the build (so bundled local
// servers exist even before the first sync), then pulls `/v0.1/servers` incrementally (`updated_since`) when online.
//
// A managed policy decides what reaches the mirror: only the servers it allows, and, unless it turns upstream
// registries on, only the servers this site itself provides. `satchel serve` lists those (the build's own local
// servers, and the workspace on this origin) together with whatever its `--upstream` registries list; an entry that
// is neither a server of the build's snapshot nor a remote on this origin came from an upstream registry.
import { getMeta, OFFICIAL_META_KEY, remoteUrl, setMeta, SNAPSHOT_URL, storeRegistryEntries } from "../common/mirror.js";
import { serverAllowed } from "../common/policy.js";

/** @typedef {import("../common/policy.js").Policy} Policy */
/** @typedef {import("./precache.js").Precache} Precache */
/** @typedef {{server: any, _meta?: any}} RegistryEntry one server as the registry API lists it */

// The registry sync runs in the service worker.
const serviceWorker = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

const SYNCED_UNTIL = "registry.syncedUntil";
const PAGE_SIZE = 100;

/**
 * Only the servers a managed policy allows ever reach the mirror.
 * @param {Policy | null} policy
 * @param {RegistryEntry[]} entries
 */
const allowedBy = (policy, entries) => entries.filter((entry) => serverAllowed(policy, entry.server.name));

/**
 * The build's snapshot of its bundled servers (read from this build's precache).
 * @param {Precache} precache
 * @returns {Promise<RegistryEntry[]>}
 */
async function snapshotEntries(precache) {
  const response = await precache.match(SNAPSHOT_URL);
  return response ? (await response.json()).servers : [];
}

/**
 * Whether an entry of the registry API is one of this site's own servers: a server of the build's snapshot (its
 * name wins any clash in `satchel serve`'s listing), or a remote server on this origin.
 * @param {RegistryEntry} entry
 * @param {Set<string>} bundled the snapshot's server names
 */
function providedBySite(entry, bundled) {
  if (bundled.has(entry.server.name)) return true;
  const url = remoteUrl({ server: entry.server });
  const { origin } = serviceWorker.location;
  return url !== null && new URL(url, origin).origin === origin;
}

/**
 * Store the build's snapshot of bundled servers.
 * @param {Precache} precache
 * @param {Policy | null} policy
 * @returns {Promise<number>} how many servers it holds
 */
export async function seedFromSnapshot(precache, policy) {
  const servers = allowedBy(policy, await snapshotEntries(precache));
  await storeRegistryEntries(servers);
  return servers.length;
}

/**
 * Pull every server changed since the last sync (those the policy allows); returns what changed and any upstream
 * registry problems. `precache` is this build's (its registry snapshot says which local servers are the site's own).
 * @param {Policy | null} policy
 * @param {Precache} precache
 * @returns {Promise<{changed: number, upstreamErrors: any[], registry: boolean}>} `registry` false: none served here
 */
export async function syncRegistry(policy, precache) {
  const since = await getMeta(SYNCED_UNTIL);
  /** @type {RegistryEntry[]} */
  const entries = [];
  /** @type {any[]} */
  const upstreamErrors = [];
  let cursor = null;
  do {
    const url = new URL("/v0.1/servers", serviceWorker.location.origin);
    url.searchParams.set("limit", String(PAGE_SIZE));
    url.searchParams.set("version", "latest");
    if (since) {
      url.searchParams.set("updated_since", since);
      url.searchParams.set("include_deleted", "true");
    }
    if (cursor) url.searchParams.set("cursor", cursor);
    const response = await fetch(url, { cache: "no-store" });
    // A static host (a kiosk's nginx) has no registry API: the servers bundled with the build are all there is.
    if (response.status === 404 && !cursor) return { changed: 0, upstreamErrors, registry: false };
    if (!response.ok) throw new Error(`the registry answered HTTP ${response.status}`);
    const body = await response.json();
    entries.push(...body.servers);
    upstreamErrors.push(...(body.metadata?.["io.satchel/upstreamErrors"] ?? []));
    cursor = body.metadata?.nextCursor ?? null;
  } while (cursor);
  let kept = allowedBy(policy, entries);
  if (policy && policy.upstreamRegistries !== true) {
    const bundled = new Set((await snapshotEntries(precache)).map((entry) => entry.server.name));
    kept = kept.filter((entry) => providedBySite(entry, bundled));
  }
  await storeRegistryEntries(kept);
  // The server's own timestamps, not this device's clock, mark how far the mirror is synced.
  const newest = entries
    .map((entry) => entry._meta?.[OFFICIAL_META_KEY]?.updatedAt)
    .filter(Boolean)
    .sort()
    .at(-1);
  if (newest && (!since || newest > since)) await setMeta(SYNCED_UNTIL, newest);
  return { changed: entries.length, upstreamErrors, registry: true };
}
