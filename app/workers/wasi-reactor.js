// Runs one of Satchel's WASI reactor MCP servers (wasm/, built by `satchel wasm`): a module exporting
// handle(ptr, len), satchel_alloc and satchel_free, that writes every JSON-RPC message it emits (progress
// notifications, then the response) to stdout, one line each. Shared by the browser worker (wasi-server.js) and
// the node tests, which pass in @bjorn3/browser_wasi_shim (node's own node:wasi crashes on memory growth here).

/**
 * @typedef {object} Reactor
 * @property {(line: string, onMessage: (message: any) => void) => void} handle serve one JSON-RPC line
 * @property {(name: string, bytes: Uint8Array) => void} addFile put a file in the preopened directory (once)
 */

/**
 * What the module exports (docs/architecture.md, "The WASM servers").
 * @typedef {{memory: WebAssembly.Memory, handle: (pointer: number, length: number) => void,
 *   satchel_alloc: (length: number) => number, satchel_free: (pointer: number) => void}} ReactorExports
 */

/** Where model files appear inside the module (a WASI preopened directory). */
export const MODEL_DIR = "/models";

/**
 * Instantiate `module` with WASI: `args` are its command line (after the program name), `files` the contents of
 * the preopened model directory. Lines the module writes to stderr go to `onStderr`.
 * @param {{shim: any, module: WebAssembly.Module, args: string[], files?: Map<string, Uint8Array>,
 *          onStderr?: (line: string) => void}} options
 * @returns {Promise<Reactor>}
 */
export async function startReactor({ shim, module, args, files = new Map(), onStderr = () => {} }) {
  /** @type {((line: string) => void) | null} receives stdout lines during a handle() call */
  let emit = null;
  const models = new shim.PreopenDirectory(MODEL_DIR, new Map());
  const wasi = new shim.WASI(["server", ...args], [], [
    new shim.OpenFile(new shim.File(new Uint8Array(0))),
    shim.ConsoleStdout.lineBuffered((/** @type {string} */ line) => emit?.(line)),
    shim.ConsoleStdout.lineBuffered(onStderr),
    models,
  ], { debug: false }); // the shim logs every call unless told not to
  /** @type {Reactor["addFile"]} */
  const addFile = (name, bytes) => {
    if (models.dir.contents.has(name)) return;
    // The shim's File copies a Uint8Array but wraps an ArrayBuffer: hand it the buffer when the view spans it all.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    models.dir.contents.set(name, new shim.File(whole ? bytes.buffer : bytes, { readonly: true }));
  };
  for (const [name, bytes] of files) addFile(name, bytes);

  const instance = await WebAssembly.instantiate(module, {
    wasi_snapshot_preview1: wasi.wasiImport,
    // Emscripten's standalone runtime reports heap growth so JS can refresh its views; ours reads the buffer
    // afresh on every access, so there is nothing to do.
    env: { emscripten_notify_memory_growth() {} },
  });
  wasi.initialize(instance);
  const { memory, handle, satchel_alloc: alloc, satchel_free: free } = /** @type {ReactorExports} */ (instance.exports);
  const encoder = new TextEncoder();

  return {
    addFile,
    handle(line, onMessage) {
      const bytes = encoder.encode(line);
      const pointer = alloc(bytes.length);
      if (!pointer) throw new Error("the server is out of memory");
      new Uint8Array(memory.buffer, pointer, bytes.length).set(bytes);
      emit = (text) => onMessage(JSON.parse(text));
      try {
        handle(pointer, bytes.length);
      } finally {
        emit = null;
      }
      // Not in `finally`: after a trap the instance is unusable, and the caller starts a new one.
      free(pointer);
    },
  };
}
