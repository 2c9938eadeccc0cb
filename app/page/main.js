// Entry point of the page: wires the shell's parts together and nothing else.
import { getTools, localConfig, remoteUrl } from "../common/mirror.js";
import { loadPolicy, userServersAllowed } from "../common/policy.js";
import { reachOf } from "../common/remote-fetch.js";
import { addServerView } from "./add-server-form.js";
import { h } from "./dom.js";
import { preloadBundledModels } from "./bundled-models.js";
import { watchInstallPrompt } from "./install-button.js";
import { startDictation } from "./dictation-view.js";
import { hostLocalServers } from "./local-server-host.js";
import { McpHost } from "./mcp-host.js";
import { modelsView } from "./models-panel.js";
import { watchNetwork } from "./network-status.js";
import { outboxView } from "./outbox-panel.js";
import { queueFlusher } from "./queue-flush.js";
import { serverActions } from "./server-actions.js";
import { renderServers } from "./servers-panel.js";
import { startServiceWorker } from "./service-worker.js";
import { onServiceWorkerMessage } from "./sw-client.js";
import { watchStorage } from "./storage-status.js";
import { signInControls } from "./sign-in.js";
import { showTool } from "./tool-panel.js";
import { showUpdateNotice } from "./update-notice.js";

/** @param {string} id @returns {any} the page's element of that id (a button, a dialog, a list…) */
const $ = (id) => document.getElementById(id);

watchNetwork($("network-status"));
const storage = watchStorage($("storage-status"));
watchInstallPrompt($("install-button"));

/** Everything that uses MCP servers; started only once the (managed) policy is known to be usable. */
function startHost(policy) {
  if (policy) {
    $("managed-status").textContent = `Managed by ${policy.organization ?? "your organisation"}`;
    $("managed-status").hidden = false;
  }
  const host = new McpHost({ approvalDialog: $("approval-dialog"), policy });
  const workers = new Map();
  let selected = null;

  async function renderServerList() {
    const servers = await host.servers();
    const tools = new Map(
      await Promise.all(servers.map(async (s) => /** @type {const} */ ([s.name, await getTools(s.name)]))),
    );
    renderServers($("server-list"), {
      servers,
      tools,
      errors: host.errors,
      workers,
      protocols: host.protocols,
      actions,
      canAdd: userServersAllowed(policy),
      selected,
      onSelect: (server, tool) => {
        selected = `${server.name}\u0000${tool.name}`;
        showTool($("tool-view"), { server, tool, host });
        renderServerList();
      },
    });
    $("registry-error").textContent = host.errors.get("registry") ?? "";
    await Promise.all(servers.filter((server) => !localConfig(server)).map(showSignIn));
  }

  /** @param {import("../common/remote-fetch.js").Reach} reach */
  const reachText = ({ path, reason }) => `${path === "relay" ? "Through Satchel's relay" : "Reached directly"}: ${reason}. `;

  /** Fill a remote server's sign-in slot in the list. @param {any} server */
  async function showSignIn(server) {
    const url = remoteUrl(server);
    const slot = $("server-list").querySelector(`[data-server="${CSS.escape(server.name)}"] [data-server-auth]`);
    if (!url || !slot) return;
    const reach = await reachOf(new URL(url).origin);
    slot.replaceChildren(
      reach ? h("span", { class: "server-reach", dataset: { serverReach: reach.path } }, reachText(reach)) : "",
      await signInControls(server, url, { onChange: () => host.signedIn(server.name) }),
    );
  }

  const actions = serverActions({ dialog: $("server-dialog"), host, policy, changed: renderServerList });
  addServerView($("add-server"), { policy, onAdded: actions.added });

  const pool = hostLocalServers((status) => {
    workers.set(status.serverId, status);
    renderServerList();
  });
  host.addEventListener("change", renderServerList);

  const dictation = startDictation($("notes-panel"), { host, policy });
  const outbox = outboxView({ counts: $("outbox-counts"), list: $("outbox-list") });
  const models = modelsView($("model-list"), { servers: () => host.servers() });
  onServiceWorkerMessage("registry-changed", models.refresh);
  const queue = queueFlusher();
  onServiceWorkerMessage("queue-changed", () => {
    outbox.refresh();
    renderServerList(); // a queued call may have found a server that now wants a sign-in
  });
  onServiceWorkerMessage("registry-changed", renderServerList);
  window.addEventListener("online", () => {
    void queue.reconnected();
    host.refresh();
  });
  window.addEventListener("offline", renderServerList);

  return {
    async onOfflineReady() {
      await renderServerList();
      await outbox.refresh();
      await models.refresh();
      // What dictation offers depends on the whisper server alone: decided without waiting for every server's
      // tools (the Python runtime alone takes seconds to load).
      await Promise.all([host.refresh(), dictation.refresh()]);
      // A kiosk stores the models its admin bundled at first launch, in the background (progress: Models panel).
      if (navigator.onLine) preloadBundledModels().catch((error) => console.warn(`bundled models: ${error.message}`));
      if (navigator.onLine) await queue.flush(false);
    },
    beforeActivate: () => pool.stopAll("Satchel is switching to its new version"),
  };
}

/** A managed build whose policy is missing or malformed stops here, saying so; the service worker still runs so
 * that a corrected installation can arrive as an update. */
function refuseToStart(error) {
  $("policy-error").querySelector("[data-policy-problem]").textContent = error.message;
  $("policy-error").hidden = false;
  $("main").hidden = true;
  return { onOfflineReady: async () => {}, beforeActivate: () => {} };
}

const managedMeta = /** @type {HTMLMetaElement} */ (document.querySelector('meta[name="satchel-managed"]'));
const managed = managedMeta.content === "true";
const app = await loadPolicy(managed, (url) => fetch(url, { cache: "no-cache" })).then(startHost, refuseToStart);

startServiceWorker({
  offlineStatus: $("offline-status"),
  onUpdateWaiting: (activate) => showUpdateNotice($("update-notice"), activate),
  onOfflineReady: async () => {
    storage.refresh();
    await app.onOfflineReady();
  },
  beforeActivate: app.beforeActivate,
});
