// A tiny element builder for the page modules: no framework, no innerHTML with data (so no injection).

/**
 * h("button", {type: "button", onclick}, "Run") → <button type="button">Run</button>
 * Attributes: `class`, `dataset` (object), `on<event>` (listener), booleans, anything else as attribute.
 * @param {string} tag
 * @param {Record<string, any>} [attributes]
 * @param {...(Node | string | null | undefined | false)} children
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "value" || (name in element && typeof value !== "string")) element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  element.append(
    ...children.filter(/** @returns {child is Node | string} */ (child) => child !== null && child !== undefined && child !== false),
  );
  return element;
}
