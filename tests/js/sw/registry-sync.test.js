// The registry sync (app/sw/registry-sync.js) and the servers the user added: neither seeding a new version's
// snapshot nor pulling the registry overwrites or deletes them, whatever the registry lists.
import { fakeFetch } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { transact } from "../../../app/common/db.js";
import { getServer, listServers, OFFICIAL_META_KEY } from "../../../app/common/mirror.js";
import { addServerFromUrl, setUserServerDisabled } from "../../../app/common/user-servers.js";
import { seedFromSnapshot, syncRegistry } from "../../../app/sw/registry-sync.js";

const USER_URL = "https://tools.example.org/mcp";

/**
 * A registry list entry.
 * @param {string} name
 * @param {"active" | "deleted"} [status]
 */
const listed = (name, status = "active") => ({
  server: { name, version: "1.0.0", remotes: [{ type: "streamable-http", url: `https://registry.example/${name}` }] },
  _meta: { [OFFICIAL_META_KEY]: { status, isLatest: true, updatedAt: "2026-12-01T00:00:00Z" } },
});

/** A build's precache holding `entries` as its registry snapshot. @param {any[]} entries @returns {any} */
const precacheWith = (entries) => ({ match: async () => Response.json({ servers: entries }) });

/** @type {import("../../../app/common/mirror.js").MirroredServer} */
let added;

beforeEach(async () => {
  await transact(["servers", "meta"], "readwrite", (tx) => {
    tx.objectStore("servers").clear();
    tx.objectStore("meta").clear();
  });
  added = await setUserServerDisabled((await addServerFromUrl(USER_URL, { policy: null })).name, true);
});

describe("servers the user added survive", () => {
  test("a new version's snapshot, even one naming them", async () => {
    await seedFromSnapshot(precacheWith([listed("io.satchel/tools"), listed(added.name)]), null);
    assert.deepEqual(await getServer(added.name), added);
    assert.ok(await getServer("io.satchel/tools"));
  });

  test("a registry sync that lists their names, active or deleted", async () => {
    for (const status of /** @type {const} */ (["active", "deleted"])) {
      fakeFetch(() => Response.json({ servers: [listed("com.example/other"), listed(added.name, status)], metadata: {} }));
      const outcome = await syncRegistry(null, precacheWith([]));
      assert.equal(outcome.changed, 2);
      assert.deepEqual(await getServer(added.name), added);
    }
    assert.deepEqual((await listServers()).map((entry) => entry.name), ["com.example/other", added.name]);
  });

  test("a managed policy's filter, which keeps only the site's own registry servers", async () => {
    fakeFetch(() => Response.json({ servers: [listed("com.example/other")], metadata: {} }));
    await syncRegistry({ version: 1, servers: { allow: ["io.satchel/tools"] } }, precacheWith([]));
    assert.deepEqual((await listServers()).map((entry) => entry.name), [added.name]);
  });
});
