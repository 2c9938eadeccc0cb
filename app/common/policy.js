// The organisation's managed policy (docs/architecture.md, "Managed policy"), read by the service worker and the
// pages alike. A managed build must have a valid /policy.json: when it is missing or malformed, `loadPolicy` throws
// and the app refuses to work rather than fall back to "allow all". An unmanaged build has no policy: all allowed.

export const POLICY_URL = "/policy.json";

export class PolicyError extends Error {}

/**
 * `servers.userAdded`: whether users may add servers of their own (default: true, unless `servers.allow` lists
 *   the servers that exist); `servers.origins`: when present,
 * the only origins (`scheme://host[:port]`) a server the user added may be at.
 * @typedef {{version: 1, organization?: string, servers?: {allow?: string[], userAdded?: boolean, origins?: string[]},
 *   upstreamRegistries?: boolean, tools?: {deny?: string[], alwaysAsk?: string[]},
 *   sync?: {remoteAllowed?: boolean, redactBeforeSync?: boolean}}} Policy
 */

/** @param {unknown} value @returns {value is string[]} */
const isStringList = (value) => Array.isArray(value) && value.every((item) => typeof item === "string");

/**
 * The origin a policy's `servers.origins` item names (`https://tools.example.org`, a port when not the default),
 * normalised as the browser writes origins; null when it names more (a path, a query, credentials) or is not http(s).
 * @param {string} text
 */
function policyOrigin(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
  return (url.protocol === "https:" || url.protocol === "http:") && bare ? url.origin : null;
}

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
  if (policy.servers?.userAdded !== undefined && typeof policy.servers.userAdded !== "boolean") {
    problems.push("servers.userAdded must be true or false");
  }
  const origins = policy.servers?.origins;
  if (origins !== undefined && (!isStringList(origins) || origins.some((origin) => policyOrigin(origin) === null))) {
    problems.push('servers.origins must be a list of origins such as "https://tools.example.org"');
  }
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
 * @param {(url: string) => Promise<Response>} read how to get the file (the precache with its sha256 check, or fetch)
 * @returns {Promise<Policy | null>}
 */
export async function loadPolicy(managed, read) {
  if (!managed) return null;
  const response = await read(POLICY_URL).catch((error) => {
    throw new PolicyError(`${POLICY_URL} is missing: ${error?.message ?? error}`);
  });
  if (!response.ok) throw new PolicyError(`${POLICY_URL} is missing (HTTP ${response.status})`);
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

/** @param {Policy} policy */
const whosePolicy = (policy) => (policy.organization ? `${policy.organization}'s policy` : "your organisation's policy");

/** Whether users may add servers of their own at all. @param {Policy | null} policy */
// A policy that lists the servers that exist (`servers.allow`) is a closed list unless it says users may add their own.
export const userServersAllowed = (policy) => policy?.servers?.userAdded ?? !policy?.servers?.allow;

/**
 * Why the policy refuses a server the user adds (or added) at `url`, or null when it allows it. `servers.allow`
 * names registry servers; a user's servers are governed by `servers.userAdded` and `servers.origins` instead.
 * @param {Policy | null} policy
 * @param {string} url the server's endpoint
 * @returns {string | null}
 */
export function userServerRefusal(policy, url) {
  if (!policy) return null;
  const who = whosePolicy(policy);
  if (!userServersAllowed(policy)) return `${who} does not allow servers added on this device`;
  const origins = policy.servers?.origins;
  if (origins === undefined) return null;
  let origin;
  try {
    origin = new URL(url).origin;
  } catch {
    return `${who} allows added servers only at known origins, and ${url} is not a URL`;
  }
  if (origins.some((allowed) => policyOrigin(allowed) === origin)) return null;
  const list = origins.length ? origins.join(", ") : "no origin at all";
  return `${who} allows added servers only at ${list}: ${origin} is not one of them`;
}

/**
 * Why the policy refuses a call, or null when it allows it.
 * @param {Policy | null} policy
 * @param {string} server
 * @param {{remote: boolean, tool?: string, userUrl?: string}} call whether the server is remote, the tool a
 *   tools/call names, and for a server the user added, its endpoint (the user's servers obey the rules for them)
 * @returns {string | null}
 */
export function policyRefusal(policy, server, { remote, tool, userUrl }) {
  if (!policy) return null;
  const who = whosePolicy(policy);
  if (userUrl !== undefined) {
    const refusal = userServerRefusal(policy, userUrl);
    if (refusal) return refusal;
  } else if (!serverAllowed(policy, server)) return `${server} is not allowed by ${who}`;
  if (remote && !remoteAllowed(policy)) return `${who} keeps everything on this device: ${server} is remote`;
  if (tool && toolDenied(policy, server, tool)) return `${tool} of ${server} is blocked by ${who}`;
  return null;
}
