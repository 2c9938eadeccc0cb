// The managed policy's rules (app/common/policy.js): what a valid document is, that a managed build without one
// refuses to start, and what each rule allows.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  loadPolicy,
  PolicyError,
  policyProblems,
  policyRefusal,
  redactionRequired,
  remoteAllowed,
  serverAllowed,
  toolAlwaysAsks,
  toolDenied,
  userServerRefusal,
  userServersAllowed,
} from "../../../app/common/policy.js";

/** @typedef {import("../../../app/common/policy.js").Policy} Policy */

const policy = /** @type {Policy} */ ({
  version: 1,
  organization: "Riverside Clinic",
  servers: { allow: ["io.satchel/tools", "io.satchel/workspace"] },
  tools: { deny: ["io.satchel/workspace:delete_note"], alwaysAsk: ["io.satchel/workspace:save_note"] },
  sync: { remoteAllowed: true, redactBeforeSync: true },
});

describe("policyProblems", () => {
  test("a valid policy has none", () => {
    assert.deepEqual(policyProblems(policy), []);
  });

  test("names every problem of a malformed policy", () => {
    const problems = policyProblems({
      version: 2,
      organization: 3,
      servers: { allow: "io.satchel/tools" },
      tools: { deny: ["no-colon"] },
      sync: { remoteAllowed: "yes" },
      upstreamRegistries: 1,
    });
    assert.deepEqual(problems, [
      "version must be 1, not 2",
      "organization must be text",
      "servers.allow must be a list of names",
      'tools.deny must be a list of "server:tool"',
      "sync.remoteAllowed must be true or false",
      "upstreamRegistries must be true or false",
    ]);
  });

  test("servers.userAdded and servers.origins: a boolean and a list of http(s) origins", () => {
    const valid = { ...policy, servers: { userAdded: true, origins: ["https://tools.example.org", "http://localhost:8080/"] } };
    assert.deepEqual(policyProblems(valid), []);
    for (const origins of [["https://tools.example.org/mcp"], ["ftp://tools.example.org"], ["tools.example.org"], "https://x.org", [1]]) {
      assert.deepEqual(policyProblems({ ...policy, servers: { origins } }), [
        'servers.origins must be a list of origins such as "https://tools.example.org"',
      ]);
    }
    assert.deepEqual(policyProblems({ ...policy, servers: { userAdded: "no" } }), ["servers.userAdded must be true or false"]);
  });

  test("a policy that is not an object", () => {
    assert.deepEqual(policyProblems([]), ["the policy is not a JSON object"]);
  });
});

describe("loadPolicy", () => {
  test("an unmanaged build has no policy and reads nothing", async () => {
    assert.equal(await loadPolicy(false, () => assert.fail("read")), null);
  });

  test("a managed build reads and checks /policy.json", async () => {
    assert.deepEqual(await loadPolicy(true, async () => Response.json(policy)), policy);
  });

  for (const [what, read, message] of [
    ["missing", async () => new Response("", { status: 404 }), /is missing \(HTTP 404\)/],
    ["unreadable", async () => Promise.reject(new Error("offline")), /is missing: offline/],
    ["not JSON", async () => new Response("{"), /is not valid JSON/],
    ["malformed", async () => Response.json({ version: 2 }), /is malformed: version must be 1/],
  ]) {
    test(`a managed build refuses a policy that is ${what}`, async () => {
      await assert.rejects(loadPolicy(true, /** @type {any} */ (read)), (error) => {
        assert.ok(error instanceof PolicyError);
        assert.match(error.message, /** @type {RegExp} */ (message));
        return true;
      });
    });
  }
});

