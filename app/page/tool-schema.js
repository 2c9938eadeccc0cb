// Decides whether a tool from a server may be shown: its definition must be a well-formed MCP tool and its input
// schema a JSON Schema for an object that we can validate arguments against. A tool that fails is hidden, with the
// reason shown, rather than offered with a form that cannot work.
import { JsonSchemaValidator, specTypeSchemas } from "../vendor/mcp-sdk.js";

const JSON_TYPES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);

/** Problems with one property schema, with `where` naming it. */
function propertyProblem(schema, where) {
  if (typeof schema === "boolean") return null;
  if (schema === null || typeof schema !== "object" || Array.isArray(schema)) return `${where} is not a schema object`;
  const types = schema.type === undefined ? [] : [schema.type].flat();
  const unknown = types.find((type) => !JSON_TYPES.has(type));
  if (unknown !== undefined) return `${where} has unknown type ${JSON.stringify(unknown)}`;
  if (schema.enum !== undefined && (!Array.isArray(schema.enum) || schema.enum.length === 0)) {
    return `${where} has an enum that is not a non-empty array`;
  }
  if (schema.properties !== undefined) {
    if (typeof schema.properties !== "object" || Array.isArray(schema.properties)) return `${where}.properties is not an object`;
    for (const [name, inner] of Object.entries(schema.properties)) {
      const problem = propertyProblem(inner, `${where}.${name}`);
      if (problem) return problem;
    }
  }
  if (schema.items !== undefined) return propertyProblem(schema.items, `${where}[]`);
  return null;
}

/**
 * Why `tool` cannot be offered, or null when it can.
 * @param {any} tool one entry of a tools/list result
 * @returns {string | null}
 */
export function toolProblem(tool) {
  const { issues } = specTypeSchemas.Tool["~standard"].validate(tool);
  if (issues) {
    const issue = issues[0];
    const path = (issue.path ?? []).map((part) => String(typeof part === "object" ? part.key : part)).join(".");
    return `malformed tool definition: ${path || "tool"}: ${issue.message}`;
  }
  const schema = tool.inputSchema;
  if (schema.type !== "object") return "the input schema must describe an object";
  if (schema.required !== undefined) {
    if (!Array.isArray(schema.required) || schema.required.some((name) => typeof name !== "string")) {
      return "the input schema's required list is not a list of names";
    }
    const missing = schema.required.find((name) => !(name in (schema.properties ?? {})));
    if (missing) return `the input schema requires ${missing}, which it does not define`;
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const problem = propertyProblem(property, name);
    if (problem) return `the input schema is invalid: ${problem}`;
  }
  try {
    new JsonSchemaValidator(schema, "2020-12").validate({});
  } catch (error) {
    return `the input schema cannot be used for validation: ${error.message}`;
  }
  return null;
}

/** Split a tools/list into tools to offer and hidden ones with reasons. @param {any[]} tools */
export function screenTools(tools) {
  const shown = [];
  const hidden = [];
  for (const tool of tools) {
    const reason = toolProblem(tool);
    if (reason) hidden.push({ name: typeof tool?.name === "string" ? tool.name : "(unnamed)", reason });
    else shown.push(tool);
  }
  return { shown, hidden };
}

/**
 * Check arguments against a tool's input schema; returns messages keyed by top-level property ("" for the whole).
 * @param {any} schema
 * @param {any} args
 * @returns {Map<string, string>}
 */
export function argumentErrors(schema, args) {
  const outcome = new JsonSchemaValidator(schema, "2020-12", false).validate(args);
  const errors = new Map();
  for (const error of outcome.errors) {
    if (error.keyword === "properties" || error.keyword === "allOf") continue; // summaries of the errors below
    let field = error.instanceLocation.replace(/^#\/?/, "").split("/")[0] ?? "";
    let text = error.error;
    if (error.keyword === "required" && field === "") {
      field = /"([^"]+)"/.exec(error.error)?.[1] ?? "";
      text = "required";
    }
    if (!errors.has(field)) errors.set(field, text);
  }
  if (!outcome.valid && errors.size === 0) errors.set("", "the arguments do not match the tool's input schema");
  return errors;
}

/** Why a result's structured content does not match the tool's output schema, or null. */
export function outputProblem(tool, result) {
  if (!tool.outputSchema || result.isError || result.structuredContent === undefined) return null;
  const outcome = new JsonSchemaValidator(tool.outputSchema, "2020-12").validate(result.structuredContent);
  return outcome.valid ? null : `the structured result does not match the tool's output schema: ${outcome.errors[0]?.error}`;
}

/** The name to show for a tool: its title, the title in its annotations, or its name. */
export const toolLabel = (tool) => tool.title ?? tool.annotations?.title ?? tool.name;
