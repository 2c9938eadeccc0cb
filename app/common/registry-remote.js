// Adding a server of an upstream registry: its remote endpoint (Streamable HTTP, else SSE), what it asks the user
// for (URL variables, headers, variables of a header's value, as server.json 2025-12-11 describes them), the form
// schema that asks for them (page/schema-form.js renders it), and the endpoint and headers filled in from the answers.
import { chosenRemote } from "./mirror.js";
import { checkHeaders, checkServerUrl, isObject, MAX_HEADER_VALUE_LENGTH, MAX_HEADERS, UserServerError } from "./server-input.js";

/** @typedef {import("./server-input.js").RemoteSpec} RemoteSpec */
/**
 * An input of the registry's server.json (a URL variable, a header, or a variable of a header's value).
 * @typedef {{name?: string, description?: string, isRequired?: boolean, isSecret?: boolean, default?: string,
 *   choices?: string[], format?: string, value?: string, variables?: Record<string, RegistryInput>}} RegistryInput
 */
/** A value the user supplies when adding a registry server; `key` names its form field. @typedef {{key: string, label: string, input: RegistryInput}} AskedInput */

/**
 * The remote endpoint of a registry server to add: Streamable HTTP when it has one, else SSE.
 * @param {any} server the registry's server.json
 * @returns {any} the `remotes` entry
 */
export function registryRemote(server) {
  const remote = chosenRemote(server);
  if (remote) return remote;
  const label = server?.title ?? server?.name ?? "This server";
  if (Array.isArray(server?.packages) && server.packages.length) {
    throw new UserServerError(`Runs only on a desktop: ${label} is installed as a package, and has no URL to reach it at`);
  }
  throw new UserServerError(`${label} lists no Streamable HTTP or SSE endpoint`);
}

/**
 * Whether a registry server can only be reached once the user gives values: its URL has a variable, or it requires a
 * header (or a header's variable) that has no default. Such a server is not connected to until the user adds it.
 * @param {any} server the registry's server.json
 */
export function needsValues(server) {
  let remote;
  try {
    remote = registryRemote(server);
  } catch (error) {
    if (!(error instanceof UserServerError)) throw error;
    return false; // no remote a browser can use: nothing to give values for
  }
  if (/\{[^{}]*\}/.test(remote.url)) return true;
  try {
    return registryInputs(remote).some(({ input }) => input.isRequired === true && typeof input.default !== "string");
  } catch (error) {
    if (!(error instanceof UserServerError)) throw error;
    return true; // it asks for more than can be given here
  }
}

/**
 * What the user is asked for to add a registry remote: its URL variables, its headers that have no fixed value, and
 * the variables of those that have a value template.
 * @param {any} remote a `remotes` entry
 * @returns {AskedInput[]}
 */
export function registryInputs(remote) {
  /** @type {AskedInput[]} */
  const asked = [];
  for (const [name, input] of Object.entries(isObject(remote.variables) ? remote.variables : {})) {
    asked.push({ key: `url:${name}`, label: `${name} (part of the server's URL)`, input: isObject(input) ? input : {} });
  }
  for (const header of Array.isArray(remote.headers) ? remote.headers.filter(isObject) : []) {
    if (typeof header.name !== "string") continue;
    if (typeof header.value === "string") {
      for (const [name, input] of Object.entries(isObject(header.variables) ? header.variables : {})) {
        asked.push({ key: `header:${header.name}:${name}`, label: `${name} (in the ${header.name} header)`, input: isObject(input) ? input : {} });
      }
    } else asked.push({ key: `header:${header.name}`, label: `${header.name} header`, input: header });
  }
  if (asked.length > MAX_HEADERS * 2) throw new UserServerError(`The registry entry asks for ${asked.length} values; at most ${MAX_HEADERS * 2} are supported`);
  return asked;
}

/**
 * The JSON Schema of the form that asks for `inputs` (page/schema-form.js renders it): required ones required,
 * secrets write-only (password fields), defaults and choices kept.
 * @param {AskedInput[]} inputs
 */
