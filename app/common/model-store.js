// The one place models live in the browser. The wasi-server worker (on a tool's first call), the Models panel
// ("Make available offline") and a kiosk pre-loading the models its admin bundled all go through it, so they follow
// the same rules:
//   - a model is kept in the origin private file system (OPFS) as `models/<sha256>`, complete and verified; while it
//     downloads it is `models/<sha256>.part`;
//   - before a download, navigator.storage.estimate() must show room for what is left to fetch, else it fails with
//     a clear "Not enough space" error; a write that still hits the quota deletes the partial file, so nothing
//     half-stored remains;
//   - the download streams in chunks straight to the file and, after a dropped connection, resumes with
//     `Range: bytes=<bytes already stored>-` (at once, a few times, and on the next try);
//   - the sha256 is checked before the file becomes final and again on every load: a file that fails is deleted
//     and downloaded again, never run;
//   - one Web Lock per model keeps the page and workers from downloading (or removing) the same file at once;
//   - progress and changes are broadcast to every page and worker of the origin (BroadcastChannel), so the Models
//     panel also shows the downloads a worker makes.
// Models that earlier versions kept in the Cache API cache "satchel-models" move here the first time they are
// needed (checked like any stored copy), so a model stored before still works offline.
//
// API (`file` is a registry file entry: {url, sha256, size}):
//   loadModel(file, {onProgress}) → Promise<Uint8Array>   the verified bytes, downloaded first when not stored
//   ensureModel(file, {onProgress}) → Promise<{sha256, size}>   make a model available offline (from a page, it also
//                                                          asks for persistent storage)
//   storedModels() → Promise<{sha256, size, complete}[]>   what the store holds, partial downloads included
//   removeModel(sha256)                                    delete a model and any partial download of it
//   watchModels(listener) → unsubscribe                   ModelEvent of every context of the origin
//   modelFiles(config)                                     the model files of a local server's `io.satchel/local`
//   requestPersistence()                                   navigator.storage.persist(); a window only, else false
// `onProgress` and the broadcast receive {type: "progress", sha256, url, loaded, total, bytesPerSecond, secondsLeft};
// the other events are {type: "stored" | "removed", sha256, url?} and {type: "failed", sha256, url, message}.
// Errors are ModelStoreError with a `code`: no-space, interrupted, download-failed, wrong-bytes, damaged.
import { formatBytes } from "./format.js";

const STORE_DIR = "models";
const PART = ".part";
const LEGACY_CACHE = "satchel-models";
const CHANNEL = "satchel-models";
/** The worker whose files other than its `.wasm` module are models (app/workers/wasi-server.js). */
const WASI_WORKER = "wasi-server";
/** Progress is reported at most this often; the first and the last step always. */
const PROGRESS_EVERY_MS = 100;
/** Immediate resumes within one download after drops, each only when the previous attempt made progress. */
const RESUMES = 3;

/**
 * @typedef {{url: string, sha256: string, size: number}} ModelFile
 * @typedef {{type: "progress", sha256: string, url: string, loaded: number, total: number, bytesPerSecond: number,
 *   secondsLeft: number | null}} ModelProgress
 * @typedef {ModelProgress | {type: "stored" | "removed" | "failed", sha256: string, url?: string, message?: string}}
 *   ModelEvent
 */

export class ModelStoreError extends Error {
  /** @param {string} code @param {string} message @param {{progressed?: boolean}} [extra] */
  constructor(code, message, { progressed = false } = {}) {
    super(message);
    this.name = "ModelStoreError";
    this.code = code;
    this.progressed = progressed;
  }
}

/** The name a registry file goes by (last segment of its URL). @param {string} url */
export function fileName(url) {
  return new URL(url, self.location.origin).pathname.split("/").pop() ?? "";
}

/**
 * The model files of a local server's `io.satchel/local` block ([] for servers that use no model).
 * @param {{worker?: string, files?: ModelFile[]} | null | undefined} config
 * @returns {ModelFile[]}
 */
export function modelFiles(config) {
  if (config?.worker !== WASI_WORKER) return [];
  return (config.files ?? []).filter((file) => !fileName(file.url).endsWith(".wasm"));
}

/** @param {ArrayBuffer | Uint8Array<ArrayBuffer>} data @returns {Promise<string>} */
export async function sha256Hex(data) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * The verified bytes of a model, downloaded (or resumed) first when the store does not hold a good copy.
 * @param {ModelFile} file
 * @param {{onProgress?: (progress: ModelProgress) => void}} [options]
 * @returns {Promise<Uint8Array>}
 */
