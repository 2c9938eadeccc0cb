// Adding MCP servers from the servers panel: "Add server" opens a URL field and a textarea for a configuration pasted
// from a desktop client (Claude Desktop, VS Code); and the form that asks for what an upstream registry entry's
// remote needs (headers, URL variables) before it is added. The checks and the storage are
// common/user-servers.js's; this module shows each error next to its field and hands what was added to `onAdded`.
import { userServersAllowed } from "../common/policy.js";
import { inputsFormSchema, registryInputs, registryRemote } from "../common/registry-remote.js";
import { MAX_URL_LENGTH, UserServerError } from "../common/server-input.js";
import { addServerFromRegistry, addServerFromUrl, addServersFromJson } from "../common/user-servers.js";
import { h } from "./dom.js";
import { labelledField } from "./form-field.js";
import { buildForm } from "./schema-form.js";

/** @typedef {import("../common/mirror.js").MirroredServer} MirroredServer */
/** @typedef {(entries: MirroredServer[]) => Promise<void>} OnAdded */

let registryFormCount = 0;

/**
 * Run `add`; a UserServerError is shown by `show`, anything else is a bug and propagates.
 * @param {() => Promise<void>} add
 * @param {(error: UserServerError) => void} show
 */
async function attempt(add, show) {
  try {
    await add();
  } catch (error) {
    if (!(error instanceof UserServerError)) throw error;
    show(error);
  }
}

/**
 * The "Add server" control: by URL, or by pasting a configuration. A policy that does not let users add servers
 * gets a line saying so instead.
 * @param {HTMLElement} container
 * @param {{policy: any, onAdded: OnAdded}} options
 */
export function addServerView(container, { policy, onAdded }) {
  if (!userServersAllowed(policy)) {
    container.replaceChildren(h("p", { class: "field-hint" }, "Adding servers: ", h("span", { class: "managed" }, "Managed by your organisation")));
    return;
  }
  const status = h("p", { class: "add-server-status", role: "status" });
  /** @param {MirroredServer[]} entries */
  const announce = (entries) => {
    status.textContent = entries.length ? `Added ${entries.map((entry) => entry.server.title ?? entry.name).join(", ")}.` : "";
  };

  const url = labelledField({
    id: "add-server-url",
    name: "url",
    label: "Server URL",
    hint: "The address of a remote MCP server (Streamable HTTP).",
    input: h("input", { type: "url", inputmode: "url", autocomplete: "off", spellcheck: false, maxlength: MAX_URL_LENGTH, placeholder: "https://mcp.example.com/mcp" }),
  });
  const byUrl = h("form", {
    class: "add-server-form",
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      url.showError();
      announce([]);
      return attempt(async () => {
        const entry = await addServerFromUrl(url.input.value, { policy });
        url.input.value = "";
        announce([entry]);
        await onAdded([entry]);
      }, (error) => {
        url.showError(error.message);
        url.input.focus();
      });
    },
  }, url.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "button" }, "Add")));

  const config = labelledField({
    id: "add-server-config",
    name: "config",
    label: "Paste configuration",
    hint: 'An "mcpServers" JSON document as Claude Desktop keeps it, or VS Code\'s "servers"; servers with a URL are added.',
    input: h("textarea", { rows: 6, spellcheck: false, autocomplete: "off" }),
  });
  const byConfig = h("form", {
    class: "add-server-form",
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      config.showError();
      announce([]);
      return attempt(async () => {
        const { added, refused } = await addServersFromJson(config.input.value, { policy });
        announce(added);
        config.showError(refused.map((item) => item.message).join("\n"));
        if (!refused.length) config.input.value = "";
        if (added.length) await onAdded(added);
      }, (error) => {
        config.showError(error.message);
        config.input.focus();
      });
    },
  }, config.element, h("div", { class: "actions" }, h("button", { type: "submit", class: "button" }, "Add from configuration")));

  container.replaceChildren(h("details", { class: "add-server" }, h("summary", {}, "Add server"), byUrl, byConfig), status);
}

/**
 * The form for adding a server of an upstream registry: what its remote asks for, required values marked, secrets in
 * password fields, defaults filled in and choices offered; Add stores it, Cancel leaves.
 * @param {MirroredServer} entry the registry's entry in the mirror
 * @param {{policy: any, onAdded: OnAdded, onCancel: () => void}} options
 * @returns {HTMLElement}
 */
export function registryAddForm(entry, { policy, onAdded, onCancel }) {
  const cancel = h("button", { type: "button", class: "button secondary", onclick: onCancel }, "Cancel");
  let remote;
  try {
    remote = registryRemote(entry.server);
  } catch (error) {
    if (!(error instanceof UserServerError)) throw error;
    return h("div", {}, h("p", { class: "field-error", role: "alert" }, error.message), h("div", { class: "actions" }, cancel));
  }
  const inputs = registryInputs(remote);
  const keys = new Set(inputs.map((input) => input.key));
  const form = buildForm(inputsFormSchema(inputs), `registry-add-${++registryFormCount}`);
  return h("form", {
    class: "registry-add-form",
    novalidate: true,
    onsubmit: (event) => {
      event.preventDefault();
      const { args } = form.read();
      form.showErrors(new Map());
      return attempt(async () => {
        const added = await addServerFromRegistry(entry.name, args, { policy });
        await onAdded([added]);
      }, (error) => {
        // Errors about what is not a field of this form (the URL the values made, a URL added before) go above Add.
        form.showErrors(new Map([...error.fields].map(([key, text]) => [keys.has(key) ? key : "", text])));
      });
    },
  },
  h("p", { class: "field-hint" }, `Endpoint: ${remote.url} (${remote.type})`),
  inputs.length ? null : h("p", { class: "field-hint" }, "It needs nothing more."),
  form.element,
  h("div", { class: "actions" }, h("button", { type: "submit", class: "button" }, "Add"), cancel));
}