describe("the rules", () => {
  test("without a policy everything is allowed", () => {
    assert.equal(serverAllowed(null, "io.example/any"), true);
    assert.equal(toolDenied(null, "io.example/any", "x"), false);
    assert.equal(toolAlwaysAsks(null, "io.example/any", "x"), false);
    assert.equal(remoteAllowed(null), true);
    assert.equal(policyRefusal(null, "io.example/any", { remote: true, tool: "x" }), null);
  });

  test("servers.allow, tools.deny and tools.alwaysAsk", () => {
    assert.equal(serverAllowed(policy, "io.satchel/tools"), true);
    assert.equal(serverAllowed(policy, "io.example/other"), false);
    assert.equal(toolDenied(policy, "io.satchel/workspace", "delete_note"), true);
    assert.equal(toolDenied(policy, "io.satchel/workspace", "save_note"), false);
    assert.equal(toolAlwaysAsks(policy, "io.satchel/workspace", "save_note"), true);
  });

  test("policyRefusal says why, naming the organisation", () => {
    assert.equal(
      policyRefusal(policy, "io.example/other", { remote: true }),
      "io.example/other is not allowed by Riverside Clinic's policy",
    );
    assert.equal(
      policyRefusal(policy, "io.satchel/workspace", { remote: true, tool: "delete_note" }),
      "delete_note of io.satchel/workspace is blocked by Riverside Clinic's policy",
    );
    assert.equal(policyRefusal(policy, "io.satchel/workspace", { remote: true, tool: "save_note" }), null);
  });

  test("sync.remoteAllowed false refuses remote servers only", () => {
    const local = /** @type {Policy} */ ({ version: 1, sync: { remoteAllowed: false } });
    assert.equal(
      policyRefusal(local, "io.satchel/workspace", { remote: true }),
      "your organisation's policy keeps everything on this device: io.satchel/workspace is remote",
    );
    assert.equal(policyRefusal(local, "io.satchel/tools", { remote: false }), null);
  });

  test("servers the user adds: allowed unless servers.userAdded is false (or a servers.allow list leaves it out), at any origin unless servers.origins lists them", () => {
    assert.equal(userServersAllowed(null), true);
    assert.equal(userServersAllowed({ version: 1 }), true);
    assert.equal(userServersAllowed(policy), false, "servers.allow without servers.userAdded is a closed list");
    assert.equal(userServersAllowed({ ...policy, servers: { ...policy.servers, userAdded: true } }), true);
    assert.equal(userServerRefusal(null, "https://any.example/mcp"), null);
    assert.equal(userServerRefusal({ version: 1 }, "https://any.example/mcp"), null);
    const closed = /** @type {Policy} */ ({ ...policy, servers: { userAdded: false } });
    assert.equal(userServersAllowed(closed), false);
    assert.equal(userServerRefusal(closed, "https://any.example/mcp"), "Riverside Clinic's policy does not allow servers added on this device");
    const listed = /** @type {Policy} */ ({ version: 1, servers: { origins: ["https://tools.example.org", "http://localhost:8080/"] } });
    assert.equal(userServerRefusal(listed, "https://tools.example.org/v1/mcp"), null);
    assert.equal(userServerRefusal(listed, "https://TOOLS.example.org:443/mcp"), null);
    assert.equal(userServerRefusal(listed, "http://localhost:8080/mcp"), null);
    assert.equal(
      userServerRefusal(listed, "http://tools.example.org/mcp"),
      "your organisation's policy allows added servers only at https://tools.example.org, http://localhost:8080/: http://tools.example.org is not one of them",
    );
    assert.match(/** @type {string} */ (userServerRefusal({ version: 1, servers: { origins: [] } }, "https://x.org/")), /only at no origin at all/);
  });

  test("policyRefusal judges a user's server by the rules for those, not by servers.allow", () => {
    const listed = /** @type {Policy} */ ({ ...policy, servers: { allow: ["io.satchel/tools"], origins: ["https://tools.example.org"], userAdded: true } });
    assert.equal(policyRefusal(listed, "user.tools.example.org/mcp", { remote: true, userUrl: "https://tools.example.org/mcp" }), null);
    assert.match(
      /** @type {string} */ (policyRefusal(listed, "user.x.org/mcp", { remote: true, userUrl: "https://x.org/mcp" })),
      /allows added servers only at https:\/\/tools.example.org: https:\/\/x.org is not one of them/,
    );
    assert.equal(
      policyRefusal(listed, "user.tools.example.org/mcp", { remote: true, tool: "t", userUrl: "https://tools.example.org/mcp" }),
      null,
    );
    const deny = /** @type {Policy} */ ({ ...listed, tools: { deny: ["user.tools.example.org/mcp:t"] } });
    assert.match(/** @type {string} */ (policyRefusal(deny, "user.tools.example.org/mcp", { remote: true, tool: "t", userUrl: "https://tools.example.org/mcp" })), /blocked/);
  });

  test("sync.redactBeforeSync true makes redaction compulsory; absent or false leaves it to the user", () => {
    assert.equal(redactionRequired(/** @type {Policy} */ ({ version: 1, sync: { redactBeforeSync: true } })), true);
    assert.equal(redactionRequired(/** @type {Policy} */ ({ version: 1, sync: { redactBeforeSync: false } })), false);
    assert.equal(redactionRequired(policy), true);
    assert.equal(redactionRequired(/** @type {Policy} */ ({ version: 1 })), false);
    assert.equal(redactionRequired(null), false);
  });
});
