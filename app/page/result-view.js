// Shows what a tool call gave back: text and images, structured content as a table when it holds rows (else as
// JSON), errors in red with their message, and calls the router queued for later.
import { QUEUED_KEY } from "../common/mcp-client.js";
import { h } from "./dom.js";

/** The first array of plain objects in structured content (the rows of a table), with its key. */
function tableRows(structured) {
  if (Array.isArray(structured) && structured.every(isRecord)) return structured;
  if (!isRecord(structured)) return null;
  for (const value of Object.values(structured)) {
    if (Array.isArray(value) && value.length && value.every(isRecord)) return value;
  }
  return null;
}

const isRecord = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

const cellText = (value) => (typeof value === "string" ? value : JSON.stringify(value));

function table(rows) {
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  return h(
    "div",
    { class: "table-scroll" },
    h(
      "table",
      { class: "result-table" },
      h("thead", {}, h("tr", {}, ...columns.map((column) => h("th", { scope: "col" }, column)))),
      h("tbody", {}, ...rows.map((row) => h("tr", {}, ...columns.map((column) => h("td", {}, column in row ? cellText(row[column]) : ""))))),
    ),
  );
}

function contentPart(part) {
  if (part.type === "text") return h("pre", { class: "result-text" }, part.text);
  if (part.type === "image" && /^image\/(png|jpeg|gif|webp)$/.test(part.mimeType)) {
    return h("img", { class: "result-image", alt: "image returned by the tool", src: `data:${part.mimeType};base64,${part.data}` });
  }
  if (part.type === "resource_link") return h("p", {}, `Resource: ${part.name ?? part.uri} (${part.uri})`);
  return h("pre", { class: "result-text" }, JSON.stringify(part, null, 2));
}

/**
 * @param {HTMLElement} container
 * @param {{result?: any, error?: Error & {code?: unknown}}} outcome
 */
export function renderResult(container, { result, error }) {
  container.replaceChildren();
  if (error) {
    const code = typeof error.code === "number" ? ` (code ${error.code})` : "";
    container.append(h("div", { class: "result result-error", role: "alert" }, h("strong", {}, "Error: "), `${error.message}${code}`));
    return;
  }
  const queued = result._meta?.[QUEUED_KEY];
  const box = h("div", {
    class: `result ${result.isError ? "result-error" : queued ? "result-queued" : "result-ok"}`,
    role: result.isError ? "alert" : "status",
  });
  if (result.isError) box.append(h("strong", {}, "The tool reported an error"));
  if (queued) box.append(h("strong", {}, "Queued for sending"));
  box.append(...(result.content ?? []).map(contentPart));
  if (result.structuredContent !== undefined) {
    const rows = tableRows(result.structuredContent);
    box.append(
      rows ? table(rows) : null,
      h("details", { open: !rows }, h("summary", {}, "Structured result"), h("pre", { class: "result-json" }, JSON.stringify(result.structuredContent, null, 2))),
    );
  }
  if (result.outputProblem) box.append(h("p", { class: "result-warning" }, `Warning: ${result.outputProblem}`));
  container.append(box);
}
