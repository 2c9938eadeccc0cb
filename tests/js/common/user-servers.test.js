// Servers the user adds (app/common/user-servers.js): their names, the entries stored in the mirror, the policy's
// rules for them when they are added or edited, and editing, disabling and removing them with what belongs to them.
import { ORIGIN } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { getAll, getOne, putOne, transact } from "../../../app/common/db.js";
import { getServer, remoteOf, storeRegistryEntries, storeTools } from "../../../app/common/mirror.js";
import { UserServerError } from "../../../app/common/server-input.js";
import {
  addableFromRegistry,
  addServerFromRegistry,
  addServerFromUrl,
  addServersFromJson,
  disabledRefusal,
  isUserServer,
  recordSseFallback,
  removeUserServer,
  serverNameFor,
  setUserServerDisabled,
  updateUserServer,
  userEndpoint,
} from "../../../app/common/user-servers.js";

/** @typedef {import("../../../app/common/policy.js").Policy} Policy */

const unmanaged = { policy: null };
const url = "https://mcp.example.com/v1/mcp";

beforeEach(async () => {
  await transact(["servers", "tools", "approvals", "auth"], "readwrite", (tx) => {
    for (const store of ["servers", "tools", "approvals", "auth"]) tx.objectStore(store).clear();
  });
});

/**
 * @param {Promise<unknown>} promise
 * @param {RegExp} message
 */
async function refused(promise, message) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof UserServerError, `not a UserServerError: ${error}`);
    assert.match(error.message, message);
    return true;
  });
}

describe("names", () => {
  test("user.<host>[-<port>]/<path slug>, in the registry's name pattern", () => {
    const none = new Set();
    assert.equal(serverNameFor("https://mcp.example.com/v1/mcp", none), "user.mcp.example.com/v1-mcp");
    assert.equal(serverNameFor("http://127.0.0.1:8000/mcp/workspace", none), "user.127.0.0.1-8000/mcp-workspace");
    assert.equal(serverNameFor("https://mcp.example.com/", none), "user.mcp.example.com/root");
    assert.equal(serverNameFor("http://[::1]:9000/a%20b/?team=Red", none), "user.-1-9000/a-20b-team-red");
    for (const name of ["user.mcp.example.com/v1-mcp", "user.-1-9000/a-20b-team-red"]) {
      assert.match(name, /^[a-zA-Z0-9.-]+\/[a-zA-Z0-9._-]+$/);
    }
  });

  test("a name already taken gets -2, -3…", () => {
    const taken = new Set(["user.e.com/mcp", "user.e.com/mcp-2"]);
    assert.equal(serverNameFor("https://e.com/MCP", taken), "user.e.com/mcp-3");
  });

  test("long paths are cut, so names stay short", () => {
    assert.ok(serverNameFor(`https://e.com/${"a".repeat(2000)}`, new Set()).length <= 200);
  });
});

