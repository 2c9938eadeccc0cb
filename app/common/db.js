// The app's IndexedDB database, shared by the service worker and the pages: one schema, opened one way.
//
// Stores: `servers` (registry mirror, by server name), `tools` (each server's tools/list, by server name),
// `queue` (calls made offline, in order), `approvals` (the user's remembered per-tool decisions), `meta` (small
// bookkeeping such as when the registry was last synced); since version 2 also `notes` (dictated notes, by id)
// and `audio` (each note's recording as 16 kHz PCM chunks, by [note id, chunk index]); since version 3 also `auth`
// (each remote server's OAuth state: client registration, tokens, the pending sign-in; by server name).
//
// Each version's upgrade creates only what that version added, so a database of an older version keeps its
// queue, approvals and mirror: the service worker and old pages may have opened it long before notes existed.

const DB_NAME = "satchel";
const DB_VERSION = 3;

/** What each version adds, by version number. @type {Record<number, (db: IDBDatabase) => void>} */
const UPGRADES = {
  1: (db) => {
    db.createObjectStore("servers", { keyPath: "name" });
    db.createObjectStore("tools", { keyPath: "server" });
    const queue = db.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
    queue.createIndex("status", "status");
    queue.createIndex("key", "key", { unique: true });
    db.createObjectStore("approvals", { keyPath: "id" });
    db.createObjectStore("meta", { keyPath: "key" });
  },
  2: (db) => {
    db.createObjectStore("notes", { keyPath: "id" }).createIndex("createdAt", "createdAt");
    db.createObjectStore("audio", { keyPath: ["noteId", "index"] });
  },
  3: (db) => {
    db.createObjectStore("auth", { keyPath: "server" }).createIndex("state", "pending.state");
  },
};

/** @type {Promise<IDBDatabase> | null} */
let opening = null;

/** @returns {Promise<IDBDatabase>} */
export function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = (event) => {
      for (let version = event.oldVersion + 1; version <= DB_VERSION; version += 1) UPGRADES[version](request.result);
    };
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => {
        db.close();
        opening = null;
      };
      resolve(db);
    };
    request.onerror = () => {
      opening = null;
      reject(request.error);
    };
  });
  return opening;
}

/**
 * @param {IDBRequest | IDBTransaction} target
 * @returns {Promise<any>} the request's result (its caller knows what the store holds), or undefined for a transaction
 */
function settle(target) {
  return new Promise((resolve, reject) => {
    if (target instanceof IDBTransaction) {
      target.oncomplete = () => resolve(undefined);
      target.onerror = target.onabort = () => reject(target.error ?? new Error("IndexedDB transaction aborted"));
    } else {
      target.onsuccess = () => resolve(target.result);
      target.onerror = () => reject(target.error);
    }
  });
}

/**
 * Run `work` in one transaction over `stores`; resolves with its return value once the transaction commits.
 * @template T
 * @param {string | string[]} stores
 * @param {IDBTransactionMode} mode
 * @param {(tx: IDBTransaction) => T | Promise<T>} work
 * @returns {Promise<T>}
 */
export async function transact(stores, mode, work) {
  const db = await openDb();
  const tx = db.transaction(stores, mode);
  const done = settle(tx);
  const value = await work(tx);
  await done;
  return value;
}

/** Promise of an IDBRequest's result. @param {IDBRequest} request @returns {Promise<any>} */
export const result = (request) => settle(request);

/** @param {string} store @param {IDBValidKey} key @returns {Promise<any>} */
export const getOne = (store, key) => transact(store, "readonly", (tx) => result(tx.objectStore(store).get(key)));

/** @param {string} store @returns {Promise<any[]>} */
export const getAll = (store) => transact(store, "readonly", (tx) => result(tx.objectStore(store).getAll()));

/** @param {string} store @param {any} value */
export const putOne = (store, value) => transact(store, "readwrite", (tx) => void tx.objectStore(store).put(value));

/** @param {string} store @param {IDBValidKey} key */
export const deleteOne = (store, key) => transact(store, "readwrite", (tx) => void tx.objectStore(store).delete(key));