export async function loadModel(file, { onProgress } = {}) {
  checkEntry(file);
  try {
    return await withLock(file.sha256, async () => {
      const dir = /** @type {FileSystemDirectoryHandle} */ (await storeDir());
      const stored = await readStored(dir, file);
      if (stored instanceof Uint8Array) return stored;
      const adopted = stored === null ? await adoptLegacyCopy(dir, file) : null;
      if (adopted) return adopted;
      try {
        return await download(dir, file, onProgress);
      } catch (error) {
        if (stored !== "damaged") throw error;
        throw new ModelStoreError(
          "damaged",
          `${fileName(file.url)} was damaged (sha256 mismatch) and has been removed; it will be downloaded again ` +
            `when the network is back (now: ${error.message})`,
        );
      }
    });
  } catch (error) {
    announce({ type: "failed", sha256: file.sha256, url: file.url, message: error?.message ?? String(error) });
    throw error;
  }
}

/**
 * Make a model available offline: stored and verified, downloaded when needed.
 * @param {ModelFile} file
 * @param {{onProgress?: (progress: ModelProgress) => void}} [options]
 */
export async function ensureModel(file, options = {}) {
  await requestPersistence();
  await loadModel(file, options);
  return { sha256: file.sha256, size: file.size };
}

/** @returns {Promise<{sha256: string, size: number, complete: boolean}[]>} */
export async function storedModels() {
  const dir = await storeDir({ create: false });
  if (!dir) return [];
  const models = [];
  for await (const [name, handle] of dir.entries()) {
    const complete = !name.endsWith(PART);
    const sha256 = complete ? name : name.slice(0, -PART.length);
    if (handle.kind !== "file" || !/^[0-9a-f]{64}$/.test(sha256)) continue;
    models.push({ sha256, size: (await handle.getFile()).size, complete });
  }
  return models;
}

/** Delete a model and any partial download of it (after a download of it in progress ends). @param {string} sha256 */
export async function removeModel(sha256) {
  await withLock(sha256, async () => {
    const dir = /** @type {FileSystemDirectoryHandle} */ (await storeDir());
    await removeEntry(dir, sha256);
    await removeEntry(dir, sha256 + PART);
  });
  announce({ type: "removed", sha256 });
}

/** @param {(event: ModelEvent) => void} listener @returns {() => void} stops listening */
export function watchModels(listener) {
  const channel = new BroadcastChannel(CHANNEL);
  channel.onmessage = ({ data }) => listener(data);
  return () => channel.close();
}

/** Ask the browser not to evict the app's storage (models included) under pressure; a window only. */
export async function requestPersistence() {
  if (typeof window === "undefined" || !navigator.storage?.persist) return false;
  return (await navigator.storage.persisted()) || navigator.storage.persist();
}

/** @param {ModelFile} file */
function checkEntry(file) {
  if (!file?.url || !/^[0-9a-f]{64}$/.test(file.sha256 ?? "") || !Number.isInteger(file.size)) {
    throw new ModelStoreError("download-failed", `the registry entry of model ${file?.url} lacks its sha256 or size`);
  }
}

/** @template T @param {string} sha256 @param {() => Promise<T>} task @returns {Promise<T>} */
function withLock(sha256, task) {
  return navigator.locks.request(`satchel-model ${sha256}`, task);
}

/** The store's folder; with `create: false`, null while nothing was ever stored. */
async function storeDir({ create = true } = {}) {
  const root = await navigator.storage.getDirectory();
  try {
    return await root.getDirectoryHandle(STORE_DIR, { create });
  } catch (error) {
    if (!create && error?.name === "NotFoundError") return null;
    throw error;
  }
}

/** @param {FileSystemDirectoryHandle} dir @param {string} name */
async function removeEntry(dir, name) {
  try {
    await dir.removeEntry(name);
  } catch (error) {
    if (error?.name !== "NotFoundError") throw error;
  }
}

/**
 * The stored copy when it matches its sha256; null when there is none; "damaged" when there was one that did not
 * match (it is deleted).
 * @param {FileSystemDirectoryHandle} dir
 * @param {ModelFile} file
 */
async function readStored(dir, file) {
  let handle;
  try {
    handle = await dir.getFileHandle(file.sha256);
  } catch (error) {
    if (error?.name === "NotFoundError") return null;
    throw error;
  }
  const bytes = new Uint8Array(await (await handle.getFile()).arrayBuffer());
  if (bytes.byteLength === file.size && (await sha256Hex(bytes)) === file.sha256) return bytes;
  await removeEntry(dir, file.sha256);
  return "damaged";
}

/**
 * A copy from the Cache API cache of earlier versions, moved into the store when it is the right one.
 * @param {FileSystemDirectoryHandle} dir
 * @param {ModelFile} file
 * @returns {Promise<Uint8Array | null>}
 */