describe("adding", () => {
  test("a URL becomes a server.json-like entry marked as the user's", async () => {
    const entry = await addServerFromUrl(` ${url} `, unmanaged);
    assert.deepEqual(await getServer("user.mcp.example.com/v1-mcp"), entry);
    assert.equal(entry.name, entry.server.name);
    assert.equal(entry.server.title, "mcp.example.com/v1/mcp");
    assert.equal(typeof entry.server.description, "string");
    assert.equal(entry.server.version, "0.0.0");
    assert.deepEqual(entry.server.remotes, [{ type: "streamable-http", url }]);
    const meta = entry.server._meta["io.satchel/user"];
    assert.deepEqual({ ...meta, addedAt: 0 }, { addedAt: 0, source: "url", disabled: false, headers: {} });
    assert.equal(typeof meta.addedAt, "number");
    assert.equal(isUserServer(entry), true);
    assert.equal(userEndpoint(entry), url);
  });

  test("the same URL cannot be added twice; another URL with the same slug gets its own name", async () => {
    const first = await addServerFromUrl(url, unmanaged);
    await refused(addServerFromUrl(url, unmanaged), /https:\/\/mcp.example.com\/v1\/mcp is already added, as mcp.example.com\/v1\/mcp/);
    const other = await addServerFromUrl("http://mcp.example.com/v1/mcp", unmanaged);
    assert.deepEqual([first.name, other.name], ["user.mcp.example.com/v1-mcp", "user.mcp.example.com/v1-mcp-2"]);
  });

  test("a pasted configuration adds its remote servers with their headers, and lists the others with why", async () => {
    const { added, refused: notAdded } = await addServersFromJson(JSON.stringify({
      mcpServers: {
        Notes: { url: "https://notes.example.com/mcp", headers: { Authorization: "Bearer t" } },
        Files: { command: "npx" },
        Events: { type: "sse", url: "https://events.example.com/sse" },
      },
    }), unmanaged);
    assert.deepEqual(added.map((entry) => [entry.server.title, entry.server.remotes[0].type, entry.server._meta["io.satchel/user"].headers]), [
      ["Notes", "streamable-http", { Authorization: "Bearer t" }],
      ["Events", "sse", {}],
    ]);
    assert.equal(added[0].server._meta["io.satchel/user"].source, "json");
    assert.deepEqual(notAdded.map((item) => item.key), ["Files"]);
    assert.match(notAdded[0].message, /^Runs only on a desktop: Files starts a program \(npx\)/);
  });

  test("a configuration that cannot be read adds nothing", async () => {
    await refused(addServersFromJson("{", unmanaged), /not valid JSON/);
    assert.deepEqual(await getAll("servers"), []);
  });

  test("from a registry entry: its remote with the values asked for, its title, version and name kept", async () => {
    await storeRegistryEntries([{
      server: {
        name: "com.example/analytics",
        title: "Analytics",
        description: "Numbers",
        version: "2.0.0",
        remotes: [{
          type: "streamable-http",
          url: "https://{tenant}.example.com/mcp",
          variables: { tenant: { isRequired: true } },
          headers: [{ name: "X-API-Key", isRequired: true, isSecret: true }],
        }],
      },
    }]);
    await refused(addServerFromRegistry("com.example/analytics", {}, unmanaged), /Some values are missing/);
    const entry = await addServerFromRegistry("com.example/analytics", { "url:tenant": "acme", "header:X-API-Key": "k" }, unmanaged);
    assert.equal(entry.name, "user.acme.example.com/mcp");
    assert.deepEqual([entry.server.title, entry.server.description, entry.server.version], ["Analytics", "Numbers", "2.0.0"]);
    assert.deepEqual(entry.server.remotes, [{ type: "streamable-http", url: "https://acme.example.com/mcp" }]);
    const meta = entry.server._meta["io.satchel/user"];
    assert.deepEqual([meta.source, meta.registryName, meta.headers], ["registry", "com.example/analytics", { "X-API-Key": "k" }]);
    // The registry's own entry stays as it was.
    assert.equal(isUserServer(/** @type {any} */ (await getServer("com.example/analytics"))), false);
  });

  test("adding from a name that is no registry entry is refused", async () => {
    await refused(addServerFromRegistry("com.example/none", {}, unmanaged), /com.example\/none is not in the registry mirror/);
  });
});

