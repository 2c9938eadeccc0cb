// Builds a form from a tool's JSON Schema input: one labelled field per property, typed inputs, and reading the
// form back into arguments. Validation against the schema itself happens in tool-schema.js before anything is sent.
import { h } from "./dom.js";

const SHORT_TEXT = /(^|_)(title|name|key|id|lang|language|timezone|tz|zone|unit|query|from|to|date|start|end|locale)$/i;

/**
 * The schema a field edits: an optional value written as `anyOf: [X, {type: "null"}]` (as Pydantic and others do)
 * is edited as X, left empty for null.
 */
export function fieldSchema(schema) {
  if (typeof schema !== "object" || schema === null) return {};
  for (const key of ["anyOf", "oneOf"]) {
    const branches = schema[key];
    if (!Array.isArray(branches)) continue;
    const nonNull = branches.filter((branch) => branch?.type !== "null");
    if (nonNull.length === 1 && nonNull.length < branches.length) {
      const { [key]: _, default: fallback, ...rest } = schema;
      return { ...rest, ...nonNull[0], ...(fallback === null || fallback === undefined ? {} : { default: fallback }) };
    }
  }
  return schema;
}

/** The input control for one property schema. */
function control(name, schema, id) {
  const type = [schema.type].flat()[0];
  if (Array.isArray(schema.enum)) {
    const options = schema.enum.map((v) => h("option", { value: JSON.stringify(v), selected: v === schema.default }, String(v)));
    return h("select", { id, name }, h("option", { value: "" }, "—"), ...options);
  }
  if (type === "boolean") return h("input", { id, name, type: "checkbox", checked: schema.default === true });
  if (type === "integer" || type === "number") {
    return h("input", { id, name, type: "number", step: type === "integer" ? "1" : "any", min: schema.minimum, max: schema.maximum, value: schema.default ?? "" });
  }
  // A secret (JSON Schema's writeOnly: shown to nobody once written) is typed into a password field.
  if (type === "string" && schema.writeOnly === true) {
    return h("input", { id, name, type: "password", value: schema.default ?? "", maxlength: schema.maxLength, autocomplete: "off" });
  }
  if (type === "string" && (SHORT_TEXT.test(name) || (schema.maxLength ?? Infinity) <= 200 || schema.format)) {
    return h("input", { id, name, type: "text", value: schema.default ?? "", maxlength: schema.maxLength, autocomplete: "off" });
  }
  if (type === "string") return h("textarea", { id, name, rows: 5, value: schema.default ?? "" });
  if (type === "array" && [schema.items?.type].flat()[0] === "string") {
    return h("textarea", { id, name, rows: 3, dataset: { kind: "lines" }, value: (schema.default ?? []).join("\n") });
  }
  const initial = schema.default === undefined ? "" : JSON.stringify(schema.default, null, 2);
  return h("textarea", { id, name, rows: 4, dataset: { kind: "json" }, value: initial, spellcheck: false });
}

/** @param {any} input @returns {{value?: any, error?: string}} */
function readValue(input) {
  if (input instanceof HTMLSelectElement) return input.value === "" ? {} : { value: JSON.parse(input.value) };
  if (input.type === "checkbox") return { value: input.checked };
  const text = input.value;
  if (text.trim() === "") return {};
  if (input.type === "number") return { value: Number(text) };
  if (input.dataset.kind === "lines") return { value: text.split("\n").map((line) => line.trim()).filter(Boolean) };
  if (input.dataset.kind === "json") {
    try {
      return { value: JSON.parse(text) };
    } catch {
      return { error: "not valid JSON" };
    }
  }
  return { value: text };
}

/**
 * @param {any} schema the tool's inputSchema (an object schema)
 * @param {string} idPrefix unique per form, for label/input ids
 */
export function buildForm(schema, idPrefix) {
  const properties = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const fields = new Map();
  const rows = properties.map(([name, property]) => {
    const id = `${idPrefix}-${name}`;
    const input = control(name, fieldSchema(property), id);
    const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
    const hint = property?.description ? h("p", { class: "field-hint", id: `${id}-hint` }, property.description) : null;
    input.setAttribute("aria-describedby", [hint && `${id}-hint`, `${id}-error`].filter(Boolean).join(" "));
    if (required.has(name)) input.setAttribute("aria-required", "true");
    fields.set(name, { input, error, schema: property ?? {} });
    const label = h("label", { for: id }, property?.title ?? name, required.has(name) ? h("span", { class: "required", "aria-hidden": "true" }, " *") : null);
    return h("div", { class: "field", dataset: { field: name } }, label, hint, input, error);
  });
  const formError = h("p", { class: "field-error", role: "alert" });
  const element = h("div", { class: "schema-form" }, ...rows, formError);

  return {
    element,
    /** @returns {{args: Record<string, any>, errors: Map<string, string>}} */
    read() {
      const args = {};
      const errors = new Map();
      for (const [name, { input }] of fields) {
        const { value, error } = readValue(input);
        if (error) errors.set(name, error);
        else if (value !== undefined) args[name] = value;
      }
      return { args, errors };
    },
    /** @param {Map<string, string>} errors keyed by property ("" for the whole form) */
    showErrors(errors) {
      for (const [name, { input, error }] of fields) {
        error.textContent = errors.get(name) ?? "";
        input.setAttribute("aria-invalid", errors.has(name) ? "true" : "false");
      }
      const unplaced = [...errors].filter(([name]) => !fields.has(name)).map(([name, text]) => (name ? `${name}: ${text}` : text));
      formError.textContent = unplaced.join("; ");
    },
  };
}