async function adoptLegacyCopy(dir, file) {
  if (typeof caches === "undefined" || !(await caches.has(LEGACY_CACHE))) return null;
  const cache = await caches.open(LEGACY_CACHE);
  const response = await cache.match(new URL(file.url, self.location.origin));
  if (!response) return null;
  const bytes = new Uint8Array(await response.arrayBuffer());
  const good = bytes.byteLength === file.size && (await sha256Hex(bytes)) === file.sha256;
  if (good) {
    const part = await dir.getFileHandle(file.sha256 + PART, { create: true });
    await writeOrCleanUp(dir, file, part, async (writable) => writable.write(bytes), { keep: false });
    await part.move(file.sha256);
    announce({ type: "stored", sha256: file.sha256, url: file.url });
  }
  await cache.delete(new URL(file.url, self.location.origin));
  if ((await cache.keys()).length === 0) await caches.delete(LEGACY_CACHE);
  return good ? bytes : null;
}

/**
 * Download a model into `<sha256>.part`, resuming what an earlier try left, verify it, then make it final.
 * @param {FileSystemDirectoryHandle} dir
 * @param {ModelFile} file
 * @param {((progress: ModelProgress) => void) | undefined} onProgress
 * @param {boolean} [fresh] a retry from byte 0 (the part was deleted) after a resumed download did not verify
 * @returns {Promise<Uint8Array>}
 */
async function download(dir, file, onProgress, fresh = false) {
  const part = await dir.getFileHandle(file.sha256 + PART, { create: true });
  let resumed = false;
  for (let attempt = 0; ; attempt += 1) {
    try {
      resumed = (await fetchInto(dir, part, file, onProgress)) || resumed;
      break;
    } catch (error) {
      if (!(error instanceof ModelStoreError && error.code === "interrupted" && error.progressed && attempt < RESUMES)) {
        const left = await part.getFile().catch(() => null);
        // Nothing to resume, or bytes of another version: leave no trace.
        if (left?.size === 0 || error?.code === "wrong-bytes") await removeEntry(dir, file.sha256 + PART);
        throw error;
      }
      resumed = true;
    }
  }
  const bytes = new Uint8Array(await (await part.getFile()).arrayBuffer());
  const digest = await sha256Hex(bytes);
  if (digest !== file.sha256) {
    await removeEntry(dir, file.sha256 + PART);
    if (resumed && !fresh) return download(dir, file, onProgress, true); // the parts may come from two versions
    throw new ModelStoreError(
      "wrong-bytes",
      `${fileName(file.url)} as downloaded does not match its sha256 (expected ${file.sha256}, got ${digest}), so ` +
        "it was not kept: the server holds another version of this model than this Satchel expects",
    );
  }
  await part.move(file.sha256);
  announce({ type: "stored", sha256: file.sha256, url: file.url });
  return bytes;
}

/**
 * Fetch what `part` still lacks and append it, reporting progress. Resolves when `part` holds `file.size` bytes,
 * with whether it continued an earlier download.
 * @param {FileSystemDirectoryHandle} dir
 * @param {FileSystemFileHandle} part
 * @param {ModelFile} file
 * @param {((progress: ModelProgress) => void) | undefined} onProgress
 */
async function fetchInto(dir, part, file, onProgress) {
  const name = fileName(file.url);
  let offset = (await part.getFile()).size;
  if (offset > file.size) offset = 0; // not a prefix of this model: start again
  await checkSpace(dir, file, file.size - offset);
  if (offset === file.size) return true;
  let response = await request(file, offset);
  if (offset > 0 && !resumesAt(response, offset)) {
    // The server sent the whole file (200: use it), or cannot send these bytes (416): start from byte 0.
    offset = 0;
    if (response.status !== 200) {
      await response.body?.cancel();
      response = await request(file, 0);
    }
  }
  if (response.status !== (offset > 0 ? 206 : 200) || !response.body) {
    throw new ModelStoreError("download-failed", `could not download ${name}: the server answered HTTP ${response.status}`);
  }
  const report = progressReporter(file, offset, onProgress);
  const reader = response.body.getReader();
  let loaded = offset;
  /** @type {any} */
  let dropped = null;
  const writing = writeOrCleanUp(dir, file, part, async (writable) => {
    await writable.seek(offset);
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        dropped = error; // keep what arrived: close() below commits it, and the next try resumes after it
        break;
      }
      if (chunk.done) break;
      if (loaded + chunk.value.byteLength > file.size) {
        await reader.cancel();
        throw new ModelStoreError("wrong-bytes", `${name} on the server is larger than its registry entry says (${formatBytes(file.size)})`);
      }
      await writable.write(chunk.value);
      loaded += chunk.value.byteLength;
      report(loaded);
    }
  }, { keep: offset > 0 });
  await writing.catch(async (error) => {
    await reader.cancel().catch(() => {}); // stop the transfer too
    throw error;
  });
  if (loaded < file.size) {
    const why = dropped ? `the connection dropped: ${dropped?.message ?? dropped}` : "the server sent less than expected";
    throw new ModelStoreError(
      "interrupted",
      `the download of ${name} stopped at ${formatBytes(loaded)} of ${formatBytes(file.size)} (${why}); ` +
        "it goes on from there on the next try",
      { progressed: loaded > offset },
    );
  }
  return offset > 0;
}