describe("the policy's rules for added servers", () => {
  const clinic = /** @type {Policy} */ ({ version: 1, organization: "Riverside", servers: { allow: ["io.satchel/tools"] } });

  test("servers.allow names registry servers: the user's are governed by servers.userAdded", async () => {
    const open = /** @type {Policy} */ ({ ...clinic, servers: { ...clinic.servers, userAdded: true } });
    assert.equal((await addServerFromUrl(url, { policy: open })).name, "user.mcp.example.com/v1-mcp");
  });

  test("a policy that lists its servers is a closed list unless it says users may add their own", async () => {
    await refused(addServerFromUrl(url, { policy: clinic }), /^Riverside's policy does not allow servers added on this device\.$/);
  });

  test("servers.userAdded false refuses adding, by every way", async () => {
    const policy = /** @type {Policy} */ ({ ...clinic, servers: { userAdded: false } });
    await refused(addServerFromUrl(url, { policy }), /^Riverside's policy does not allow servers added on this device\.$/);
    const { added, refused: notAdded } = await addServersFromJson(JSON.stringify({ mcpServers: { a: { url } } }), { policy });
    assert.deepEqual([added, notAdded.map((item) => item.message)], [[], ["a: Riverside's policy does not allow servers added on this device."]]);
    assert.deepEqual(await getAll("servers"), []);
  });

  test("servers.origins allows only those origins, when adding and when editing", async () => {
    const policy = /** @type {Policy} */ ({ ...clinic, servers: { origins: ["https://mcp.example.com", "http://localhost:8080"] } });
    const entry = await addServerFromUrl(url, { policy });
    await addServerFromUrl("http://localhost:8080/mcp", { policy });
    await refused(
      addServerFromUrl("https://evil.example.net/mcp", { policy }),
      /^Riverside's policy allows added servers only at https:\/\/mcp.example.com, http:\/\/localhost:8080: https:\/\/evil.example.net is not one of them\.$/,
    );
    await refused(addServerFromUrl("http://localhost:8081/mcp", { policy }), /http:\/\/localhost:8081 is not one of them/);
    await refused(updateUserServer(entry.name, { url: "https://evil.example.net/mcp" }, { policy }), /is not one of them/);
    assert.equal((await getServer(entry.name))?.server.remotes[0].url, url);
  });

  test("sync.remoteAllowed false refuses every added server", async () => {
    const policy = /** @type {Policy} */ ({ version: 1, sync: { remoteAllowed: false } });
    await refused(addServerFromUrl(url, { policy }), /keeps everything on this device/);
  });
});

describe("editing, disabling, removing", () => {
  /** Tools and remembered approvals of `name` and of a registry server whose name starts the same. */
  async function seedState(/** @type {string} */ name) {
    for (const server of [name, `${name}-other`]) {
      await storeTools({ server, tools: [{ name: "t" }], hidden: [], fetchedAt: Date.now(), ttlMs: 0, fingerprint: "" });
      await putOne("approvals", { id: `${server}\u0000t`, decision: "always-allow", at: 0 });
      await putOne("auth", { server, url, tokens: { access_token: "token", token_type: "Bearer" } });
    }
  }

  test("edit changes the title and headers and keeps what it learnt from the same URL", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    await seedState(name);
    const edited = await updateUserServer(name, { title: " Example ", headers: { "X-API-Key": "new" } }, unmanaged);
    assert.deepEqual([edited.name, edited.server.title, edited.server._meta["io.satchel/user"].headers], [name, "Example", { "X-API-Key": "new" }]);
    assert.ok(await getOne("tools", name));
    assert.ok(await getOne("approvals", `${name}\u0000t`));
  });

  test("a new URL drops the tools and approvals of the old one (and nobody else's), under the same name", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    await seedState(name);
    const edited = await updateUserServer(name, { url: "https://other.example.com/mcp" }, unmanaged);
    assert.deepEqual([edited.name, edited.server.remotes], [name, [{ type: "streamable-http", url: "https://other.example.com/mcp" }]]);
    assert.equal(await getOne("tools", name), undefined);
    assert.equal(await getOne("approvals", `${name}\u0000t`), undefined);
    assert.equal(await getOne("auth", name), undefined, "no token of the old URL lingers");
    assert.ok(await getOne("tools", `${name}-other`));
    assert.ok(await getOne("approvals", `${name}-other\u0000t`));
    assert.ok(await getOne("auth", `${name}-other`));
  });

  test("edits are checked: a bad URL, a URL another added server has, a bad header", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    await addServerFromUrl("https://two.example.com/mcp", unmanaged);
    await refused(updateUserServer(name, { url: "file:///etc/passwd" }, unmanaged), /Only http:\/\/ and https:\/\//);
    await refused(updateUserServer(name, { url: "https://two.example.com/mcp" }, unmanaged), /already added, as two.example.com\/mcp/);
    await refused(updateUserServer(name, { headers: { Cookie: "x" } }, unmanaged), /^The Cookie header cannot be set/);
    await refused(updateUserServer(name, { title: "" }, unmanaged), /Give the server a name/);
  });

  test("disable and enable", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    const off = await setUserServerDisabled(name, true);
    assert.equal(off.server._meta["io.satchel/user"].disabled, true);
    assert.equal(disabledRefusal(off), 'mcp.example.com/v1/mcp is disabled: enable it under "Servers and tools" to use it');
    const on = await setUserServerDisabled(name, false);
    assert.equal(disabledRefusal(on), null);
  });

  test("remove deletes the server, its tools, its approvals and its sign-in, and nothing else", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    await seedState(name);
    await removeUserServer(name);
    assert.equal(await getServer(name), undefined);
    assert.equal(await getOne("tools", name), undefined);
    assert.equal(await getOne("approvals", `${name}\u0000t`), undefined);
    assert.equal(await getOne("auth", name), undefined);
    assert.ok(await getOne("approvals", `${name}-other\u0000t`));
    assert.ok(await getOne("auth", `${name}-other`));
  });

  test("a registry server cannot be edited, disabled or removed as if it were the user's", async () => {
    await storeRegistryEntries([{ server: { name: "io.satchel/workspace", remotes: [{ type: "streamable-http", url: `${ORIGIN}/mcp/workspace` }] } }]);
    await refused(updateUserServer("io.satchel/workspace", { title: "x" }, unmanaged), /io.satchel\/workspace is not a server you added/);
    await refused(setUserServerDisabled("io.satchel/workspace", true), /is not a server you added/);
    await refused(removeUserServer("io.satchel/workspace"), /is not a server you added/);
    assert.ok(await getServer("io.satchel/workspace"));
  });
});

