// Servers the user adds: by pasting a URL, by pasting an `mcpServers` configuration (server-input.js reads it), or
// from an entry of an upstream registry with the values it asks for (registry-remote.js). They live in the mirror's
// `servers` store as ordinary entries with `_meta["io.satchel/user"]` (mirror.js, UserServerMeta), where a registry
// sync never touches them, and where the user edits, disables and removes them. The policy's rules for them
// (`servers.userAdded`, `servers.origins`) apply when one is added or edited here, and in the router on every call.
//
// Names: `user.<host>[-<port>]/<path-slug>`, e.g. `https://mcp.example.com/v1/mcp` → `user.mcp.example.com/v1-mcp`
// (the path and query lowercased, every run of other characters than a-z 0-9 . _ - made one "-", "root" for "/"),
// followed by `-2`, `-3`… when a server the user added earlier already has that name. They follow the registry's
// name pattern (`namespace/name`), cannot collide with a registry's names (USER_NAMESPACE), and are unique per URL:
// one URL cannot be added twice. A name never changes (tools, approvals and the queue refer to it), even when the
// user edits the URL.
//
// Transports: a server added by URL is tried as Streamable HTTP; one that refuses that handshake as an older server
// does (400, 404, 405) and answers the older HTTP+SSE transport is recorded as `sse` (recordSseFallback), until its
// URL changes. A pasted configuration or a registry entry says which transport it speaks.
import { result, transact } from "./db.js";
import { getServer, isUserServer, localConfig, USER_META_KEY, USER_NAMESPACE, userMeta } from "./mirror.js";
import { policyRefusal } from "./policy.js";
import { registryRemote, resolveRegistryRemote } from "./registry-remote.js";
import { checkHeaders, checkServerUrl, checkTitle, clip, MAX_TITLE_LENGTH, parseServerConfig, titleFromUrl, UserServerError } from "./server-input.js";

export { isUserServer } from "./mirror.js";

/** Slugs are cut to this length so that names stay readable (and under the registry's 200 characters). */
const MAX_SLUG_LENGTH = 60;
const MAX_HOST_PART_LENGTH = 120;

/** @typedef {import("./mirror.js").MirroredServer} MirroredServer */
/** @typedef {import("./mirror.js").UserServerMeta} UserServerMeta */
/** @typedef {import("./policy.js").Policy} Policy */
/** @typedef {import("./server-input.js").RemoteSpec} RemoteSpec */

/**
 * The name a new user server at `url` gets (see the top of this module).
 * @param {string} url a URL checked by checkServerUrl
 * @param {Set<string>} taken names already in the mirror
 */
export function serverNameFor(url, taken) {
  const parsed = new URL(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, "").toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
  const hostPart = `${host}${parsed.port ? `-${parsed.port}` : ""}`.slice(0, MAX_HOST_PART_LENGTH);
  const slug = `${parsed.pathname}${parsed.search}`
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .slice(0, MAX_SLUG_LENGTH)
    .replace(/^[-.]+|[-.]+$/g, "");
  const base = `${USER_NAMESPACE}${hostPart}/${slug || "root"}`;
  let name = base;
  for (let n = 2; taken.has(name); n += 1) name = `${base}-${n}`;
  return name;
}

/**
 * The mirror entry of a new user server.
 * @param {{name: string, title: string, description: string, version?: string, spec: RemoteSpec,
 *   source: UserServerMeta["source"], registryName?: string, now: number}} details
 * @returns {MirroredServer}
 */
export function userServerEntry({ name, title, description, version, spec, source, registryName, now }) {
  /** @type {UserServerMeta} */
  const meta = { addedAt: now, source, disabled: false, headers: spec.headers };
  if (registryName !== undefined) meta.registryName = registryName;
  return {
    name,
    server: {
      name,
      title,
      description,
      // The registry's version when it came from one; otherwise unknown until the server names its own.
      version: version ?? "0.0.0",
      remotes: [{ type: spec.type, url: spec.url }],
      _meta: { [USER_META_KEY]: meta },
    },
    official: {},
    syncedAt: now,
  };
}

/** The endpoint of a user server (it has exactly one). @param {MirroredServer} entry @returns {string} */
export const userServerUrl = (entry) => entry.server.remotes[0].url;

/**
 * Refuse what the policy does not allow a user server at `url` to be.
 * @param {Policy | null} policy
 * @param {string} url
 * @param {string} [field] the form field of the URL
 */
function enforcePolicy(policy, url, field = "url") {
  const refusal = policyRefusal(policy, url, { remote: true, userUrl: url });
  if (refusal) throw new UserServerError(`${refusal}.`, field);
}

/**
 * Store a new user server (one transaction: the URL is checked against every server already added).
 * @param {RemoteSpec} spec
 * @param {{title: string, description: string, version?: string, source: UserServerMeta["source"], registryName?: string}} details
 * @param {Policy | null} policy
 * @returns {Promise<MirroredServer>}
 */
