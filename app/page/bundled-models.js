// A kiosk's first launch: the models its admin bundled (`satchel bundle --model`) are stored for offline use at once,
// without waiting for a tool to need them, so the device works with the network cut from the first launch on.
//
// A bundle builds its site with the WASM servers that run the chosen models, so the bundled models are exactly the
// model files of the local servers in the build's registry snapshot (precached, so readable offline too), and a
// bundle says it is one in the page (`<meta name="satchel-release">`, empty for a plain build, which pre-loads
// nothing: there a model is fetched when a tool first needs it or the user asks). Models go through the model
// store like every other (verified, kept in OPFS, progress and failures broadcast to the Models panel); one
// already stored is not fetched or read again.
import { localConfig, SNAPSHOT_URL } from "../common/mirror.js";
import { ensureModel, modelFiles, storedModels } from "../common/model-store.js";

/** The bundle release this page belongs to, or "" for a plain build. */
export const bundleRelease = () =>
  /** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="satchel-release"]'))?.content ?? "";

/**
 * The bundle's models ([] when this site is not a bundle).
 * @returns {Promise<{url: string, sha256: string, size: number}[]>}
 */
async function bundledModels() {
  if (!bundleRelease()) return [];
  const response = await fetch(SNAPSHOT_URL);
  if (!response.ok) throw new Error(`cannot read the registry snapshot: HTTP ${response.status}`);
  const snapshot = await response.json();
  return (snapshot.servers ?? []).flatMap((entry) =>
    modelFiles(localConfig(entry)).map(({ url, sha256, size }) => ({ url, sha256, size })),
  );
}

/**
 * Store every bundled model that is not stored yet, one after the other; resolves with those it stored. A failure
 * (no space, a broken download) stops here and is reported by the model store to the Models panel; the next launch
 * tries again.
 */
export async function preloadBundledModels() {
  const models = await bundledModels();
  if (!models.length) return [];
  const stored = new Set((await storedModels()).filter((model) => model.complete).map((model) => model.sha256));
  const missing = models.filter((model) => !stored.has(model.sha256));
  for (const model of missing) await ensureModel(model);
  return missing;
}
