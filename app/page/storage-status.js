// Shows how much of the browser's storage quota the app uses (precache, models, notes), from the Storage API, and
// whether the browser agreed to keep it ("kept": persistent storage, asked for when a model is downloaded).
import { formatBytes } from "../common/format.js";
import { watchModels } from "../common/model-store.js";

const REFRESH_MS = 60_000;

/** @param {HTMLElement} element */
export function watchStorage(element) {
  const refresh = async () => {
    if (!navigator.storage?.estimate) {
      element.textContent = "Storage: not reported by this browser";
      return;
    }
    const { usage = 0, quota = 0 } = await navigator.storage.estimate();
    const persisted = (await navigator.storage.persisted?.()) ? ", kept" : "";
    element.textContent = `Storage: ${formatBytes(usage)} of ${formatBytes(quota)}${persisted}`;
    element.title = `${usage} of ${quota} bytes`;
  };
  refresh();
  setInterval(refresh, REFRESH_MS);
  watchModels((event) => {
    if (event.type !== "progress") refresh(); // a model stored or removed changes the usage at once
  });
  return { refresh };
}
