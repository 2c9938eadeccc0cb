// Per-tool approval: before a tool runs, the user's standing decision applies, or the user is asked.
//
// Read-only tools of local servers run without asking (nothing leaves the device, nothing changes). Destructive
// tools ask every time: "always" is never offered for them; nor for tools the organisation's policy says must ask. Other tools ask once and can be remembered as always
// allowed or always denied; remembered decisions live in IndexedDB and can be forgotten from the tool panel.
import { deleteOne, getOne, putOne } from "../common/db.js";
import { toolLabel } from "./tool-schema.js";
import { localConfig } from "../common/mirror.js";
import { toolAlwaysAsks } from "../common/policy.js";

/** @typedef {"allow-once" | "always-allow" | "deny" | "always-deny"} Choice */

const approvalId = (serverName, toolName) => `${serverName}\u0000${toolName}`;

/** The MCP annotation defaults: a tool that says nothing may modify and destroy. */
export function isDestructive(tool) {
  const annotations = tool.annotations ?? {};
  return annotations.readOnlyHint !== true && annotations.destructiveHint !== false;
}

/**
 * "auto" (runs without asking), "always-ask" (destructive, or the organisation's policy says so: "managed") or
 * "ask" (asks unless remembered).
 */
export function approvalRule(server, tool, policy) {
  if (toolAlwaysAsks(policy, server.name, tool.name)) return "managed";
  if (tool.annotations?.readOnlyHint === true && localConfig(server)) return "auto";
  return isDestructive(tool) ? "always-ask" : "ask";
}

/** The remembered decision for a tool ("always-allow" | "always-deny"), if any. */
export async function rememberedDecision(serverName, toolName) {
  return (await getOne("approvals", approvalId(serverName, toolName)))?.decision ?? null;
}

export const forgetDecision = (serverName, toolName) => deleteOne("approvals", approvalId(serverName, toolName));

/**
 * Whether `tool` of `server` may run now; asks the user through `dialog` when the rules say so.
 * @param {any} server mirrored registry entry
 * @param {any} tool
 * @param {HTMLDialogElement} dialog
 * @param {any} policy the managed policy, or null
 * @returns {Promise<boolean>}
 */
export async function approve(server, tool, dialog, policy) {
  const rule = approvalRule(server, tool, policy);
  if (rule === "auto") return true;
  if (rule === "ask") {
    const remembered = await rememberedDecision(server.name, tool.name);
    if (remembered) return remembered === "always-allow";
  }
  const choice = await ask(dialog, server, tool, rule === "ask");
  if (choice === "always-allow" || choice === "always-deny") {
    await putOne("approvals", { id: approvalId(server.name, tool.name), decision: choice, at: Date.now() });
  }
  return choice === "allow-once" || choice === "always-allow";
}

/** @returns {Promise<Choice>} */
function ask(dialog, server, tool, mayRemember) {
  const label = server.server.title ?? server.name;
  dialog.querySelector("[data-approval=tool]").textContent = toolLabel(tool);
  dialog.querySelector("[data-approval=server]").textContent = label;
  dialog.querySelector("[data-approval=description]").textContent = tool.description ?? "";
  const warning = dialog.querySelector("[data-approval=warning]");
  warning.hidden = !isDestructive(tool);
  for (const button of dialog.querySelectorAll("[data-remember]")) button.hidden = !mayRemember;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue || "deny"), { once: true });
    dialog.showModal();
  });
}
