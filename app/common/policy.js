// The organisation's managed policy (docs/architecture.md, "Managed policy"), read by the service worker and the
// pages alike. A managed build must have a valid /policy.json: when it is missing or malformed, `loadPolicy` throws
// and the app refuses to work rather than fall back to "allow all". An unmanaged build has no policy: all allowed.

export const POLICY_URL = "/policy.json";

export class PolicyError extends Error {}

/**
 * @typedef {{version: 1, organization?: string, servers?: {allow?: string[]}, upstreamRegistries?: boolean,
 *   tools?: {deny?: string[], alwaysAsk?: string[]}, sync?: {remoteAllowed?: boolean, redactBeforeSync?: boolean}}} Policy
 */

/** @param {unknown} value @returns {value is string[]} */
const isStringList = (value) => Array.isArray(value) && value.every((item) => typeof item === "string");

/**
 * Every way `policy` is not a version-1 policy document (empty when it is one).
 * @param {any} policy the parsed JSON of /policy.json
 * @returns {string[]}
 */
export function policyProblems(policy) {
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) return ["the policy is not a JSON object"];
  const problems = [];
  if (policy.version !== 1) problems.push(`version must be 1, not ${JSON.stringify(policy.version)}`);
  if (policy.organization !== undefined && typeof policy.organization !== "string") problems.push("organization must be text");
  if (policy.servers?.allow !== undefined && !isStringList(policy.servers.allow)) problems.push("servers.allow must be a list of names");
  for (const key of ["deny", "alwaysAsk"]) {
    const list = policy.tools?.[key];
    if (list === undefined) continue;
    if (!isStringList(list) || list.some((ref) => !/^[^:]+:[^:]+$/.test(ref))) problems.push(`tools.${key} must be a list of "server:tool"`);
  }
  for (const key of ["remoteAllowed", "redactBeforeSync"]) {
    if (policy.sync?.[key] !== undefined && typeof policy.sync[key] !== "boolean") problems.push(`sync.${key} must be true or false`);
  }
  if (policy.upstreamRegistries !== undefined && typeof policy.upstreamRegistries !== "boolean") {
    problems.push("upstreamRegistries must be true or false");
  }
  return problems;
}

/**
 * The policy of a managed build, or null for an unmanaged one.
 * @param {boolean} managed whether this build was made with a policy
 * @param {(url: string) => Promise<Response | undefined>} read how to get the file (the precache, or fetch)
 * @returns {Promise<Policy | null>}
 */
export async function loadPolicy(managed, read) {
  if (!managed) return null;
  const response = await read(POLICY_URL).catch(() => undefined);
  if (!response || !response.ok) throw new PolicyError(`${POLICY_URL} is missing`);
  let policy;
  try {
    policy = await response.json();
  } catch {
    throw new PolicyError(`${POLICY_URL} is not valid JSON`);
  }
  const problems = policyProblems(policy);
  if (problems.length) throw new PolicyError(`${POLICY_URL} is malformed: ${problems.join("; ")}`);
  return policy;
}

/** @param {Policy | null} policy @param {string} server */
export const serverAllowed = (policy, server) => !policy?.servers?.allow || policy.servers.allow.includes(server);

/** @param {Policy | null} policy @param {string} server @param {string} tool */
export const toolDenied = (policy, server, tool) => Boolean(policy?.tools?.deny?.includes(`${server}:${tool}`));

/** @param {Policy | null} policy @param {string} server @param {string} tool */
export const toolAlwaysAsks = (policy, server, tool) => Boolean(policy?.tools?.alwaysAsk?.includes(`${server}:${tool}`));

/** @param {Policy | null} policy */
export const remoteAllowed = (policy) => policy?.sync?.remoteAllowed !== false;

/** The organisation makes redaction before sync compulsory (the user cannot turn it off). @param {Policy | null} policy */
export const redactionRequired = (policy) => policy?.sync?.redactBeforeSync === true;

/**
 * Why the policy refuses a call, or null when it allows it.
 * @param {Policy | null} policy
 * @param {string} server
 * @param {{remote: boolean, tool?: string}} call whether the server is remote, and the tool a tools/call names
 * @returns {string | null}
 */
export function policyRefusal(policy, server, { remote, tool }) {
  if (!policy) return null;
  const who = policy.organization ? `${policy.organization}'s policy` : "your organisation's policy";
  if (!serverAllowed(policy, server)) return `${server} is not allowed by ${who}`;
  if (remote && !remoteAllowed(policy)) return `${who} keeps everything on this device: ${server} is remote`;
  if (tool && toolDenied(policy, server, tool)) return `${tool} of ${server} is blocked by ${who}`;
  return null;
}