async function storeNewServer(spec, details, policy) {
  enforcePolicy(policy, spec.url);
  return transact("servers", "readwrite", async (tx) => {
    const store = tx.objectStore("servers");
    /** @type {MirroredServer[]} */
    const all = await result(store.getAll());
    const same = all.find((entry) => isUserServer(entry) && userServerUrl(entry) === spec.url);
    if (same) throw new UserServerError(`${spec.url} is already added, as ${same.server.title ?? same.name}`, "url");
    const name = serverNameFor(spec.url, new Set(all.map((entry) => entry.name)));
    const entry = userServerEntry({ ...details, name, spec, now: Date.now() });
    store.put(entry);
    return entry;
  });
}

/**
 * Add the server at a pasted URL (Streamable HTTP).
 * @param {string} text
 * @param {{policy: Policy | null}} options
 */
export function addServerFromUrl(text, { policy }) {
  const url = checkServerUrl(text);
  const spec = { type: /** @type {const} */ ("streamable-http"), url, headers: {} };
  return storeNewServer(spec, { title: titleFromUrl(url), description: `Added from ${clip(url, 200)}`, source: "url" }, policy);
}

/**
 * Add every remote server of a pasted configuration; each that cannot be added (a program, a bad URL, a URL added
 * before, one the policy forbids) is listed with its reason. Throws only for a configuration that cannot be read.
 * @param {string} text
 * @param {{policy: Policy | null}} options
 * @returns {Promise<{added: MirroredServer[], refused: {key: string, message: string}[]}>}
 */
export async function addServersFromJson(text, { policy }) {
  /** @type {MirroredServer[]} */
  const added = [];
  /** @type {{key: string, message: string}[]} */
  const refused = [];
  for (const { key, spec, error } of parseServerConfig(text)) {
    if (!spec) {
      refused.push({ key, message: /** @type {string} */ (error) });
      continue;
    }
    try {
      added.push(await storeNewServer(spec, { title: key, description: `Added from a pasted configuration (${clip(spec.url, 200)})`, source: "json" }, policy));
    } catch (failure) {
      if (!(failure instanceof UserServerError)) throw failure;
      refused.push({ key, message: `${key}: ${failure.message}` });
    }
  }
  return { added, refused };
}

/**
 * Add a server of an upstream registry in the mirror, with the values the user gave for its inputs.
 * @param {string} registryName
 * @param {Record<string, string | undefined>} values by AskedInput key
 * @param {{policy: Policy | null}} options
 */
export async function addServerFromRegistry(registryName, values, { policy }) {
  const entry = await getServer(registryName);
  if (!entry || isUserServer(entry)) throw new UserServerError(`${registryName} is not in the registry mirror`);
  const spec = resolveRegistryRemote(registryRemote(entry.server), values);
  const { title, description, version } = entry.server;
  return storeNewServer(
    spec,
    {
      title: typeof title === "string" && title ? clip(title, MAX_TITLE_LENGTH) : registryName,
      description: typeof description === "string" ? description : `From the registry entry ${registryName}`,
      version: typeof version === "string" ? version : undefined,
      source: "registry",
      registryName,
    },
    policy,
  );
}

/**
 * Read a user server for a change, inside a transaction.
 * @param {IDBObjectStore} store
 * @param {string} name
 * @returns {Promise<MirroredServer>}
 */
async function userServerIn(store, name) {
  /** @type {MirroredServer | undefined} */
  const entry = await result(store.get(name));
  if (!entry || !isUserServer(entry)) throw new UserServerError(`${name} is not a server you added`);
  return entry;
}

/**
 * Forget what was learnt from a server: its tool list, the user's remembered approvals of its tools (keyed
 * `<server>\u0000<tool>` by page/approval.js) and its sign-in (tokens, client registration: common/oauth.js).
 * @param {IDBTransaction} tx over "tools", "approvals" and "auth"
 * @param {string} name
 */
function forgetServerState(tx, name) {
  tx.objectStore("tools").delete(name);
  tx.objectStore("auth").delete(name);
  tx.objectStore("approvals").delete(IDBKeyRange.bound(`${name}\u0000`, `${name}\u0001`));
}

/**
 * Change a user server's URL, title or headers (what is not given stays). A new URL is a new server: its tool list,
 * remembered approvals and sign-in are dropped, so nothing decided for the old one carries over.
 * @param {string} name
 * @param {{url?: string, title?: string, headers?: Record<string, string>}} changes
 * @param {{policy: Policy | null}} options
 * @returns {Promise<MirroredServer>}
 */
