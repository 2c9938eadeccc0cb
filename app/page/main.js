// Entry point of the page: wires the shell's parts together and nothing else.
import { watchInstallPrompt } from "./install-button.js";
import { watchNetwork } from "./network-status.js";
import { startServiceWorker } from "./service-worker.js";
import { watchStorage } from "./storage-status.js";
import { showUpdateNotice } from "./update-notice.js";

watchNetwork(document.getElementById("network-status"));
const storage = watchStorage(document.getElementById("storage-status"));
watchInstallPrompt(document.getElementById("install-button"));

startServiceWorker({
  offlineStatus: document.getElementById("offline-status"),
  onUpdateWaiting: (activate) => showUpdateNotice(document.getElementById("update-notice"), activate),
  onOfflineReady: () => storage.refresh(),
});
