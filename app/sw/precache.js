// The precache: every file of one build, verified against its sha256, in a Cache named after that build.
//
// Every file the precache serves or hands the service worker is checked against the sha256 its build compiled into
// sw.js, each time it is read: Cache Storage is writable by any script of the origin, so a page script could
// otherwise replace a file (the managed policy above all) and have it used at the next service-worker start. A
// stored copy that does not match, or one the browser evicted, is fetched again, checked the same way, and stored in
// its place; when no matching copy can be had the file is refused with an error naming it, and the rest still works.
//
// A build's cache is complete or it is not used: install fills it (reusing unchanged files from the previous
// build's cache instead of downloading them again) and writes the manifest last, as the mark of completion; only
// activation, which happens after a complete install, removes older builds' caches. Requests are answered from this
// build's cache only, so a page never mixes files of two builds.
//
// A kiosk bundle carries a release (dotted numbers, `satchel bundle --release`), stored with its cache. Install
// refuses a release lower than that of any complete cache on the device, so serving an older bundle at the same URL
// never takes an installed app back: the browser keeps the version it has. Plain builds (no release) are not ordered.

const CACHE_PREFIX = "satchel-precache-";
// Stored in each build's cache once every file is in: the mark that the cache is complete, and the list of hashes
// the next build compares against to reuse unchanged files.
const MANIFEST_KEY = "/__satchel__/precache-manifest.json";
// Stored before the manifest: the build's bundle release (or null), which later installs compare against.
const RELEASE_KEY = "/__satchel__/release.json";
const PARALLEL_DOWNLOADS = 6;
/**
 * Pages of this origin that the server renders, never the app: the workspace's OAuth authorization endpoint and its
 * sign-in page (satchel/workspace/authorization.py; tests/workspace/test_sign_in.py checks the two agree). A
 * navigation to one goes to the network; every other navigation gets the app's shell.
 */
export const SERVER_PAGES = Object.freeze(["/authorize", "/workspace/sign-in"]);

/** A file of the build that cannot be had with the bytes its manifest names (a changed copy, a failed refetch). */
export class PrecacheError extends Error {}

