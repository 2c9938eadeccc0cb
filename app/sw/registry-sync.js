// Keeps the registry mirror current: seeds it from the registry snapshot shipped with the build (so bundled local
// servers exist even before the first sync), then pulls `/v0.1/servers` incrementally (`updated_since`) when online.
import { getMeta, OFFICIAL_META_KEY, setMeta, storeRegistryEntries } from "../common/mirror.js";
import { serverAllowed } from "../common/policy.js";

export const SNAPSHOT_URL = "/registry.json";
const SYNCED_UNTIL = "registry.syncedUntil";
const PAGE_SIZE = 100;

/** Only the servers a managed policy allows ever reach the mirror. */
const allowedBy = (policy, entries) => entries.filter((entry) => serverAllowed(policy, entry.server.name));

/** Store the build's snapshot of bundled servers (read from this build's precache). */
export async function seedFromSnapshot(precache, policy) {
  const response = await precache.match(SNAPSHOT_URL);
  if (!response) return 0;
  const servers = allowedBy(policy, (await response.json()).servers);
  await storeRegistryEntries(servers);
  return servers.length;
}

/**
 * Pull every server changed since the last sync (those the policy allows); returns what changed and any upstream
 * registry problems.
 * @returns {Promise<{changed: number, upstreamErrors: any[], registry: boolean}>} `registry` false: none served here
 */
export async function syncRegistry(policy) {
  const since = await getMeta(SYNCED_UNTIL);
  const entries = [];
  const upstreamErrors = [];
  let cursor = null;
  do {
    const url = new URL("/v0.1/servers", self.location.origin);
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
  await storeRegistryEntries(allowedBy(policy, entries));
  // The server's own timestamps, not this device's clock, mark how far the mirror is synced.
  const newest = entries
    .map((entry) => entry._meta?.[OFFICIAL_META_KEY]?.updatedAt)
    .filter(Boolean)
    .sort()
    .at(-1);
  if (newest && (!since || newest > since)) await setMeta(SYNCED_UNTIL, newest);
  return { changed: entries.length, upstreamErrors, registry: true };
}
