// A kiosk's first launch: the models its admin bundled (`satchel bundle --model`) are stored for offline use at once,
// without waiting for a tool to need them, so the device works with the network cut from the first launch on.
//
// Only bundles list pre-placed models, in /models/models.json (written by satchel/bundle/models.py); any other site
// has no such file and nothing happens. Models go through the model store like every other (verified, kept in OPFS,
// progress and failures broadcast to the Models panel); one already stored is not fetched or read again.
import { ensureModel, storedModels } from "../common/model-store.js";

export const BUNDLED_MODELS_URL = "/models/models.json";

/**
 * The bundle's models, or [] when this site is not a bundle or the list cannot be read now (offline).
 * @returns {Promise<{url: string, sha256: string, size: number}[]>}
 */
async function bundledModels() {
  let response;
  try {
    response = await fetch(BUNDLED_MODELS_URL, { cache: "no-store" });
  } catch {
    return [];
  }
  if (!response.ok) return [];
  const index = await response.json();
  return (index.models ?? []).map(({ url, sha256, size }) => ({ url, sha256, size }));
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
