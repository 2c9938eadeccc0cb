// The precache (app/sw/precache.js): install stores every file verified against its sha256 (a file of another build
// fails the install), reuses unchanged files from the previous build's cache, writes the manifest last; activation
// removes other builds' caches; a lower bundle release never replaces a higher one. Every read is checked against
// the manifest too: a copy changed in Cache Storage or refetched after eviction is used only when its sha256 matches.
import { fakeFetch, sha256Hex } from "../fakes.js";
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { loadPolicy, policyRefusal } from "../../../app/common/policy.js";
import { compareReleases, Precache, PrecacheError } from "../../../app/sw/precache.js";

/** @type {any} */
const scope = globalThis;

/**
 * A site's files and the precache entries of a build of them.
 * @param {Record<string, string>} files
 */
async function build(files) {
  const entries = await Promise.all(
    Object.entries(files).map(async ([url, text]) => ({ url, sha256: await sha256Hex(text), size: text.length })),
  );
  return entries;
}

/** Serve `files` over fetch; returns the requests made. @param {Record<string, string>} files */
function serve(files) {
  return fakeFetch((request) => {
    const text = files[new URL(request.url).pathname];
    return text === undefined ? new Response("not found", { status: 404 }) : new Response(text);
  });
}

beforeEach(async () => {
  for (const name of await scope.caches.keys()) await scope.caches.delete(name);
});

describe("compareReleases", () => {
  test("orders dotted numbers part by part, missing parts as 0", () => {
    assert.ok(compareReleases("2026.11.25", "2026.2.1") > 0);
    assert.ok(compareReleases("3", "10") < 0);
    assert.equal(compareReleases("1.0", "1"), 0);
  });
});

describe("install", () => {
  test("stores every file, verified, then the manifest", async () => {
    const files = { "/index.html": "<h1>v1</h1>", "/app.js": "console.log(1)" };
    const requests = serve(files);
    const precache = new Precache("build1", await build(files), "/index.html");
    await precache.install();
    assert.deepEqual(requests.map((request) => new URL(request.url).pathname).sort(), ["/app.js", "/index.html"]);
    assert.equal(await (await precache.match("/app.js"))?.text(), "console.log(1)");
    const cache = await scope.caches.open("satchel-precache-build1");
    assert.ok(await cache.match("/__satchel__/precache-manifest.json"));
  });

  test("a file whose bytes are not the build's fails the install, and no manifest is written", async () => {
    const entries = await build({ "/app.js": "console.log(1)" });
    serve({ "/app.js": "console.log(2)" }); // the server already has another build
    const precache = new Precache("build1", entries, "/index.html");
    await assert.rejects(precache.install(), /does not belong to build build1/);
    const cache = await scope.caches.open("satchel-precache-build1");
    assert.equal(await cache.match("/__satchel__/precache-manifest.json"), undefined);
  });

  test("a file the server does not have fails the install", async () => {
    serve({});
    const precache = new Precache("build1", await build({ "/app.js": "x" }), "/index.html");
    await assert.rejects(precache.install(), /answered HTTP 404/);
  });

  test("unchanged files come from the previous build's cache; only changed ones are downloaded", async () => {
    const v1 = { "/index.html": "<h1>v1</h1>", "/app.js": "console.log(1)", "/styles.css": "body{}" };
    serve(v1);
    await new Precache("build1", await build(v1), "/index.html").install();
    const v2 = { ...v1, "/app.js": "console.log(2)" };
    const requests = serve(v2);
    const precache = new Precache("build2", await build(v2), "/index.html");
    await precache.install();
    assert.deepEqual(requests.map((request) => new URL(request.url).pathname), ["/app.js"]);
    assert.equal(await (await precache.match("/styles.css"))?.text(), "body{}");
    assert.equal(await (await precache.match("/app.js"))?.text(), "console.log(2)");
  });

  test("an earlier cache without its manifest (an interrupted install) is not reused", async () => {
    const files = { "/app.js": "console.log(1)" };
    const stale = await scope.caches.open("satchel-precache-old");
    await stale.put("/app.js", new Response("console.log(1)"));
    const requests = serve(files);
    await new Precache("build1", await build(files), "/index.html").install();
    assert.equal(requests.length, 1);
  });

  test("a lower release than a complete cache on the device holds is refused", async () => {
    const files = { "/app.js": "x" };
    serve(files);
    await new Precache("build2", await build(files), "/index.html", "2026.2").install();
    await assert.rejects(
      new Precache("build1", await build(files), "/index.html", "2026.1").install(),
      /release 2026.1 is older than release 2026.2/,
    );
    await new Precache("build3", await build(files), "/index.html", "2026.3").install();
  });
});

