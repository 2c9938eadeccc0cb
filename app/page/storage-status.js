// Shows how much of the browser's storage quota the app uses (precache, models, notes), from the Storage API.
import { formatBytes } from "./format.js";

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
  return { refresh };
}
