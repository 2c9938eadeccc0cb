// Hosts Satchel's pure-Python MCP tool server (satchel/tools/) on Pyodide, in a module Web Worker.
//
// The page starts this worker for a local server whose registry entry names the "pyodide-server" worker, and
// speaks the port protocol of docs/architecture.md to it: `init` once, then one `rpc` per JSON-RPC message, each
// with its own MessagePort that gets every message the server emits for it and then `end`. Python runs the same
// server core as `python -m satchel.tools`; the runtime and the wheels come from our own origin (precached by
// the service worker), so after the first load it all works offline. The interpreter is loaded once and reused.

import { loadPyodide } from "../vendor/pyodide/pyodide.mjs";
import { describe, sendEnd, sendFailure, sendMessage } from "../common/port-protocol.js";

// Pyodide resolves what it loads against these; relative URLs would resolve against the loader module instead.
const INDEX_URL = new URL("/vendor/pyodide/", self.location.origin).href;
const LOCK_FILE_URL = new URL("pyodide-lock.json", INDEX_URL).href;
/** The Python module whose `default_server()` builds the server core. */
const SERVER_MODULE = "satchel.tools";

/** @type {string | null} */
let serverId = null;
/** @type {Promise<any> | null} the server core (a PyProxy of satchel.tools.ToolServer), once loaded */
let serverReady = null;
/** @type {any} satchel.tools.jsonrpc.encode, the serialiser the native stdio server uses */
let encode = null;

self.onmessage = ({ data, ports }) => {
  if (data?.type === "init") {
    init(data);
  } else if (data?.type === "rpc" && ports[0]) {
    serve(data.message, ports[0]);
  }
};

/** @param {{serverId: string, config: any}} message */
function init(message) {
  if (serverReady) return;
  serverId = message.serverId;
  serverReady = startServer(message.config);
  serverReady.then(
    () => status("ready"),
    (error) => status("error", { message: describe(error) }),
  );
}

/**
 * Load the interpreter and the wheels the registry entry lists, then build the server core.
 * @param {{files?: {url: string}[]}} config
 */
async function startServer(config) {
  const packages = (config?.files ?? [])
    .map((file) => new URL(file.url, self.location.origin).pathname.split("/").pop())
    .filter((name) => name?.endsWith(".whl"))
    .map((name) => /** @type {string} */ (name).split("-")[0]);
  if (!packages.length) throw new Error("the registry entry lists no Python wheels to install");

  status("loading", { message: "the Python runtime" });
  const pyodide = await loadPyodide({ indexURL: INDEX_URL, lockFileURL: LOCK_FILE_URL, fullStdLib: false });

  status("loading", { message: `packages ${packages.join(", ")}` });
  /** @type {string[]} */
  const failures = [];
  await pyodide.loadPackage(packages, { messageCallback: () => {}, errorCallback: (text) => failures.push(text) });
  // loadPackage reports a failed download through the callback rather than by throwing: check what got installed.
  const missing = packages.filter((name) => !(canonical(name) in pyodide.loadedPackages));
  if (missing.length) {
    throw new Error(`could not install ${missing.join(", ")}: ${failures.join("; ") || "no reason given"}`);
  }

  status("loading", { message: "the tool server" });
  const tools = pyodide.pyimport(SERVER_MODULE);
  encode = pyodide.pyimport(`${SERVER_MODULE}.jsonrpc`).encode;
  const server = tools.default_server();
  tools.destroy();
  return server;
}

/**
 * Serve one JSON-RPC message; every message the server emits goes to `port`, then `end`.
 * @param {any} message
 * @param {MessagePort} port
 */
async function serve(message, port) {
  try {
    const server = await serverReady;
    if (!server) throw new Error("the worker was not initialised");
    const exchange = server.start_line(JSON.stringify(message));
    try {
      while (!exchange.done) {
        const produced = exchange.step();
        try {
          for (const item of produced) {
            const text = encode(item);
            item.destroy();
            sendMessage(port, JSON.parse(text));
          }
        } finally {
          produced.destroy();
        }
        // A macrotask between steps lets a notifications/cancelled (its own rpc) reach the server in time.
        if (!exchange.done) await nextTask();
      }
    } finally {
      exchange.destroy();
    }
  } catch (error) {
    sendFailure(port, message, `the local server ${serverId ?? "(not initialised)"} failed: ${describe(error)}`);
  } finally {
    sendEnd(port);
    port.close();
  }
}

/** Resolves on the next task: unlike setTimeout(0), a message task is never clamped to 4 ms. */
function nextTask() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve(undefined);
    };
    channel.port2.postMessage(null);
  });
}

/** @param {string} state @param {object} [detail] */
function status(state, detail) {
  self.postMessage({ type: "status", serverId, state, ...(detail ? { detail } : {}) });
}

/** Package names as Pyodide keys them (PEP 503). @param {string} name */
function canonical(name) {
  return name.replace(/[-_.]+/g, "-").toLowerCase();
}