export async function updateUserServer(name, changes, { policy }) {
  const url = changes.url === undefined ? undefined : checkServerUrl(changes.url);
  const title = changes.title === undefined ? undefined : checkTitle(changes.title);
  const headers = changes.headers === undefined ? undefined : checkHeaders(changes.headers);
  if (url !== undefined) enforcePolicy(policy, url);
  return transact(["servers", "tools", "approvals", "auth"], "readwrite", async (tx) => {
    const store = tx.objectStore("servers");
    const entry = await userServerIn(store, name);
    const meta = /** @type {UserServerMeta} */ (userMeta(entry));
    const moved = url !== undefined && url !== userServerUrl(entry);
    if (moved) {
      /** @type {MirroredServer[]} */
      const all = await result(store.getAll());
      const same = all.find((other) => other.name !== name && isUserServer(other) && userServerUrl(other) === url);
      if (same) throw new UserServerError(`${url} is already added, as ${same.server.title ?? same.name}`, "url");
      forgetServerState(tx, name);
    }
    // A new URL may speak Streamable HTTP even where the old one fell back to HTTP+SSE: it is tried afresh.
    const { sseFallback, ...kept } = meta;
    const forgetFallback = moved && sseFallback === true;
    const server = {
      ...entry.server,
      title: title ?? entry.server.title,
      remotes: [{ ...entry.server.remotes[0], url: url ?? userServerUrl(entry), ...(forgetFallback ? { type: "streamable-http" } : {}) }],
      _meta: { ...entry.server._meta, [USER_META_KEY]: { ...(forgetFallback ? kept : meta), headers: headers ?? meta.headers } },
    };
    const updated = { ...entry, server };
    store.put(updated);
    return updated;
  });
}

/**
 * Remember that a user server added as Streamable HTTP answers only the older HTTP+SSE transport (the page found out
 * by falling back, as MCP clients do), so that later connections go straight to SSE. Nothing changes when the user
 * has meanwhile changed its URL, or its remote is no longer Streamable HTTP.
 * @param {string} name
 * @param {string} url the URL the fallback reached
 * @returns {Promise<MirroredServer | null>} the updated entry, or null when nothing changed
 */
export function recordSseFallback(name, url) {
  return transact("servers", "readwrite", async (tx) => {
    const store = tx.objectStore("servers");
    const entry = await userServerIn(store, name);
    const [remote] = entry.server.remotes;
    if (remote.type !== "streamable-http" || remote.url !== url) return null;
    const meta = /** @type {UserServerMeta} */ (userMeta(entry));
    const server = {
      ...entry.server,
      remotes: [{ ...remote, type: "sse" }],
      _meta: { ...entry.server._meta, [USER_META_KEY]: { ...meta, sseFallback: true } },
    };
    const updated = { ...entry, server };
    store.put(updated);
    return updated;
  });
}

/**
 * Turn a user server off (the router refuses every call to it) or on again.
 * @param {string} name
 * @param {boolean} disabled
 * @returns {Promise<MirroredServer>}
 */
export function setUserServerDisabled(name, disabled) {
  return transact("servers", "readwrite", async (tx) => {
    const store = tx.objectStore("servers");
    const entry = await userServerIn(store, name);
    const meta = /** @type {UserServerMeta} */ (userMeta(entry));
    const updated = { ...entry, server: { ...entry.server, _meta: { ...entry.server._meta, [USER_META_KEY]: { ...meta, disabled } } } };
    store.put(updated);
    return updated;
  });
}

/**
 * Remove a user server, its mirrored tools, the approvals remembered for them and its sign-in.
 * @param {string} name
 */
export function removeUserServer(name) {
  return transact(["servers", "tools", "approvals", "auth"], "readwrite", async (tx) => {
    await userServerIn(tx.objectStore("servers"), name);
    tx.objectStore("servers").delete(name);
    forgetServerState(tx, name);
  });
}

/**
 * The endpoint the policy judges a server by when the user added it (`policyRefusal`'s `userUrl`); undefined for a
 * registry server.
 * @param {MirroredServer} entry
 */
export const userEndpoint = (entry) => (isUserServer(entry) ? userServerUrl(entry) : undefined);

/**
 * Why a server cannot be reached because the user turned it off, or null.
 * @param {MirroredServer} entry
 * @returns {string | null}
 */
export const disabledRefusal = (entry) =>
  userMeta(entry)?.disabled ? `${entry.server.title ?? entry.name} is disabled: enable it under "Servers and tools" to use it` : null;

/**
 * Whether the servers list offers to add a registry entry: a remote server of an upstream registry with an endpoint
 * a browser can use. Not a server the user added, not a local one, and not one at this site's own origin (the
 * workspace), which works as it is.
 * @param {MirroredServer} entry
 * @param {string} siteOrigin
 */
export function addableFromRegistry(entry, siteOrigin) {
  if (isUserServer(entry) || localConfig(entry)) return false;
  const remotes = (Array.isArray(entry.server?.remotes) ? entry.server.remotes : []).filter(
    (/** @type {any} */ remote) => (remote?.type === "streamable-http" || remote?.type === "sse") && typeof remote.url === "string",
  );
  const atSite = remotes.some((/** @type {any} */ remote) => URL.canParse(remote.url) && new URL(remote.url).origin === siteOrigin);
  return remotes.length > 0 && !atSite;
}
