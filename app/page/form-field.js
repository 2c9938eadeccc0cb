// One labelled form field as every hand-written form of the page shows it (schema-form.js builds the same markup from
// a JSON Schema): the label, an optional hint, the control, and its error right below it, announced (role="alert").
import { h } from "./dom.js";

/**
 * @param {{id: string, label: string, hint?: string, input: HTMLElement, name?: string}} field `name` marks the
 *   field for tests and styles (data-field)
 */
export function labelledField({ id, label, hint, input, name }) {
  const error = h("p", { class: "field-error", id: `${id}-error`, role: "alert" });
  const hintElement = hint ? h("p", { class: "field-hint", id: `${id}-hint` }, hint) : null;
  input.id = id;
  input.setAttribute("aria-describedby", [hintElement && `${id}-hint`, `${id}-error`].filter(Boolean).join(" "));
  const element = h("div", { class: "field", dataset: { field: name ?? id } }, h("label", { for: id }, label), hintElement, input, error);
  return {
    element,
    /** the control: an input or a textarea, both of which have a `value` */
    input: /** @type {HTMLInputElement | HTMLTextAreaElement} */ (input),
    /** @param {string} [text] the error, or nothing to clear it */
    showError(text = "") {
      error.textContent = text;
      input.setAttribute("aria-invalid", text ? "true" : "false");
    },
  };
}