/** @param {ArrayBuffer} buffer */
async function sha256Hex(buffer) {
  const digest = await crypto.subtle.digest("SHA-256", buffer);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Run `task` over `items` with at most `limit` running at once; rejects with the first failure.
 * @template T
 * @param {T[]} items
 * @param {number} limit
 * @param {(item: T) => Promise<void>} task
 */
async function forEachLimited(items, limit, task) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * Order two releases ("2026.11.25", "3"): negative when `a` is lower, 0 when equal (missing parts count as 0).
 * @param {string} a
 * @param {string} b
 */
export function compareReleases(a, b) {
  const [left, right] = [a, b].map((release) => release.split(".").map(Number));
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/** @typedef {{url: string, sha256: string, size: number}} PrecacheEntry */

export class Precache {
  /**
   * @param {string} buildHash hash of the manifest, names this build's cache
   * @param {PrecacheEntry[]} entries every file of the build
   * @param {string} shellUrl the page answered to offline navigations
   * @param {string | null} release the bundle release of this build (null: a plain build)
   */
  constructor(buildHash, entries, shellUrl, release = null) {
    this.buildHash = buildHash;
    this.cacheName = CACHE_PREFIX + buildHash;
    this.entries = entries;
    this.byUrl = new Map(entries.map((entry) => [entry.url, entry]));
    this.shellUrl = shellUrl;
    this.release = release;
  }

  /** Fill this build's cache completely, or throw (and the browser keeps the current version). */
  async install() {
    await this.#refuseOlderRelease();
    const cache = await caches.open(this.cacheName);
    if (await cache.match(MANIFEST_KEY)) return;
    const reusable = await this.#unchangedFromEarlierBuilds();
    await forEachLimited(this.entries, PARALLEL_DOWNLOADS, async (entry) => {
      if (await cache.match(entry.url)) return; // already stored by an interrupted earlier install, verified then
      const response = reusable.get(entry.url) ?? (await this.#download(entry));
      await cache.put(entry.url, response);
    });
    await cache.put(RELEASE_KEY, Response.json({ release: this.release }));
    await cache.put(
      MANIFEST_KEY,
      new Response(JSON.stringify(this.entries), { headers: { "Content-Type": "application/json" } }),
    );
  }

  /** Remove every other build's cache: safe now, because this build's cache is complete. */
  async activate() {
    const names = await caches.keys();
    await Promise.all(
      names
        .filter((name) => name.startsWith(CACHE_PREFIX) && name !== this.cacheName)
        .map((name) => caches.delete(name)),
    );
  }

  /**
   * The response for a request this build can answer (its files, and navigations to the shell but for SERVER_PAGES),
   * else null.
   * @param {Request} request
   * @returns {Promise<Response> | null}
   */
  respond(request) {
    if (request.method !== "GET") return null;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin) return null;
    const path = url.pathname === "/" ? this.shellUrl : url.pathname;
    if (this.byUrl.has(path)) return this.#fromCache(path);
    if (request.mode === "navigate" && !SERVER_PAGES.includes(url.pathname)) return this.#fromCache(this.shellUrl);
    return null;
  }

  /** This build's stored response for a path, if any, unchecked (for files not in the manifest). @param {string} path */
  async match(path) {
    const cache = await caches.open(this.cacheName);
    return cache.match(path);
  }

  /**
   * This build's file at `path`, whose bytes are those its manifest names: the stored copy when it matches, else (the
   * copy was changed, or evicted) one fetched again, checked, and stored in its place.
   * @param {string} path a URL path listed in the manifest
   * @returns {Promise<Response>}
   * @throws {PrecacheError} when the path is not this build's, or no matching copy can be had
   * @throws {TypeError} when the network cannot be reached
   */
  async verified(path) {
    const entry = this.byUrl.get(path);
    if (!entry) throw new PrecacheError(`precache: ${path} is not a file of build ${this.buildHash}`);
    const cache = await caches.open(this.cacheName);
    const stored = await cache.match(path);
    if (stored) {
      const body = await stored.arrayBuffer();
      if ((await sha256Hex(body)) === entry.sha256) {
        return new Response(body, { status: stored.status, statusText: stored.statusText, headers: stored.headers });
      }
      console.warn(`precache: the stored ${path} is not build ${this.buildHash}'s (changed in Cache Storage): fetching it again`);
    }
    const response = await this.#download(entry);
    await cache.put(path, response.clone());
    return response;
  }

  /** @param {string} path */
  async #fromCache(path) {
    try {
      return await this.verified(path);
    } catch (error) {
      if (!(error instanceof PrecacheError)) throw error; // offline: a network error, as for any failed fetch
      return new Response(error.message, { status: 502, headers: { "Content-Type": "text/plain; charset=utf-8" } });
    }
  }

  /** @param {PrecacheEntry} entry */
  async #download(entry) {
    const response = await fetch(new Request(entry.url, { cache: "no-cache", credentials: "same-origin" }));
    if (!response.ok) throw new PrecacheError(`precache: ${entry.url} answered HTTP ${response.status}`);
    const digest = await sha256Hex(await response.clone().arrayBuffer());
    if (digest !== entry.sha256) {
      throw new PrecacheError(
        `precache: ${entry.url} does not belong to build ${this.buildHash} (the server has another build)`,
      );
    }
    return response;
  }

  /** Throw when a complete cache on this device holds a higher release than this build's. */
  async #refuseOlderRelease() {
    if (this.release === null) return;
    for (const name of await caches.keys()) {
      if (!name.startsWith(CACHE_PREFIX) || name === this.cacheName) continue;
      const cache = await caches.open(name);
      if (!(await cache.match(MANIFEST_KEY))) continue;
      const installed = (await (await cache.match(RELEASE_KEY))?.json())?.release ?? null;
      if (installed !== null && compareReleases(installed, this.release) > 0) {
        throw new Error(
          `precache: release ${this.release} is older than release ${installed} on this device, which stays`,
        );
      }
    }
  }

  /** @returns {Promise<Map<string, Response>>} responses from complete earlier caches whose hash is unchanged */
  async #unchangedFromEarlierBuilds() {
    const reusable = new Map();
    for (const name of await caches.keys()) {
      if (!name.startsWith(CACHE_PREFIX) || name === this.cacheName) continue;
      const cache = await caches.open(name);
      const stored = await cache.match(MANIFEST_KEY);
      if (!stored) continue;
      /** @type {PrecacheEntry[]} */
      const previous = await stored.json();
      for (const old of previous) {
        if (reusable.has(old.url) || this.byUrl.get(old.url)?.sha256 !== old.sha256) continue;
        const response = await cache.match(old.url);
        if (response) reusable.set(old.url, response);
      }
    }
    return reusable;
  }
}