describe("activate and respond", () => {
  test("activation removes other builds' caches only", async () => {
    await scope.caches.open("satchel-precache-old");
    await scope.caches.open("satchel-models");
    await new Precache("new", [], "/index.html").activate();
    assert.deepEqual(await scope.caches.keys(), ["satchel-models"]);
  });

  test("answers the build's files and navigations from this build's cache, nothing else", async () => {
    const files = { "/index.html": "<h1>shell</h1>", "/app.js": "x" };
    serve(files);
    const precache = new Precache("build1", await build(files), "/index.html");
    await precache.install();
    const request = (/** @type {string} */ path, /** @type {RequestInit} */ init = {}) => new Request(`https://satchel.test${path}`, init);
    assert.equal(await (await precache.respond(request("/app.js")))?.text(), "x");
    assert.equal(await (await precache.respond(request("/")))?.text(), "<h1>shell</h1>");
    assert.equal(precache.respond(request("/other.js")), null);
    assert.equal(precache.respond(request("/app.js", { method: "POST", body: "" })), null);
    assert.equal(precache.respond(new Request("https://elsewhere.test/app.js")), null);
  });

  test("navigations get the shell, except to the pages the server renders itself (the workspace's sign-in)", async () => {
    const files = { "/index.html": "<h1>shell</h1>" };
    serve(files);
    const precache = new Precache("build1", await build(files), "/index.html");
    await precache.install();
    // `new Request()` cannot make a navigation request: this is what respond() reads of one.
    const navigation = (/** @type {string} */ path) =>
      /** @type {Request} */ (/** @type {unknown} */ ({ method: "GET", mode: "navigate", url: `https://satchel.test${path}` }));
    assert.equal(await (await precache.respond(navigation("/notes/today")))?.text(), "<h1>shell</h1>");
    assert.equal(precache.respond(navigation("/authorize")), null);
    assert.equal(precache.respond(navigation("/workspace/sign-in")), null);
  });
});

/** A request for a path of the site, as a page makes it. @param {string} path */
const get = (path) => new Request(`https://satchel.test${path}`);

/** Install a build of `files` and return its precache. @param {Record<string, string>} files */
async function installed(files) {
  serve(files);
  const precache = new Precache("build1", await build(files), "/index.html");
  await precache.install();
  return precache;
}

/** Replace a stored file's bytes, as a page script can with the Cache API. @param {string} path @param {string} text */
async function overwrite(path, text) {
  await (await scope.caches.open("satchel-precache-build1")).put(path, new Response(text));
}

/** Answer every fetch with a network error, as when the device is offline. */
const offline = () =>
  fakeFetch(() => {
    throw new TypeError("Failed to fetch");
  });