/** @param {ModelFile} file @param {number} offset */
async function request(file, offset) {
  try {
    return await fetch(new URL(file.url, self.location.origin), {
      cache: "no-store", // the store keeps the bytes; the HTTP cache would keep a second copy
      headers: offset > 0 ? { Range: `bytes=${offset}-` } : {},
    });
  } catch (error) {
    throw new ModelStoreError(
      "download-failed",
      `could not download ${fileName(file.url)}: the server cannot be reached (${error?.message ?? error})`,
    );
  }
}

/**
 * Whether a response to `Range: bytes=<offset>-` continues at exactly that byte.
 * @param {Response} response
 * @param {number} offset
 */
function resumesAt(response, offset) {
  const match = /^bytes (\d+)-/.exec(response.headers.get("content-range") ?? "");
  return response.status === 206 && match !== null && Number(match[1]) === offset;
}

/**
 * Open `part` for writing, run `write`, commit. A quota error deletes the partial file and becomes the clear "not
 * enough space" error; any other failure leaves the file as it was last committed.
 * @param {FileSystemDirectoryHandle} dir
 * @param {ModelFile} file
 * @param {FileSystemFileHandle} part
 * @param {(writable: FileSystemWritableFileStream) => Promise<void>} write
 * @param {{keep: boolean}} options keep: append to what the file holds, else start it empty
 */
async function writeOrCleanUp(dir, file, part, write, { keep }) {
  let writable = null;
  try {
    writable = await part.createWritable({ keepExistingData: keep });
    await write(writable);
    const open = writable;
    writable = null;
    await open.close();
  } catch (error) {
    await writable?.abort().catch(() => {});
    if (error?.name !== "QuotaExceededError") throw error;
    await removeEntry(dir, file.sha256 + PART);
    throw noSpace(file, null);
  }
}

/**
 * Fail with the clear message, and leave nothing half-stored, when the download cannot fit.
 * @param {FileSystemDirectoryHandle} dir
 * @param {ModelFile} file
 * @param {number} needed bytes still to download
 */
async function checkSpace(dir, file, needed) {
  if (!navigator.storage?.estimate) return;
  const { usage = 0, quota = Infinity } = await navigator.storage.estimate();
  if (needed <= quota - usage) return;
  await removeEntry(dir, file.sha256 + PART);
  throw noSpace(file, Math.max(0, quota - usage));
}

/**
 * The "not enough space" error.
 * @param {ModelFile} file
 * @param {number | null} free what the estimate says is left; null when the browser refused a write (its estimate
 *   is not always the quota it enforces)
 */
function noSpace(file, free) {
  const room = free === null ? "the browser refused to store more for this app" : `only ${formatBytes(free)} is free`;
  return new ModelStoreError(
    "no-space",
    `Not enough space for ${fileName(file.url)}: it needs ${formatBytes(file.size)} and ${room}. Remove models you ` +
      "do not need (Models panel) or free space on this device, then try again.",
  );
}

/**
 * A function to call with the bytes loaded so far; it reports progress (rate over this attempt) at most every
 * PROGRESS_EVERY_MS, the first and last steps always.
 * @param {ModelFile} file
 * @param {number} startedAt bytes already stored when this attempt began
 * @param {((progress: ModelProgress) => void) | undefined} onProgress
 */
function progressReporter(file, startedAt, onProgress) {
  const started = performance.now();
  let reported = -Infinity;
  return (/** @type {number} */ loaded) => {
    const now = performance.now();
    if (loaded < file.size && now - reported < PROGRESS_EVERY_MS) return;
    reported = now;
    const seconds = (now - started) / 1000;
    const bytesPerSecond = seconds > 0 ? (loaded - startedAt) / seconds : 0;
    /** @type {ModelProgress} */
    const progress = {
      type: "progress",
      sha256: file.sha256,
      url: file.url,
      loaded,
      total: file.size,
      bytesPerSecond,
      secondsLeft: bytesPerSecond > 0 ? (file.size - loaded) / bytesPerSecond : null,
    };
    onProgress?.(progress);
    announce(progress);
  };
}

/** @type {BroadcastChannel | null} */
let channel = null;

/** @param {ModelEvent} event */
function announce(event) {
  channel ??= new BroadcastChannel(CHANNEL);
  channel.postMessage(event);
}
