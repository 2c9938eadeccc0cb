// Hosts one of Satchel's WebAssembly MCP servers (whisper.cpp, llama.cpp; built from wasm/ by `satchel wasm`) in a
// module Web Worker, speaking the port protocol of docs/architecture.md: `init` once, then one `rpc` per JSON-RPC
// message, each with its own MessagePort that gets every message the server emits for it and then `end`.
//
// The registry entry's `io.satchel/local` block lists the files: the `.wasm` module and the model file(s), each with
// its URL, sha256 and size. The module is precached by the service worker, fetched at start and verified. A model
// only when the first tool call needs it (tools/list works without it), from the model store
// (app/common/model-store.js: kept in OPFS, downloaded with resume, sha256 checked before it is kept and on every
// load, clear errors when space runs out or a copy is damaged); its download progress is posted to the page as
// `loading` status. The module is a WASI reactor: handle() runs a request to completion, writing progress
// notifications to stdout as it goes, which are posted on the port at once. A call cannot be interrupted from here:
// to cancel, the page terminates this worker and starts a new one (see worker-pool.js).

import * as shim from "../vendor/wasi-shim.js";
import { MODEL_DIR, startReactor } from "./wasi-reactor.js";
import { describe, sendEnd, sendFailure, sendMessage } from "../common/port-protocol.js";
import { fileName, loadModel, modelFiles, sha256Hex } from "../common/model-store.js";

/** @type {string | null} */
let serverId = null;
/** @type {{files: {url: string, sha256: string, size: number}[], args?: string[]} | null} */
let config = null;
/** @type {Promise<WebAssembly.Module> | null} */
let moduleReady = null;
/** @type {Promise<Map<string, Uint8Array>> | null} model files by name, once fetched and verified */
let modelsReady = null;
/** @type {Promise<import("./wasi-reactor.js").Reactor> | null} */
let reactorReady = null;
/** Messages are served one at a time, in arrival order: handle() is synchronous and not re-entrant. */
let queue = Promise.resolve();

self.onmessage = ({ data, ports }) => {
  if (data?.type === "init") {
    init(data);
  } else if (data?.type === "rpc" && ports[0]) {
    const port = ports[0];
    queue = queue.then(() => serve(data.message, port));
  }
};

/** @param {{serverId: string, config: any}} message */
function init(message) {
  if (moduleReady) return;
  serverId = message.serverId;
  config = message.config;
  moduleReady = loadModule();
  moduleReady.then(
    () => status("ready"),
    (error) => status("error", { message: describe(error) }),
  );
}

function moduleFile() {
  const file = (config?.files ?? []).find((entry) => fileName(entry.url).endsWith(".wasm"));
  if (!file) throw new Error("the registry entry lists no .wasm module");
  return file;
}

async function loadModule() {
  status("loading", { message: "the WebAssembly module" });
  const bytes = await fetchVerified(moduleFile());
  return WebAssembly.compile(bytes);
}

async function loadModels() {
  const files = modelFiles(config);
  const total = files.reduce((sum, file) => sum + file.size, 0);
  let done = 0;
  const models = new Map();
  for (const file of files) {
    const bytes = await loadModel(file, {
      onProgress: ({ loaded, bytesPerSecond, secondsLeft }) =>
        status("loading", { loaded: done + loaded, total, bytesPerSecond, secondsLeft, file: fileName(file.url) }),
    });
    done += bytes.byteLength;
    models.set(fileName(file.url), bytes);
  }
  return models;
}

/** The server's command line: the first model file is its --model, then any args of the registry entry. */
function serverArgs() {
  const [model] = modelFiles(config);
  return [...(model ? ["--model", `${MODEL_DIR}/${fileName(model.url)}`] : []), ...(config?.args ?? [])];
}

async function reactor() {
  reactorReady ??= (async () =>
    startReactor({
      shim,
      module: /** @type {WebAssembly.Module} */ (await moduleReady),
      args: serverArgs(),
      onStderr: (line) => console.debug(`[${serverId}]`, line),
    }))();
  return reactorReady;
}

/**
 * Serve one JSON-RPC message; every message the server emits goes to `port`, then `end`.
 * @param {any} message
 * @param {MessagePort} port
 */
async function serve(message, port) {
  try {
    if (!moduleReady) throw new Error("the worker was not initialised");
    const server = await reactor();
    if (message?.method === "tools/call" && modelFiles(config).length) {
      modelsReady ??= loadModels().then((models) => {
        status("ready");
        return models;
      });
      for (const [name, bytes] of await modelsReady.catch((error) => {
        modelsReady = null; // a failed download is tried again on the next call
        status("error", { message: describe(error) });
        throw error;
      })) {
        server.addFile(name, bytes);
      }
    }
    const line = JSON.stringify(message);
    try {
      server.handle(line, (out) => sendMessage(port, out));
    } catch (error) {
      reactorReady = null; // a trapped instance is unusable: the next call starts a fresh one
      throw new Error(`the server crashed (${describe(error)}) and was restarted`, { cause: error });
    }
  } catch (error) {
    sendFailure(port, message, `the local server ${serverId ?? "(not initialised)"} failed: ${describe(error)}`);
  } finally {
    sendEnd(port);
    port.close();
  }
}

/**
 * Fetch the module (from the service worker's precache, so offline too) and check its sha256.
 * @param {{url: string, sha256: string}} file
 * @returns {Promise<Uint8Array<ArrayBuffer>>}
 */
async function fetchVerified(file) {
  const response = await fetch(new URL(file.url, self.location.origin));
  if (!response.ok) throw new Error(`could not fetch ${file.url}: HTTP ${response.status}`);
  const data = new Uint8Array(await response.arrayBuffer());
  const digest = await sha256Hex(data);
  if (digest !== file.sha256) {
    throw new Error(`${file.url} does not match its sha256 (expected ${file.sha256}, got ${digest})`);
  }
  return data;
}

/** @param {string} state @param {object} [detail] */
function status(state, detail) {
  self.postMessage({ type: "status", serverId, state, ...(detail ? { detail } : {}) });
}
