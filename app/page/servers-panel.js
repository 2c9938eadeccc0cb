// The servers panel: every server in the registry mirror with its tools (offline too), where each runs (origin,
// transport, the MCP version it negotiated), the state of local workers, tools hidden because their schema is invalid
// (with the reason), and errors. Servers the user added carry Edit, Disable/Enable and Remove; a remote server of an
// upstream registry carries Add. What those buttons do is page/server-actions.js's.
import { localConfig, remoteOf, userMeta } from "../common/mirror.js";
import { needsValues } from "../common/registry-remote.js";
import { addableFromRegistry } from "../common/user-servers.js";
import { protocolLabel } from "../common/mcp-client.js";
import { toolLabel } from "./tool-schema.js";
import { h } from "./dom.js";

/** @typedef {import("./server-actions.js").ServerActions} ServerActions */

/**
 * @param {HTMLElement} list the <ul> to fill
 * @param {{servers: any[], tools: Map<string, any>, errors: Map<string, string>, workers: Map<string, any>,
 *   protocols: Map<string, import("../common/mcp-client.js").ProtocolVerdict>, selected: string | null, onSelect: (server: any, tool: any) => void,
 *   actions: ServerActions, canAdd: boolean}} view canAdd: whether the policy lets the user add servers
 */
export function renderServers(list, view) {
  list.replaceChildren(...view.servers.map((server) => serverItem(server, view)));
}

function serverItem(server, { tools, errors, workers, protocols, selected, onSelect, actions, canAdd }) {
  const record = tools.get(server.name);
  const local = localConfig(server);
  const user = userMeta(server);
  const disabled = user?.disabled === true;
  const worker = workers.get(server.name);
  const title = server.server.title ?? server.name;
  return h(
    "li",
    { class: "server", dataset: { server: server.name, ...(user ? { userAdded: "true", disabled: String(disabled) } : {}) } },
    h(
      "h3",
      { class: "server-name" },
      title,
      h("span", { class: "badge" }, local ? "on this device" : "remote"),
      user ? h("span", { class: "badge" }, "added by you") : null,
      disabled ? h("span", { class: "badge badge-off" }, "disabled") : null,
    ),
    server.server.description ? h("p", { class: "server-description" }, server.server.description) : null,
    serverFacts(server, local, protocols.get(server.name) ?? protocolOf(record)),
    worker ? h("p", { class: "server-state", dataset: { state: worker.state } }, workerText(worker)) : null,
    errors.has(server.name) ? h("p", { class: "server-error", role: "alert" }, errors.get(server.name)) : null,
    disabled
      ? h("p", { class: "empty-state" }, "Disabled: nothing is sent to it until you enable it.")
      : toolList(server, record, selected, onSelect),
    !disabled && record?.hidden.length
      ? h("details", { class: "hidden-tools" }, h("summary", {}, `${record.hidden.length} tool(s) hidden`),
          h("ul", {}, ...record.hidden.map((hidden) => h("li", { dataset: { hiddenTool: hidden.name } }, `${hidden.name}: ${hidden.reason}`))))
      : null,
    !disabled && !record && !errors.has(server.name) ? h("p", { class: "empty-state" }, notLoadedText(server, user)) : null,
    user ? userControls(server, title, disabled, actions) : null,
    !user && canAdd && addableFromRegistry(server, location.origin)
      ? h("div", { class: "actions server-actions" },
          h("button", { type: "button", class: "button secondary", "aria-label": `Add ${title}`, onclick: () => actions.addFromRegistry(server) }, "Add"))
      : null,
  );
}

/** Why a server has no tools listed yet. */
function notLoadedText(server, user) {
  return !user && !localConfig(server) && needsValues(server.server)
    ? "Add it to use it: it needs values that only you can give (its address or a key)."
    : "Tools not loaded yet.";
}

/** What a server negotiated, as its mirrored tools record remembers it. */
function protocolOf(record) {
  return record?.protocolVersion ? { version: record.protocolVersion, era: record.protocolEra } : undefined;
}

/**
 * Where a server is, how it is reached, and the MCP version and era it negotiated; the sign-in state of a remote one.
 * @param {any} server
 * @param {any} local
 * @param {{version: string, era?: string} | undefined} protocol
 */
function serverFacts(server, local, protocol) {
  const remote = remoteOf(server);
  return h(
    "p",
    { class: "server-facts" },
    h("span", { dataset: { fact: "origin" } }, local ? "this device" : originOf(remote?.url)),
    " · ",
    h("span", { dataset: { fact: "transport" } }, local ? "Web Worker" : remote?.type ?? "no endpoint"),
    " · ",
    h(
      "span",
      { dataset: { fact: "protocol", ...(protocol?.era ? { era: protocol.era } : {}) } },
      protocolLabel(protocol?.version, protocol?.era) ?? "not yet connected",
    ),
    // Filled by the sign-in (OAuth) code for servers that need it; empty otherwise.
    local ? null : h("span", { class: "server-auth", dataset: { serverAuth: "" } }),
  );
}

/** @param {string | undefined} url */
function originOf(url) {
  if (!url) return "no URL";
  return URL.canParse(url) ? new URL(url).origin : url; // a registry's URL template ({tenant}) is shown as written
}

function toolList(server, record, selected, onSelect) {
  return h(
    "ul",
    { class: "tool-list" },
    ...(record?.tools ?? []).map((tool) => {
      const id = `${server.name}\u0000${tool.name}`;
      return h("li", {}, h("button", {
        type: "button",
        class: "tool-button",
        "aria-pressed": String(id === selected),
        dataset: { tool: tool.name },
        title: tool.description ?? "",
        onclick: () => onSelect(server, tool),
      }, toolLabel(tool)));
    }),
  );
}

/** @param {ServerActions} actions */
function userControls(server, title, disabled, actions) {
  /** @param {string} text @param {() => void} onclick */
  const button = (text, onclick) => h("button", { type: "button", class: "button secondary", "aria-label": `${text} ${title}`, onclick }, text);
  return h(
    "div",
    { class: "actions server-actions" },
    button("Edit", () => actions.edit(server)),
    button(disabled ? "Enable" : "Disable", () => actions.setDisabled(server, !disabled)),
    button("Remove", () => actions.remove(server)),
  );
}

function workerText({ state, detail }) {
  if (state === "loading") {
    const { loaded, total, message } = detail ?? {};
    if (total) return `Loading… ${Math.round((100 * loaded) / total)} %`;
    return `Loading… ${message ?? ""}`.trim();
  }
  if (state === "ready") return "Ready";
  if (state === "starting") return "Starting…";
  if (state === "error") return `Failed: ${detail?.message ?? "unknown error"}`;
  return detail?.message ?? state;
}
