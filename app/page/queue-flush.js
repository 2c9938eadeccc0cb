// Asking the service worker to send the Outbox: at start, at the time its calls said to try again, and when the
// network comes back. The `online` event often comes before a connection is usable (the radio is up, the route or
// the proxy not yet), so a first try then reaches nothing; a few quick tries follow before the calls' own back-off
// (which grows to minutes) decides again.
import { askServiceWorker } from "./sw-client.js";

/** The pauses before each further try after the network came back, while none of them gets a call through. */
export const RECONNECT_RETRY_MS = Object.freeze([1_000, 2_000, 4_000, 8_000, 16_000]);

/** @typedef {{sent: number, failed: number, pending: number, signin: number, retryInMs: number | null}} FlushOutcome */

/**
 * @param {(type: string, data: object) => Promise<any>} [ask] how the service worker is asked (tests pass a fake)
 * @returns {{flush: (force: boolean) => Promise<FlushOutcome>, reconnected: () => Promise<void>}}
 */
export function queueFlusher(ask = askServiceWorker) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let retryTimer;
  let reconnections = 0;

  /** One flush; `force` sends calls whose retry time has not come yet. @param {boolean} force */
  async function flush(force) {
    clearTimeout(retryTimer);
    /** @type {FlushOutcome} */
    const outcome = await ask("flush-queue", { force });
    if (outcome.retryInMs !== null && navigator.onLine) retryTimer = setTimeout(() => void flush(false), outcome.retryInMs);
    return outcome;
  }

  /** The network came back: flush now, and again after each pause of RECONNECT_RETRY_MS until a call goes out. */
  async function reconnected() {
    const reconnection = ++reconnections;
    for (let index = 0; ; index += 1) {
      if (reconnection !== reconnections || !navigator.onLine) return; // a newer reconnection, or offline again
      const outcome = await flush(true);
      if (outcome.sent > 0 || outcome.pending === 0 || index === RECONNECT_RETRY_MS.length) return;
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_RETRY_MS[index]));
    }
  }

  return { flush, reconnected };
}
