// Registers the service worker and follows its life: offline readiness, updates waiting, switching versions.
//
// A page only ever runs with files of one build: when a new version takes control (after the user asked for it,
// possibly in another tab) every page that was controlled by the old one reloads.
import { askServiceWorker } from "./sw-client.js";

const SW_URL = "/sw.js";
/** The version that served this page's files, read as the module loads: the page is of its build. */
const CONTROLLER_AT_LOAD = "serviceWorker" in navigator ? navigator.serviceWorker.controller : null;
const UPDATE_CHECK_MS = 30 * 60_000;
const ACTIVATION_GRACE_MS = 3_000;
/** How often, and how many times, the page asks a waiting version it switches to again to stop waiting. */
const SKIP_WAITING_RETRY_MS = 2_000;
const SKIP_WAITING_RETRIES = 60;
/** How long a page that reloaded to switch versions waits for the switch before it starts as the old build. */
const SWITCH_WAIT_MS = 60_000;
/** How long the page waits for a waiting version to say which build it is before offering it anyway. */
const ANSWER_WAIT_MS = 10_000;
/** sessionStorage key: the build this tab's user accepted, until it takes control. */
const UPDATE_ACCEPTED = "satchel-update-accepted";

/**
 * @param {{offlineStatus: HTMLElement, onUpdateWaiting: (activate: () => void) => void, onOfflineReady: () => void,
 *   beforeActivate: () => void}} hooks `beforeActivate` runs in every open page just before a new version takes over
 */
export async function startServiceWorker({ offlineStatus, onUpdateWaiting, onOfflineReady, beforeActivate }) {
  const setStatus = (state, text) => {
    offlineStatus.dataset.state = state;
    offlineStatus.textContent = text;
  };
  if (!("serviceWorker" in navigator)) {
    setStatus("unsupported", "Offline use is not available in this browser");
    return;
  }
  const hadController = Boolean(CONTROLLER_AT_LOAD);
  // Every tab stops its own workers before the switch (they block the activation, and are restarted after reload).
  const updates = new BroadcastChannel("satchel-update");
  updates.onmessage = ({ data }) => {
    if (data === "activating") beforeActivate();
  };
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    sessionStorage.removeItem(UPDATE_ACCEPTED);
    if (hadController) window.location.reload();
  });
  // A new version may have taken over while the page was starting, before anything listened.
  if (hadController && navigator.serviceWorker.controller !== CONTROLLER_AT_LOAD) {
    sessionStorage.removeItem(UPDATE_ACCEPTED);
    window.location.reload();
    return;
  }

  let registration;
  try {
    registration = await navigator.serviceWorker.register(SW_URL, { type: "module", updateViaCache: "none" });
  } catch (error) {
    setStatus("error", `Offline use failed to start: ${error.message}`);
    return;
  }

  const switchTo = async (worker) => {
    beforeActivate();
    updates.postMessage("activating");
    // Waits for the answer: Chromium may drop a message to a stopped worker whose sender has left meanwhile.
    await askServiceWorker("skip-waiting", {}, worker).catch(() => {});
    // Chromium can also leave a version waiting after its skipWaiting() (the old version was busy then, and the
    // activation is not tried again when it goes idle): ask again while this page is open and it still waits.
    let tries = 0;
    const again = setInterval(() => {
      if (worker.state !== "installed" || ++tries > SKIP_WAITING_RETRIES) clearInterval(again);
      else void askServiceWorker("skip-waiting", {}, worker).catch(() => {});
    }, SKIP_WAITING_RETRY_MS);
  };
  /** @param {ServiceWorker} worker @returns {Promise<string | null>} */
  const buildOf = (worker) => Promise.race([askServiceWorker("build", {}, worker), delay(ANSWER_WAIT_MS, null)]).catch(() => null);
  /** @param {ServiceWorker} worker @param {string | null} [known] its build, when already asked */
  const offerUpdate = async (worker, known) => {
    if (!navigator.serviceWorker.controller) return;
    const build = known ?? (await buildOf(worker));
    onUpdateWaiting(async () => {
      if (build) sessionStorage.setItem(UPDATE_ACCEPTED, build);
      await switchTo(worker);
      // Chromium activates the new version only once the old one is idle, and sometimes holds it busy on behalf of
      // this document; leaving the document releases it. The reloaded page is still one build only: the old one
      // until the new version takes control, which reloads it again.
      setTimeout(() => window.location.reload(), ACTIVATION_GRACE_MS);
    });
  };
  const follow = (worker) => {
    worker.addEventListener("statechange", () => {
      if (worker.state === "installed") offerUpdate(worker);
      if (worker.state === "redundant" && !registration.active) setStatus("error", "Offline use failed to install");
    });
  };
  // The build this tab's user accepted already controls it, yet no switch was seen: it took over while this page
  // (of the old build) was loading, before anything listened. Reload once, into it.
  const accepted = sessionStorage.getItem(UPDATE_ACCEPTED);
  if (hadController && accepted && !registration.waiting && (await askServiceWorker("build").catch(() => null)) === accepted) {
    sessionStorage.removeItem(UPDATE_ACCEPTED);
    window.location.reload();
    return;
  }
  if (registration.waiting) {
    const waiting = registration.waiting;
    const build = await buildOf(waiting);
    if (hadController && build && sessionStorage.getItem(UPDATE_ACCEPTED) === build) {
      // This tab's user accepted this very build before a reload: switch now, and start nothing meanwhile, since
      // every request this page makes keeps the old version busy, which holds the switch back. The page reloads
      // when the new version takes over; if it has not after a while, it runs as it is.
      setStatus("updating", "Switching to the new version…");
      await switchTo(waiting);
      await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
        setTimeout(resolve, SWITCH_WAIT_MS);
      });
    }
    offerUpdate(waiting, build);
  }
  if (registration.installing) follow(registration.installing);
  registration.addEventListener("updatefound", () => follow(registration.installing));

  await navigator.serviceWorker.ready;
  await controlled();
  const build = await askServiceWorker("build");
  setStatus("ready", build ? `Ready offline (build ${build.slice(0, 8)})` : "Ready offline");
  onOfflineReady();

  const checkForUpdate = () => {
    if (navigator.onLine) registration.update().catch(() => {}); // unreachable server: try again later
  };
  window.addEventListener("online", checkForUpdate);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") checkForUpdate();
  });
  setInterval(checkForUpdate, UPDATE_CHECK_MS);
}

/** Resolves once a service worker controls this page (at once, or when the first one claims it). */
function controlled() {
  if (navigator.serviceWorker.controller) return Promise.resolve();
  return /** @type {Promise<void>} */ (
    new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", () => resolve(), { once: true }))
  );
}

/**
 * @template T
 * @param {number} ms
 * @param {T} value
 * @returns {Promise<T>}
 */
function delay(ms, value) {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}
