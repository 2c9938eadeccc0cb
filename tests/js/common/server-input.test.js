// What the user types or pastes about a server (app/common/server-input.js): URLs, headers and `mcpServers`
// configurations are checked, and every refusal says what is wrong.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  checkHeaders,
  checkServerUrl,
  checkTitle,
  MAX_CONFIG_BYTES,
  parseServerConfig,
  titleFromUrl,
  UserServerError,
} from "../../../app/common/server-input.js";

/**
 * Assert that `run` throws a UserServerError whose message matches `message`; returns it.
 * @param {() => unknown} run
 * @param {RegExp} message
 */
function refused(run, message) {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof UserServerError, `not a UserServerError: ${error}`);
    assert.match(error.message, message);
    return error;
  }
  assert.fail(`accepted, expected ${message}`);
}

describe("checkServerUrl", () => {
  test("accepts http and https, trimmed and without a fragment", () => {
    assert.equal(checkServerUrl("  https://mcp.example.com/mcp#top "), "https://mcp.example.com/mcp");
    assert.equal(checkServerUrl("http://127.0.0.1:8000/mcp/workspace"), "http://127.0.0.1:8000/mcp/workspace");
  });

  test("refuses other schemes", () => {
    refused(() => checkServerUrl("ftp://example.com/mcp"), /Only http:\/\/ and https:\/\/ URLs can be used, not ftp:/);
    refused(() => checkServerUrl("javascript:alert(1)"), /not javascript:/);
  });

  test("refuses credentials in the URL", () => {
    refused(() => checkServerUrl("https://me:secret@example.com/mcp"), /Remove the user name and password from the URL/);
  });

  test("refuses a URL longer than 2048 characters, and accepts one of exactly 2048", () => {
    const base = "https://example.com/";
    assert.equal(checkServerUrl(base + "a".repeat(2048 - base.length)).length, 2048);
    refused(() => checkServerUrl(base + "a".repeat(2049 - base.length)), /2049 characters long; at most 2048/);
  });

  test("refuses what is no URL, and nothing at all, naming the field", () => {
    refused(() => checkServerUrl("mcp.example.com"), /mcp.example.com is not a URL/);
    const error = refused(() => checkServerUrl(""), /Enter the server's URL/);
    assert.deepEqual([...error.fields.keys()], ["url"]);
  });

  test("refuses a desktop client's placeholder", () => {
    refused(() => checkServerUrl("https://${input:host}/mcp"), /\$\{input:host\}, which only a desktop client fills in/);
  });
});

describe("checkHeaders", () => {
  test("keeps valid headers", () => {
    assert.deepEqual(checkHeaders({ Authorization: "Bearer abc", "X-API-Key": "k" }), { Authorization: "Bearer abc", "X-API-Key": "k" });
    assert.deepEqual(checkHeaders(undefined), {});
  });

  for (const [headers, message] of /** @type {[any, RegExp][]} */ ([
    [["a"], /"headers" must be an object/],
    [{ "Bad Name": "x" }, /"Bad Name" is not a valid header name/],
    [{ "Content-Type": "text/plain" }, /^The Content-Type header cannot be set/],
    [{ "Mcp-Session-Id": "s" }, /^The Mcp-Session-Id header cannot be set/],
    [{ "X-Key": 5 }, /^The value of the X-Key header must be text/],
    [{ "X-Key": "a\r\nInjected: yes" }, /contains a line break/],
    [{ "X-Key": "x".repeat(8193) }, /longer than 8192 characters/],
    [{ Authorization: "Bearer ${input:token}" }, /uses \$\{input:token\}, which only a desktop client fills in/],
    [{ "X-Key": "a", "x-key": "b" }, /^The x-key header is given twice/],
    [Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`X-${i}`, "v"])), /^At most 32 headers/],
  ])) {
    test(`refuses ${JSON.stringify(headers).slice(0, 50)}`, () => refused(() => checkHeaders(headers), message));
  }
});

describe("checkTitle and titleFromUrl", () => {
  test("a title is trimmed text of at most 100 characters", () => {
    assert.equal(checkTitle("  Notes "), "Notes");
    refused(() => checkTitle(" "), /Give the server a name/);
    refused(() => checkTitle("x".repeat(101)), /longer than 100 characters/);
  });

  test("a URL's title is its host and path", () => {
    assert.equal(titleFromUrl("https://mcp.example.com/"), "mcp.example.com");
    assert.equal(titleFromUrl("http://127.0.0.1:8000/mcp/workspace"), "127.0.0.1:8000/mcp/workspace");
  });
});

