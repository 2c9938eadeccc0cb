// Editing a server the user added: its name (title), its URL and the headers sent with every request to it. Header
// values are typed into password fields (they are often keys); a row is added or removed with its own buttons.
// Checking and storing is common/user-servers.js's (updateUserServer); each error is shown next to its field.
import { userMeta } from "../common/mirror.js";
import { MAX_TITLE_LENGTH, MAX_URL_LENGTH, UserServerError } from "../common/server-input.js";
import { updateUserServer, userServerUrl } from "../common/user-servers.js";
import { h } from "./dom.js";
import { labelledField } from "./form-field.js";

/** @typedef {import("../common/mirror.js").MirroredServer} MirroredServer */

let editFormCount = 0;

/**
 * The rows that edit a server's headers.
 * @param {string} idPrefix
 * @param {Record<string, string>} headers
 */
function headerRows(idPrefix, headers) {
  const rows = h("div", { class: "header-rows" });
  let count = 0;
  /** @param {string} name @param {string} value */
  const addRow = (name, value) => {
    count += 1;
    const nameId = `${idPrefix}-header-name-${count}`;
    const valueId = `${idPrefix}-header-value-${count}`;
    const row = h(
      "div",
      { class: "header-row", dataset: { headerRow: "" } },
      h("label", { for: nameId }, `Header ${count} name`),
      h("input", { id: nameId, type: "text", value: name, autocomplete: "off", spellcheck: false, dataset: { header: "name" } }),
      h("label", { for: valueId }, `Header ${count} value`),
      h("input", { id: valueId, type: "password", value, autocomplete: "off", dataset: { header: "value" } }),
      h("button", { type: "button", class: "link-button", onclick: () => row.remove() }, `Remove header ${count}`),
    );
    rows.append(row);
    return row;
  };
  for (const [name, value] of Object.entries(headers)) addRow(name, value);
  const add = h("button", {
    type: "button",
    class: "button secondary",
    onclick: () => addRow("", "").querySelector("input")?.focus(),
  }, "Add a header");
  const error = h("p", { class: "field-error", id: `${idPrefix}-headers-error`, role: "alert" });
  const element = h("fieldset", { class: "field header-fields", dataset: { field: "headers" }, "aria-describedby": `${idPrefix}-headers-error` },
    h("legend", {}, "Headers sent with every request"), rows, add, error);
  return {
    element,
    /** @returns {Record<string, string>} the rows with a name or a value (a value without a name is refused by the check) */
    read() {
      /** @type {Record<string, string>} */
      const headers = {};
      for (const row of rows.querySelectorAll("[data-header-row]")) {
        const name = /** @type {HTMLInputElement} */ (row.querySelector("[data-header=name]")).value.trim();
        const value = /** @type {HTMLInputElement} */ (row.querySelector("[data-header=value]")).value;
        if (name || value) headers[name] = value;
      }
      return headers;
    },
    /** @param {string} [text] */
    showError(text = "") {
      error.textContent = text;
    },
  };
}

/**
 * @param {MirroredServer} entry a server the user added
 * @param {{policy: any, onSaved: (entry: MirroredServer, moved: boolean) => Promise<void>, onCancel: () => void}} options
 *   `moved`: the URL changed (its tools are listed afresh)
 * @returns {HTMLFormElement}
 */
export function editServerForm(entry, { policy, onSaved, onCancel }) {
  const idPrefix = `edit-server-${++editFormCount}`;
  const title = labelledField({
    id: `${idPrefix}-title`,
    name: "title",
    label: "Name",
    input: h("input", { type: "text", value: entry.server.title ?? "", maxlength: MAX_TITLE_LENGTH, autocomplete: "off" }),
  });
  const url = labelledField({
    id: `${idPrefix}-url`,
    name: "url",
    label: "Server URL",
    hint: "Changing it forgets the tools listed and the approvals given for the old address.",
    input: h("input", { type: "url", value: userServerUrl(entry), maxlength: MAX_URL_LENGTH, autocomplete: "off", spellcheck: false }),
  });
  const headers = headerRows(idPrefix, userMeta(entry)?.headers ?? {});
  const formError = h("p", { class: "field-error", role: "alert" });
  const fields = { title, url, headers };

  /** @param {SubmitEvent} event */
  async function save(event) {
    event.preventDefault();
    for (const field of [title, url, headers]) field.showError();
    formError.textContent = "";
    const changes = { title: title.input.value, url: url.input.value, headers: headers.read() };
    try {
      const updated = await updateUserServer(entry.name, changes, { policy });
      await onSaved(updated, userServerUrl(updated) !== userServerUrl(entry));
    } catch (error) {
      if (!(error instanceof UserServerError)) throw error;
      for (const [key, text] of error.fields) {
        if (key in fields) fields[key].showError(text);
        else formError.textContent = text;
      }
    }
  }

  return /** @type {HTMLFormElement} */ (h(
    "form",
    { class: "edit-server-form", novalidate: true, onsubmit: save },
    title.element,
    url.element,
    headers.element,
    formError,
    h("div", { class: "actions" },
      h("button", { type: "submit", class: "button" }, "Save"),
      h("button", { type: "button", class: "button secondary", onclick: onCancel }, "Cancel")),
  ));
}
