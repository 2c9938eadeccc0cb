// Hosts one of Satchel's WebAssembly MCP servers (whisper.cpp, llama.cpp; built from wasm/ by `satchel wasm`) in a
// module Web Worker, speaking the port protocol of docs/architecture.md: `init` once, then one `rpc` per JSON-RPC
// message, each with its own MessagePort that gets every message the server emits for it and then `end`.
//
// The registry entry's `io.satchel/local` block lists the files: the `.wasm` module and the model file(s), each with
// its URL and sha256. The module is fetched at start; a model only when the first tool call needs it (tools/list
// works without it). The module is precached by the service worker; a model is not (models are large, the build
// marks them lazy), so the first call fetches it from the network and keeps it in the Cache API (MODEL_CACHE), where
// later starts find it, online or offline. Both are verified against their sha256 before use, a cached model too
// (a copy that no longer matches is dropped and fetched again). The module is a WASI reactor: handle() runs a request to completion, writing
// progress notifications to stdout as it goes, which are posted on the port at once. A call cannot be interrupted
// from here: to cancel, the page terminates this worker and starts a new one (see worker-pool.js).

import * as shim from "../vendor/wasi-shim.js";
import { MODEL_DIR, startReactor } from "./wasi-reactor.js";
import { answerFailure, describe } from "./port-protocol.js";

/** Cache of lazily fetched model files, by URL; not a build's precache, so it outlives app updates. */
const MODEL_CACHE = "satchel-models";

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

function modelFiles() {
  return (config?.files ?? []).filter((entry) => !fileName(entry.url).endsWith(".wasm"));
}

async function loadModule() {
  status("loading", { message: "the WebAssembly module" });
  const bytes = await fetchVerified(moduleFile());
  return WebAssembly.compile(bytes);
}

async function loadModels() {
  const files = modelFiles();
  const total = files.reduce((sum, file) => sum + (file.size ?? 0), 0);
  let done = 0;
  const models = new Map();
  for (const file of files) {
    const bytes = await cachedModel(file, (loaded) => status("loading", { loaded: done + loaded, total }));
    done += bytes.byteLength;
    models.set(fileName(file.url), bytes);
  }
  return models;
}

/**
 * A model file from MODEL_CACHE when the stored copy matches its sha256, else from the network, then stored there.
 * @param {{url: string, sha256: string, size?: number}} file
 * @param {(loaded: number) => void} onProgress
 * @returns {Promise<Uint8Array>}
 */
async function cachedModel(file, onProgress) {
  const cache = await caches.open(MODEL_CACHE);
  const stored = await cache.match(file.url);
  if (stored) {
    const bytes = new Uint8Array(await stored.arrayBuffer());
    if ((await sha256Hex(bytes)) === file.sha256) {
      onProgress(bytes.byteLength);
      return bytes;
    }
    await cache.delete(file.url); // another build's model at this URL, or damaged: fetch the one we need
  }
  const bytes = await fetchVerified(file, onProgress);
  try {
    await cache.put(file.url, new Response(bytes, { headers: { "Content-Type": "application/octet-stream" } }));
  } catch (error) {
    // Out of quota: the call can still run now, but the model will not be there offline.
    status("loading", { message: `the model could not be kept for offline use: ${describe(error)}` });
  }
  return bytes;
}

/** The server's command line: the first model file is its --model, then any args of the registry entry. */
function serverArgs() {
  const [model] = modelFiles();
  return [...(model ? ["--model", `${MODEL_DIR}/${fileName(model.url)}`] : []), ...(config?.args ?? [])];
}

async function reactor() {
  reactorReady ??= (async () =>
    startReactor({
      shim,
      module: await moduleReady,
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
    if (message?.method === "tools/call" && modelFiles().length) {
      modelsReady ??= loadModels().then((models) => {
        status("ready");
        return models;
      });
      for (const [name, bytes] of await modelsReady.catch((error) => {
        modelsReady = null; // a failed download is tried again on the next call
        throw error;
      })) {
        server.addFile(name, bytes);
      }
    }
    const line = JSON.stringify(message);
    try {
      server.handle(line, (out) => port.postMessage({ type: "message", message: out }));
    } catch (error) {
      reactorReady = null; // a trapped instance is unusable: the next call starts a fresh one
      throw new Error(`the server crashed (${describe(error)}) and was restarted`);
    }
  } catch (error) {
    answerFailure(port, message, serverId, error);
  } finally {
    port.postMessage({ type: "end" });
    port.close();
  }
}

/**
 * Fetch a file (through the service worker, so from its cache when offline) and check its sha256.
 * @param {{url: string, sha256: string, size?: number}} file
 * @param {(loaded: number) => void} [onProgress]
 * @returns {Promise<Uint8Array>}
 */
async function fetchVerified(file, onProgress) {
  const response = await fetch(new URL(file.url, self.location.origin));
  if (!response.ok || !response.body) throw new Error(`could not fetch ${file.url}: HTTP ${response.status}`);
  const bytes = new Uint8Array(file.size ?? Number(response.headers.get("content-length") ?? 0));
  let loaded = 0;
  let chunks = null;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (chunks === null && loaded + value.byteLength <= bytes.byteLength) {
      bytes.set(value, loaded);
    } else {
      chunks ??= [bytes.subarray(0, loaded)];
      chunks.push(value);
    }
    loaded += value.byteLength;
    onProgress?.(loaded);
  }
  const data = chunks === null ? bytes.subarray(0, loaded) : concat(chunks, loaded);
  const digest = await sha256Hex(data);
  if (digest !== file.sha256) {
    throw new Error(`${file.url} does not match its sha256 (expected ${file.sha256}, got ${digest})`);
  }
  return data;
}

/** @param {Uint8Array[]} chunks @param {number} length */
function concat(chunks, length) {
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** @param {Uint8Array} data */
async function sha256Hex(data) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** @param {string} url */
function fileName(url) {
  return new URL(url, self.location.origin).pathname.split("/").pop() ?? "";
}

/** @param {string} state @param {object} [detail] */
function status(state, detail) {
  self.postMessage({ type: "status", serverId, state, ...(detail ? { detail } : {}) });
}