describe("parseServerConfig", () => {
  test("reads Claude Desktop's mcpServers: remote entries with their headers and transport", () => {
    const servers = parseServerConfig(JSON.stringify({
      mcpServers: {
        notes: { url: "https://notes.example.com/mcp", headers: { Authorization: "Bearer t" } },
        events: { type: "sse", url: "https://events.example.com/sse" },
      },
    }));
    assert.deepEqual(servers, [
      { key: "notes", spec: { type: "streamable-http", url: "https://notes.example.com/mcp", headers: { Authorization: "Bearer t" } } },
      { key: "events", spec: { type: "sse", url: "https://events.example.com/sse", headers: {} } },
    ]);
  });

  test("reads VS Code's servers with type http", () => {
    const servers = parseServerConfig('{"servers": {"gh": {"type": "http", "url": "https://api.example.com/mcp/"}}, "inputs": []}');
    assert.deepEqual(servers, [{ key: "gh", spec: { type: "streamable-http", url: "https://api.example.com/mcp/", headers: {} } }]);
  });

  test("reads one bare entry, named by its URL", () => {
    assert.deepEqual(parseServerConfig('{"url": "https://mcp.example.com/v1"}'), [
      { key: "mcp.example.com/v1", spec: { type: "streamable-http", url: "https://mcp.example.com/v1", headers: {} } },
    ]);
  });

  test("a command entry runs only on a desktop; the remote ones next to it still come through", () => {
    const [files, notes] = parseServerConfig(JSON.stringify({
      mcpServers: {
        files: { command: "npx", args: ["-y", "@modelcontextprotocol/server-filesystem"] },
        notes: { url: "https://notes.example.com/mcp" },
      },
    }));
    assert.equal(files.error, "Runs only on a desktop: files starts a program (npx), which a web app cannot do. Add a server that is reached by URL instead.");
    assert.equal(files.spec, undefined);
    assert.equal(notes.spec?.url, "https://notes.example.com/mcp");
  });

  test("each bad entry says what is wrong with it", () => {
    const servers = parseServerConfig(JSON.stringify({
      mcpServers: {
        a: {},
        b: { url: "ftp://example.com" },
        c: { url: "https://example.com/mcp", type: "websocket" },
        d: "https://example.com/mcp",
        e: { url: "https://example.com/mcp", headers: { Host: "x" } },
        f: { type: "stdio" },
      },
    }));
    assert.deepEqual(servers.map((server) => server.error), [
      'a has no "url": give the address of the server',
      "b: Only http:// and https:// URLs can be used, not ftp:",
      'c: unknown "type" "websocket"; use "http" (Streamable HTTP) or "sse"',
      'd: expected an object with a "url"',
      "e: the Host header cannot be set: the browser or Satchel sets it",
      "Runs only on a desktop: f starts a program (a local command), which a web app cannot do. Add a server that is reached by URL instead.",
    ]);
  });

  test("invalid JSON is refused with the line and column", () => {
    refused(() => parseServerConfig('{\n  "mcpServers": {\n    "x": {"url": "https://e.com",}\n  }\n}'), /^The configuration is not valid JSON: .* at line 3, column 34$/);
  });

  test("a configuration over 64 KiB is refused before it is parsed", () => {
    const padding = "x".repeat(MAX_CONFIG_BYTES);
    refused(() => parseServerConfig(`{"mcpServers": {}, "pad": "${padding}"}`), /at most 64 KiB can be pasted/);
    // Counted in UTF-8 bytes: 22 000 three-byte characters are 66 000 bytes.
    refused(() => parseServerConfig(`{"pad": "${"€".repeat(22_000)}"}`), /is 65 KiB; at most 64 KiB/);
  });

  test("a document of no known shape says which shapes are known", () => {
    refused(() => parseServerConfig('{"name": "x"}'), /Expected \{"mcpServers": \{…\}\} \(Claude Desktop\), \{"servers": \{…\}\} \(VS Code\)/);
    refused(() => parseServerConfig("[1]"), /must be a JSON object/);
    refused(() => parseServerConfig('{"mcpServers": []}'), /"mcpServers" must be an object of servers by name/);
    refused(() => parseServerConfig('{"mcpServers": {}}'), /"mcpServers" lists no server/);
    refused(() => parseServerConfig("   "), /Paste a configuration/);
  });

  test("at most 50 servers at once", () => {
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`s${i}`, { url: `https://e.com/${i}` }]));
    refused(() => parseServerConfig(JSON.stringify({ mcpServers: many })), /lists 51 servers; at most 50/);
  });
});
