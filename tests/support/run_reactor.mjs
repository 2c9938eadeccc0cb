// Runs a WASI reactor server (wasm/, built by `satchel wasm --wasm`) in node for the tests, through the same
// host code as the browser worker (app/workers/wasi-reactor.js) and the same WASI shim.
//
//   node tests/support/run_reactor.mjs SERVER.wasm MODEL_FILE [SERVER_ARGS...] < requests.jsonl > messages.jsonl
//
// Each stdin line is one JSON-RPC message; every message the server emits is written as one line. The model is
// put in the preopened /models directory and passed as --model. A trap is reported as {"trap": "..."} and the
// module is started afresh, as the worker does.
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { createInterface } from "node:readline";
import * as shim from "@bjorn3/browser_wasi_shim";
import { MODEL_DIR, startReactor } from "../../app/workers/wasi-reactor.js";

const [wasmPath, modelPath, ...extraArgs] = process.argv.slice(2);
const module = await WebAssembly.compile(readFileSync(wasmPath));
const modelName = basename(modelPath);
const files = new Map([[modelName, new Uint8Array(readFileSync(modelPath))]]);
const args = ["--model", `${MODEL_DIR}/${modelName}`, ...extraArgs];
const start = () => startReactor({ shim, module, args, files, onStderr: (line) => process.stderr.write(line + "\n") });

let reactor = await start();
for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (!line.trim()) continue;
  const started = performance.now();
  try {
    reactor.handle(line, (message) => process.stdout.write(JSON.stringify(message) + "\n"));
  } catch (error) {
    process.stdout.write(JSON.stringify({ trap: String(error?.message ?? error) }) + "\n");
    reactor = await start();
  }
  process.stderr.write(`reactor: handled in ${(performance.now() - started).toFixed(0)} ms\n`);
}
