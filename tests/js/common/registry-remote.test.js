// Adding a server of an upstream registry (app/common/registry-remote.js): which endpoint is used, what the user is
// asked for (server.json's URL variables and headers), and the endpoint and headers made from the answers.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { inputsFormSchema, needsValues, registryInputs, registryRemote, resolveRegistryRemote } from "../../../app/common/registry-remote.js";
import { UserServerError } from "../../../app/common/server-input.js";

const analytics = {
  name: "com.example/analytics",
  title: "Analytics",
  remotes: [
    { type: "sse", url: "https://{tenant}.example.com/sse" },
    {
      type: "streamable-http",
      url: "https://{tenant}.example.com/{region}/mcp",
      variables: {
        tenant: { description: "Your tenant", isRequired: true },
        region: { choices: ["eu", "us"], default: "eu" },
      },
      headers: [
        { name: "X-API-Key", description: "API key", isRequired: true, isSecret: true },
        { name: "X-Client", value: "satchel" },
        { name: "Authorization", value: "Bearer {token}", variables: { token: { isRequired: true, isSecret: true } } },
        { name: "X-Trace", isRequired: false },
      ],
    },
  ],
};
const remote = analytics.remotes[1];

/**
 * @param {() => unknown} run
 * @returns {UserServerError}
 */
function refusal(run) {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof UserServerError);
    return error;
  }
  assert.fail("accepted");
}

describe("registryRemote", () => {
  test("prefers Streamable HTTP, else SSE", () => {
    assert.equal(registryRemote(analytics), remote);
    assert.equal(registryRemote({ remotes: [analytics.remotes[0]] }), analytics.remotes[0]);
  });

  test("a server with only packages runs only on a desktop", () => {
    const error = refusal(() => registryRemote({ title: "Files", packages: [{ registryType: "npm", identifier: "files" }] }));
    assert.match(error.message, /^Runs only on a desktop: Files is installed as a package/);
  });

  test("a server without a usable remote says so", () => {
    assert.match(refusal(() => registryRemote({ name: "x/y", remotes: [{ type: "ws", url: "wss://x" }] })).message, /x\/y lists no Streamable HTTP or SSE endpoint/);
  });
});

describe("needsValues", () => {
  test("a URL variable or a required header without a default needs values from the user", () => {
    assert.equal(needsValues(analytics), true);
    assert.equal(needsValues({ remotes: [{ type: "sse", url: "https://{tenant}.example.com/sse" }] }), true);
    const keyed = { remotes: [{ type: "streamable-http", url: "https://e.com/mcp", headers: [{ name: "X-Key", isRequired: true }] }] };
    assert.equal(needsValues(keyed), true);
  });

  test("a plain endpoint, optional headers or defaults need nothing; neither does a server with no usable remote", () => {
    assert.equal(needsValues({ remotes: [{ type: "streamable-http", url: "https://e.com/mcp" }] }), false);
    const defaulted = { remotes: [{ type: "streamable-http", url: "https://e.com/mcp", headers: [{ name: "X-Region", isRequired: true, default: "eu" }, { name: "X-Trace" }] }] };
    assert.equal(needsValues(defaulted), false);
    assert.equal(needsValues({ packages: [{}] }), false);
  });
});

describe("what the user is asked for", () => {
  test("URL variables, headers without a value, and the variables of a header's value; never a fixed header", () => {
    assert.deepEqual(registryInputs(remote).map(({ key, label }) => [key, label]), [
      ["url:tenant", "tenant (part of the server's URL)"],
      ["url:region", "region (part of the server's URL)"],
      ["header:X-API-Key", "X-API-Key header"],
      ["header:Authorization:token", "token (in the Authorization header)"],
      ["header:X-Trace", "X-Trace header"],
    ]);
  });

  test("the form schema: required enforced, secrets write-only, defaults and choices kept", () => {
    const schema = inputsFormSchema(registryInputs(remote));
    assert.deepEqual(schema.required, ["url:tenant", "header:X-API-Key", "header:Authorization:token"]);
    assert.deepEqual(schema.properties["url:region"], { type: "string", title: "region (part of the server's URL)", default: "eu", enum: ["eu", "us"] });
    assert.equal(schema.properties["header:X-API-Key"].writeOnly, true);
    assert.equal(schema.properties["header:X-API-Key"].description, "API key");
    assert.equal(schema.properties["url:tenant"].writeOnly, undefined);
  });
});

describe("resolveRegistryRemote", () => {
  test("fills the URL template and the headers; defaults apply; optional headers left empty are not sent", () => {
    const spec = resolveRegistryRemote(remote, { "url:tenant": "acme", "header:X-API-Key": "k-1", "header:Authorization:token": "t-2" });
    assert.deepEqual(spec, {
      type: "streamable-http",
      url: "https://acme.example.com/eu/mcp",
      headers: { "X-API-Key": "k-1", "X-Client": "satchel", Authorization: "Bearer t-2" },
    });
  });

  test("a variable cannot change the URL's host or path: it is encoded", () => {
    const spec = resolveRegistryRemote(
      { type: "streamable-http", url: "https://api.example.com/{team}/mcp", variables: { team: { isRequired: true } } },
      { "url:team": "../evil.com/x?" },
    );
    assert.equal(new URL(spec.url).host, "api.example.com");
    assert.equal(spec.url, "https://api.example.com/..%2Fevil.com%2Fx%3F/mcp");
  });

  test("every missing or invalid value is reported at once, by field", () => {
    const error = refusal(() => resolveRegistryRemote(remote, { "url:region": "mars" }));
    assert.deepEqual([...error.fields], [
      ["url:tenant", "required"],
      ["url:region", "must be one of eu, us"],
      ["header:X-API-Key", "required"],
      ["header:Authorization:token", "required"],
    ]);
  });

  test("a URL placeholder the entry does not describe is refused", () => {
    const error = refusal(() => resolveRegistryRemote({ type: "streamable-http", url: "https://{who}.example.com/mcp" }, {}));
    assert.match(error.message, /The registry entry's URL uses \{who\}, which it does not describe/);
  });

  test("a number format is checked", () => {
    const numbered = { type: "streamable-http", url: "https://e.com/{v}", variables: { v: { format: "number", isRequired: true } } };
    assert.deepEqual([...refusal(() => resolveRegistryRemote(numbered, { "url:v": "two" })).fields], [["url:v", "must be a number"]]);
    assert.equal(resolveRegistryRemote(numbered, { "url:v": "2" }).url, "https://e.com/2");
  });

  test("the filled URL is checked like a typed one", () => {
    const error = refusal(() => resolveRegistryRemote({ type: "sse", url: "ftp://{h}/", variables: { h: { default: "x" } } }, {}));
    assert.match(error.message, /Only http:\/\/ and https:\/\/ URLs can be used/);
  });
});
