// The servers panel: every server in the registry mirror with its tools (offline too), where each runs, the state
// of local workers, tools hidden because their schema is invalid (with the reason), and errors.
import { localConfig } from "../common/mirror.js";
import { toolLabel } from "./tool-schema.js";
import { h } from "./dom.js";

/**
 * @param {HTMLElement} list the <ul> to fill
 * @param {{servers: any[], tools: Map<string, any>, errors: Map<string, string>, workers: Map<string, any>,
 *   selected: string | null, onSelect: (server: any, tool: any) => void}} view
 */
export function renderServers(list, { servers, tools, errors, workers, selected, onSelect }) {
  list.replaceChildren(
    ...servers.map((server) => {
      const record = tools.get(server.name);
      const local = localConfig(server);
      const worker = workers.get(server.name);
      const where = local ? "on this device" : "remote";
      return h(
        "li",
        { class: "server", dataset: { server: server.name } },
        h("h3", { class: "server-name" }, server.server.title ?? server.name, h("span", { class: "badge" }, where)),
        local ? null : h("p", { class: "server-auth", dataset: { serverAuth: "" } }),
        server.server.description ? h("p", { class: "server-description" }, server.server.description) : null,
        worker ? h("p", { class: "server-state", dataset: { state: worker.state } }, workerText(worker)) : null,
        errors.has(server.name) ? h("p", { class: "server-error", role: "alert" }, errors.get(server.name)) : null,
        h(
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
        ),
        record?.hidden.length
          ? h("details", { class: "hidden-tools" }, h("summary", {}, `${record.hidden.length} tool(s) hidden`),
              h("ul", {}, ...record.hidden.map((hidden) => h("li", { dataset: { hiddenTool: hidden.name } }, `${hidden.name}: ${hidden.reason}`))))
          : null,
        !record && !errors.has(server.name) ? h("p", { class: "empty-state" }, "Tools not loaded yet.") : null,
      );
    }),
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
