// What the servers list's buttons do: Edit, Disable/Enable and Remove on a server the user added, Add on an upstream
// registry's entry. Forms and the removal confirmation open in one modal dialog (Escape or Cancel leave it). After a
// change the host forgets its client of that server and lists the tools again, so the list shows the server as it
// now is.
import { removeUserServer, setUserServerDisabled } from "../common/user-servers.js";
import { registryAddForm } from "./add-server-form.js";
import { h } from "./dom.js";
import { editServerForm } from "./edit-server-form.js";

/** @typedef {import("../common/mirror.js").MirroredServer} MirroredServer */
/**
 * @typedef {{added: (entries: MirroredServer[]) => Promise<void>, edit: (server: MirroredServer) => void,
 *   setDisabled: (server: MirroredServer, disabled: boolean) => Promise<void>, remove: (server: MirroredServer) => void,
 *   addFromRegistry: (server: MirroredServer) => void}} ServerActions
 */

/**
 * @param {{dialog: HTMLDialogElement, host: import("./mcp-host.js").McpHost, policy: any, changed: () => void}} context
 *   changed: re-render the list
 * @returns {ServerActions}
 */
export function serverActions({ dialog, host, policy, changed }) {
  /** @param {string} heading @param {HTMLElement} content */
  const open = (heading, content) => {
    dialog.replaceChildren(h("h2", { id: "server-dialog-title" }, heading), content);
    dialog.showModal();
    /** @type {HTMLElement | null} */ (dialog.querySelector("input, select, textarea, button"))?.focus();
  };
  const close = () => dialog.close();
  const label = (/** @type {MirroredServer} */ server) => server.server.title ?? server.name;

  /** @param {MirroredServer[]} entries */
  async function added(entries) {
    await Promise.all(entries.map((entry) => host.refreshServer(entry)));
  }

  return {
    added,
    edit(server) {
      open(`Edit ${label(server)}`, editServerForm(server, {
        policy,
        onCancel: close,
        onSaved: async (updated) => {
          close();
          host.forget(updated.name);
          await host.refreshServer(updated);
        },
      }));
    },
    async setDisabled(server, disabled) {
      const updated = await setUserServerDisabled(server.name, disabled);
      host.forget(server.name);
      if (disabled) changed();
      else await host.refreshServer(updated);
    },
    remove(server) {
      const confirm = async () => {
        await removeUserServer(server.name);
        host.forget(server.name);
        close();
        changed();
      };
      const cancel = h("button", { type: "button", class: "button secondary", onclick: close }, "Cancel");
      open(`Remove ${label(server)}?`, h("div", {},
        h("p", {}, "Its tools, and the approvals you gave them, are removed from this device. You can add it again later."),
        h("div", { class: "actions" }, h("button", { type: "button", class: "button", onclick: confirm }, "Remove"), cancel)));
      cancel.focus(); // the safe choice is the one Enter takes
    },
    addFromRegistry(server) {
      open(`Add ${label(server)}`, registryAddForm(server, {
        policy,
        onCancel: close,
        onAdded: async (entries) => {
          close();
          await added(entries);
        },
      }));
    },
  };
}