describe("the transport a server added by URL speaks", () => {
  test("falling back to HTTP+SSE is recorded, so later connections go straight to it", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    const updated = await recordSseFallback(name, url);
    assert.deepEqual(updated?.server.remotes, [{ type: "sse", url }]);
    const stored = await getServer(name);
    assert.deepEqual(remoteOf(/** @type {any} */ (stored)), { type: "sse", url });
    assert.equal(stored?.server._meta["io.satchel/user"].sseFallback, true);
    assert.equal(await recordSseFallback(name, url), null, "nothing to change the second time");
  });

  test("a fallback found at a URL the user has since changed is not recorded", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    await updateUserServer(name, { url: "https://mcp.example.com/v2/mcp" }, unmanaged);
    assert.equal(await recordSseFallback(name, url), null);
    assert.equal((await getServer(name))?.server.remotes[0].type, "streamable-http");
  });

  test("a new URL is tried as Streamable HTTP again; a server declared sse stays sse", async () => {
    const { name } = await addServerFromUrl(url, unmanaged);
    await recordSseFallback(name, url);
    const moved = await updateUserServer(name, { url: "https://mcp.example.com/v2/mcp" }, unmanaged);
    assert.equal(moved.server.remotes[0].type, "streamable-http");
    assert.equal(moved.server._meta["io.satchel/user"].sseFallback, undefined);
    const { added } = await addServersFromJson(JSON.stringify({ mcpServers: { Events: { type: "sse", url: "https://events.example.com/sse" } } }), unmanaged);
    const declared = await updateUserServer(added[0].name, { url: "https://events.example.com/v2/sse" }, unmanaged);
    assert.deepEqual(declared.server.remotes, [{ type: "sse", url: "https://events.example.com/v2/sse" }]);
  });

  test("remoteOf prefers Streamable HTTP, else HTTP+SSE, and skips remotes without a URL", () => {
    const sse = { type: "sse", url: "https://a.example/sse" };
    const streamable = { type: "streamable-http", url: "https://a.example/mcp" };
    assert.equal(remoteOf({ server: { remotes: [sse, streamable] } }), streamable);
    assert.equal(remoteOf({ server: { remotes: [{ type: "streamable-http" }, sse] } }), sse);
    assert.equal(remoteOf({ server: { remotes: [{ type: "ws", url: "wss://a.example" }] } }), null);
    assert.equal(remoteOf({ server: {} }), null);
  });
});

describe("registry entries cannot pass for the user's", () => {
  test("an entry in the user namespace is never stored; one carrying the user key elsewhere is not the user's", async () => {
    const user = { "io.satchel/user": { addedAt: 0, source: "url", disabled: false, headers: { "X-Stolen": "1" } } };
    await storeRegistryEntries([
      { server: { name: "user.mcp.example.com/v1-mcp", remotes: [{ type: "streamable-http", url }], _meta: user } },
      { server: { name: "com.example/fake", remotes: [{ type: "streamable-http", url }], _meta: user } },
    ]);
    assert.equal(await getServer("user.mcp.example.com/v1-mcp"), undefined);
    const fake = /** @type {any} */ (await getServer("com.example/fake"));
    assert.equal(isUserServer(fake), false);
    assert.equal(userEndpoint(fake), undefined);
  });
});

describe("addableFromRegistry", () => {
  /** @param {any} server */
  const entry = (server) => /** @type {any} */ ({ name: server.name, server, official: {}, syncedAt: 0 });

  test("offers an upstream registry's remote servers, templated URLs included", () => {
    assert.equal(addableFromRegistry(entry({ name: "com.example/a", remotes: [{ type: "streamable-http", url: "https://a.example.com/mcp" }] }), ORIGIN), true);
    assert.equal(addableFromRegistry(entry({ name: "com.example/b", remotes: [{ type: "sse", url: "https://{tenant}.example.com/sse" }] }), ORIGIN), true);
  });

  test("not the site's own servers, local ones, package-only ones, or the user's", async () => {
    assert.equal(addableFromRegistry(entry({ name: "io.satchel/workspace", remotes: [{ type: "streamable-http", url: `${ORIGIN}/mcp/workspace` }] }), ORIGIN), false);
    assert.equal(addableFromRegistry(entry({ name: "io.satchel/tools", _meta: { "io.satchel/local": { worker: "w", files: [] } } }), ORIGIN), false);
    assert.equal(addableFromRegistry(entry({ name: "com.example/pkg", packages: [{ registryType: "npm" }] }), ORIGIN), false);
    assert.equal(addableFromRegistry(await addServerFromUrl(url, unmanaged), ORIGIN), false);
  });
});
