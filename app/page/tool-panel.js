// The tool panel: what a tool does and may do, its approval standing, a form built from its input schema, Run and
// Cancel, progress while it runs, and the result.
import { changesIdempotently } from "../common/tool-annotations.js";
import { approvalRule, forgetDecision, isDestructive, rememberedDecision } from "./approval.js";
import { toolLabel } from "./tool-schema.js";
import { h } from "./dom.js";
import { CallRefused } from "./mcp-host.js";
import { renderResult } from "./result-view.js";
import { buildForm } from "./schema-form.js";

let formCount = 0;

function annotationBadges(tool) {
  const a = tool.annotations ?? {};
  return [
    a.readOnlyHint === true ? "read-only" : null,
    isDestructive(tool) ? "may change or delete data" : null,
    changesIdempotently(tool) ? "safe to repeat" : null,
    a.openWorldHint === false ? "closed world" : null,
  ]
    .filter(Boolean)
    .map((text) => h("span", { class: "badge" }, text));
}

async function approvalLine(server, tool, policy) {
  const rule = approvalRule(server, tool, policy);
  if (rule === "managed") {
    return h("p", { class: "approval-state" }, "Asks every time. ", h("span", { class: "managed" }, "Managed by your organisation"));
  }
  if (rule === "auto") return h("p", { class: "approval-state" }, "Runs without asking: read-only and on this device.");
  if (rule === "always-ask") return h("p", { class: "approval-state" }, "Asks every time: it may change or delete data.");
  const remembered = await rememberedDecision(server.name, tool.name);
  if (!remembered) return h("p", { class: "approval-state" }, "Asks before it runs.");
  const line = h("p", { class: "approval-state" }, remembered === "always-allow" ? "Always allowed. " : "Always denied. ");
  line.append(
    h("button", { type: "button", class: "link-button", onclick: async () => {
      await forgetDecision(server.name, tool.name);
      line.replaceWith(await approvalLine(server, tool, policy));
    } }, "Forget this choice"),
  );
  return line;
}

/**
 * @param {HTMLElement} container
 * @param {{server: any, tool: any, host: import("./mcp-host.js").McpHost}} selection
 */
export async function showTool(container, { server, tool, host }) {
  const form = buildForm(tool.inputSchema, `tool-form-${++formCount}`);
  const run = /** @type {HTMLButtonElement} */ (h("button", { type: "submit", class: "button" }, "Run"));
  const cancel = h("button", { type: "button", class: "button secondary", hidden: true }, "Cancel");
  const progress = /** @type {HTMLProgressElement} */ (h("progress", { class: "call-progress", hidden: true, max: 1 }));
  const progressText = h("span", { class: "progress-text", role: "status" });
  const output = h("div", { class: "tool-output", "aria-live": "polite" });
  let controller = null;

  const onSubmit = async (event) => {
    event.preventDefault();
    const { args, errors } = form.read();
    form.showErrors(errors);
    if (errors.size) return;
    controller = new AbortController();
    run.disabled = true;
    cancel.hidden = false;
    progress.hidden = false;
    progress.removeAttribute("value");
    progressText.textContent = "Running…";
    try {
      const result = await host.call(server.name, tool.name, args, {
        signal: controller.signal,
        onprogress: ({ progress: done, total, message }) => {
          if (total) {
            progress.max = total;
            progress.value = done;
          }
          progressText.textContent = message ?? (total ? `${Math.round((100 * done) / total)} %` : `${done}`);
        },
      });
      renderResult(output, { result });
    } catch (error) {
      if (error instanceof CallRefused && error.reason === "invalid") form.showErrors(error.fields);
      renderResult(output, { error: controller.signal.aborted ? new Error("Cancelled.") : error });
    } finally {
      run.disabled = false;
      cancel.hidden = true;
      progress.hidden = true;
      progressText.textContent = "";
      controller = null;
    }
  };
  cancel.addEventListener("click", () => controller?.abort("cancelled by the user"));

  container.replaceChildren(
    h("h3", { class: "tool-title" }, toolLabel(tool)),
    h("p", { class: "tool-server" }, `on ${server.server.title ?? server.name}`),
    tool.description ? h("p", { class: "tool-description" }, tool.description) : null,
    h("p", { class: "badges" }, ...annotationBadges(tool)),
    await approvalLine(server, tool, host.policy),
    h("form", { class: "tool-form", novalidate: true, onsubmit: onSubmit, dataset: { tool: tool.name } }, form.element, h("div", { class: "actions" }, run, cancel, progress, progressText)),
    output,
  );
}