export function inputsFormSchema(inputs) {
  /** @type {Record<string, any>} */
  const properties = {};
  for (const { key, label, input } of inputs) {
    properties[key] = {
      type: "string",
      title: label,
      ...(typeof input.description === "string" ? { description: input.description } : {}),
      ...(typeof input.default === "string" ? { default: input.default } : {}),
      ...(Array.isArray(input.choices) && input.choices.length ? { enum: input.choices.map(String) } : {}),
      ...(input.isSecret === true ? { writeOnly: true } : {}),
    };
  }
  return { type: "object", properties, required: inputs.filter(({ input }) => input.isRequired === true).map(({ key }) => key) };
}

/**
 * Fill `{NAME}` in `template` from `values`; a name that `known` does not describe is an error.
 * @param {string} template
 * @param {Record<string, string>} values
 * @param {Set<string>} known
 * @param {(value: string) => string} encode
 * @param {string} what for the message
 */
function fillTemplate(template, values, known, encode, what) {
  return template.replace(/\{([^{}]*)\}/g, (_, name) => {
    if (!known.has(name)) throw new UserServerError(`The registry entry's ${what} uses {${name}}, which it does not describe`);
    return encode(values[name] ?? "");
  });
}

/**
 * The endpoint and headers of a registry remote, from the values the user gave (by AskedInput key). Throws with
 * every field's problem at once: required and missing, not one of the choices, not a number.
 * @param {any} remote a `remotes` entry
 * @param {Record<string, string | undefined>} given
 * @returns {RemoteSpec}
 */
export function resolveRegistryRemote(remote, given) {
  const inputs = registryInputs(remote);
  /** @type {Map<string, string>} */
  const errors = new Map();
  /** @type {Record<string, string>} */
  const values = {};
  for (const { key, input } of inputs) {
    const typed = typeof given[key] === "string" && given[key] !== "" ? given[key] : undefined;
    const value = typed ?? (typeof input.default === "string" ? input.default : undefined);
    if (value === undefined) {
      if (input.isRequired === true) errors.set(key, "required");
      continue;
    }
    if (value.length > MAX_HEADER_VALUE_LENGTH) errors.set(key, `longer than ${MAX_HEADER_VALUE_LENGTH} characters`);
    else if (Array.isArray(input.choices) && input.choices.length && !input.choices.map(String).includes(value)) {
      errors.set(key, `must be one of ${input.choices.join(", ")}`);
    } else if (input.format === "number" && !Number.isFinite(Number(value))) errors.set(key, "must be a number");
    else if (input.format === "boolean" && value !== "true" && value !== "false") errors.set(key, "must be true or false");
    else values[key] = value;
  }
  if (errors.size) throw new UserServerError("Some values are missing or not valid", errors);
  const urlVariables = Object.fromEntries(
    Object.entries(values).filter(([key]) => key.startsWith("url:")).map(([key, value]) => [key.slice(4), value]),
  );
  const urlNames = new Set(inputs.filter(({ key }) => key.startsWith("url:")).map(({ key }) => key.slice(4)));
  const url = checkServerUrl(fillTemplate(remote.url, urlVariables, urlNames, encodeURIComponent, "URL"), "");
  /** @type {Record<string, string>} */
  const headers = {};
  for (const header of Array.isArray(remote.headers) ? remote.headers.filter(isObject) : []) {
    if (typeof header.name !== "string") continue;
    if (typeof header.value === "string") {
      const prefix = `header:${header.name}:`;
      const own = Object.fromEntries(
        Object.entries(values).filter(([key]) => key.startsWith(prefix)).map(([key, value]) => [key.slice(prefix.length), value]),
      );
      const names = new Set(Object.keys(isObject(header.variables) ? header.variables : {}));
      headers[header.name] = fillTemplate(header.value, own, names, (value) => value, `${header.name} header`);
    } else if (values[`header:${header.name}`] !== undefined) headers[header.name] = values[`header:${header.name}`];
  }
  return { type: remote.type === "sse" ? "sse" : "streamable-http", url, headers: checkHeaders(headers) };
}