describe("reads checked against the manifest", () => {
  const files = { "/index.html": "<h1>shell</h1>", "/app.js": "console.log(1)", "/styles.css": "body{}" };

  test("a stored file changed in Cache Storage is fetched again, checked, and stored in its place", async () => {
    const precache = await installed(files);
    await overwrite("/app.js", "stealTokens()");
    const requests = serve(files);
    assert.equal(await (await precache.verified("/app.js")).text(), "console.log(1)");
    assert.equal(await (await precache.respond(get("/app.js")))?.text(), "console.log(1)");
    assert.deepEqual(requests.map((request) => new URL(request.url).pathname), ["/app.js"]); // repaired once
    assert.equal(await (await precache.match("/app.js"))?.text(), "console.log(1)");
  });

  test("a changed stored file that cannot be fetched intact is refused, and the other files are still served", async () => {
    const precache = await installed(files);
    await overwrite("/app.js", "stealTokens()");
    serve({ ...files, "/app.js": "console.log(2)" }); // the server has moved on to another build
    await assert.rejects(precache.verified("/app.js"), (error) => {
      assert.ok(error instanceof PrecacheError);
      assert.match(error.message, /\/app\.js does not belong to build build1/);
      return true;
    });
    const refused = await precache.respond(get("/app.js"));
    assert.equal(refused?.status, 502);
    assert.match(await /** @type {Response} */ (refused).text(), /\/app\.js does not belong to build build1/);
    assert.equal(await (await precache.respond(get("/styles.css")))?.text(), "body{}");
    assert.equal(await (await precache.match("/app.js"))?.text(), "stealTokens()", "nothing unverified is stored");
  });

  test("after eviction a file is fetched again and stored only when its sha256 is the manifest's", async () => {
    const precache = await installed(files);
    await scope.caches.delete("satchel-precache-build1"); // the browser evicted the site's storage
    serve({ ...files, "/app.js": "injected()" });
    const refused = await precache.respond(get("/app.js"));
    assert.equal(refused?.status, 502);
    assert.match(await /** @type {Response} */ (refused).text(), /\/app\.js does not belong to build build1/);
    assert.equal(await precache.match("/app.js"), undefined);
    assert.equal(await (await precache.respond(get("/")))?.text(), "<h1>shell</h1>");
    assert.equal(await (await precache.match("/index.html"))?.text(), "<h1>shell</h1>", "stored back once checked");
  });

  test("after eviction, offline: a network error, as for any fetch", async () => {
    const precache = await installed(files);
    await scope.caches.delete("satchel-precache-build1");
    offline();
    await assert.rejects(/** @type {Promise<Response>} */ (precache.respond(get("/app.js"))), TypeError);
  });

  test("a path outside the manifest is not verified as the build's", async () => {
    const precache = await installed(files);
    await assert.rejects(precache.verified("/other.js"), /\/other\.js is not a file of build build1/);
  });
});

describe("the managed policy, read through the precache", () => {
  const policy = { version: 1, organization: "Riverside Clinic", tools: { deny: ["io.satchel/tools:csv_query"] } };
  const files = { "/index.html": "<h1>shell</h1>", "/policy.json": JSON.stringify(policy) };
  const lifted = JSON.stringify({ version: 1, organization: "Riverside Clinic" });
  const read = (/** @type {Precache} */ precache) => (/** @type {string} */ url) => precache.verified(url);

  test("a policy a page script rewrote in Cache Storage is replaced by the build's: a denied tool stays denied", async () => {
    const precache = await installed(files);
    await overwrite("/policy.json", lifted);
    serve(files);
    const loaded = await loadPolicy(true, read(precache));
    assert.equal(
      policyRefusal(loaded, "io.satchel/tools", { remote: false, tool: "csv_query" }),
      "csv_query of io.satchel/tools is blocked by Riverside Clinic's policy",
    );
    assert.equal(await (await precache.match("/policy.json"))?.text(), files["/policy.json"]);
  });

  test("a rewritten policy that cannot be fetched again is refused: the managed app fails closed", async () => {
    const precache = await installed(files);
    await overwrite("/policy.json", lifted);
    offline();
    await assert.rejects(loadPolicy(true, read(precache)), /\/policy\.json is missing: Failed to fetch/);
    serve({ ...files, "/policy.json": lifted }); // the server itself serves another policy
    await assert.rejects(loadPolicy(true, read(precache)), /\/policy\.json does not belong to build build1/);
  });
});
