// The MCP host of the page: one SDK client per server, all at `/mcp/<server name>` on our origin, where the
// service-worker router decides where each call really runs; over Streamable HTTP, or HTTP+SSE for a server that
// speaks only the older transport. The host keeps the mirrored tool lists current, and gates every call: known tool,
// valid arguments, user approval. It never decides local-vs-remote itself. Each Streamable HTTP client negotiates the
// protocol era with its server (2026-07-28 stateless, or 2025-11-25 with `initialize`); the verdict is kept with
// the server's tools in the mirror and given back to the next connect, which then skips the probe.
import {
  getServer,
  getTools,
  listServers,
  localConfig,
  localFingerprint,
  remoteOf,
  serverPath,
  SSE_PROBE_QUERY,
  storeTools,
  toolsAreFresh,
} from "../common/mirror.js";
import {
  callToolRaw,
  connectClient,
  connectSseClient,
  IDEMPOTENCY_KEY,
  listToolsRaw,
  priorVerdict,
  protocolVerdict,
  refusedAsLegacy,
} from "../common/mcp-client.js";
import { policyRefusal, remoteAllowed, serverAllowed, toolDenied } from "../common/policy.js";
import { needsValues } from "../common/registry-remote.js";
import { changesIdempotently } from "../common/tool-annotations.js";
import { disabledRefusal, isUserServer, recordSseFallback, userEndpoint } from "../common/user-servers.js";
import { RpcError } from "../common/protocol.js";
import { approve } from "./approval.js";
import { AUTH_CHANNEL } from "./sign-in.js";
import { askServiceWorker } from "./sw-client.js";
import { argumentErrors, outputProblem, screenTools, toolLabel } from "./tool-schema.js";

/** Raised for a call the host refuses before it reaches any server; `reason` says why. */
export class CallRefused extends Error {
  /**
   * @param {string} message
   * @param {"denied" | "invalid" | "unknown" | "policy" | "disabled"} reason
   * @param {Map<string,string>} [fields]
   */
  constructor(message, reason, fields = new Map()) {
    super(message);
    this.reason = reason;
    this.fields = fields;
  }
}

export class McpHost extends EventTarget {
  /** @param {{approvalDialog: HTMLDialogElement, policy: any}} options policy: the managed policy, or null */
  constructor({ approvalDialog, policy }) {
    super();
    this.approvalDialog = approvalDialog;
    this.policy = policy;
    /** @type {Map<string, Promise<any>>} */
    this.clients = new Map();
    /** @type {Map<string, string>} last error per server, shown next to it */
    this.errors = new Map();
    /** @type {Map<string, import("../common/mcp-client.js").ProtocolVerdict>} what each server negotiated on this page, online */
    this.protocols = new Map();
    /** @type {Set<string>} servers whose remembered verdict failed: their next connect probes again */
    this.probeAfresh = new Set();
    // A client connected while offline was answered by the router's stand-in; talk to the real server afresh.
    window.addEventListener("online", () => this.dropClients());
    window.addEventListener("offline", () => this.dropClients());
    // A sign-in finished (in a popup, or in another tab): talk to that server afresh, with its new token.
    new BroadcastChannel(AUTH_CHANNEL).onmessage = ({ data }) => {
      if (data?.ok && typeof data.server === "string") this.signedIn(data.server);
    };
  }

  /** @param {string} name a server just signed in to (or out of): reconnect and list its tools again */
  async signedIn(name) {
    this.dropClient(name);
    this.errors.delete(name);
    const server = await getServer(name);
    if (server) await this.refreshTools(server, { force: true });
    this.#changed();
  }

  /** @param {string} name */
  dropClient(name) {
    const pending = this.clients.get(name);
    this.clients.delete(name);
    pending?.then((client) => client.close()).catch(() => {});
  }

  dropClients() {
    const old = [...this.clients.values()];
    this.clients.clear();
    for (const pending of old) pending.then((client) => client.close()).catch(() => {});
  }

  /** @param {string} name */
  client(name) {
    if (!this.clients.has(name)) {
      const connecting = this.#connect(name).then((client) => {
        // Offline, the router answers the handshake in the server's stead: only an online handshake is the server's.
        const verdict = protocolVerdict(client);
        if (verdict && navigator.onLine) this.protocols.set(name, verdict);
        // A client that closes by itself (an HTTP+SSE stream broke off) is forgotten: the next call connects afresh.
        client.onclose = () => {
          if (this.clients.get(name) === connecting) this.clients.delete(name);
        };
        return client;
      });
      connecting.catch(() => this.clients.delete(name));
      this.clients.set(name, connecting);
    }
    return this.clients.get(name);
  }

  /**
   * Connect to a server over the transport its remote names. A server the user added as Streamable HTTP that refuses
   * that handshake as older servers do is tried over HTTP+SSE at the same URL (as MCP clients fall back), and
   * recorded as such when that works, so that later connections go straight to it.
   * @param {string} name
   */
  async #connect(name) {
    const path = serverPath(name);
    const server = await getServer(name);
    const remote = server && !localConfig(server) ? remoteOf(server) : null;
    if (remote?.type === "sse") return connectSseClient(path);
    const prior = this.probeAfresh.has(name) ? undefined : priorVerdict(await getTools(name), Date.now());
    try {
      const client = await connectClient(path, undefined, { prior });
      if (!prior) this.probeAfresh.delete(name);
      return client;
    } catch (error) {
      if (!remote || !isUserServer(server) || !refusedAsLegacy(error)) throw error;
      let client;
      try {
        client = await connectSseClient(`${path}?${SSE_PROBE_QUERY}`);
      } catch {
        throw error; // not an HTTP+SSE server either: what Streamable HTTP said is the clearer reason
      }
      await recordSseFallback(name, remote.url);
      return client;
    }
  }

  /** Close and forget the client of a server the user changed or removed; the next call connects afresh. @param {string} name */
  forget(name) {
    const pending = this.clients.get(name);
    this.clients.delete(name);
    this.errors.delete(name);
    this.protocols.delete(name);
    pending?.then((client) => client.close()).catch(() => {});
  }

  /** List the tools of one server (one the user just added or changed) and tell the page. @param {any} server */
  async refreshServer(server) {
    await this.refreshTools(server);
    this.#changed();
  }

  /** Sync the registry (when online) and refresh stale tool lists; the mirror serves whatever fails. */
  async refresh() {
    if (navigator.onLine) {
      try {
        await askServiceWorker("sync-registry");
        this.errors.delete("registry");
      } catch (error) {
        this.errors.set("registry", `registry not refreshed: ${error.message}`);
      }
    }
    const servers = await this.servers();
    await Promise.all(servers.map((server) => this.refreshTools(server)));
    this.#changed();
  }

  /**
   * The mirrored servers this app may use (all of them, unless a managed policy narrows it), and every server the
   * user added, so that one the policy now refuses can still be seen and removed.
   */
  async servers() {
    const all = await listServers();
    return all.filter(
      (server) => isUserServer(server) || (serverAllowed(this.policy, server.name) && (localConfig(server) || remoteAllowed(this.policy))),
    );
  }

  /**
   * Why the page must not talk to a server now: the user turned it off, or the policy refuses it; else null.
   * @param {any} server
   * @returns {{message: string, reason: "disabled" | "policy"} | null}
   */
  blocked(server) {
    const disabled = disabledRefusal(server);
    if (disabled) return { message: disabled, reason: "disabled" };
    const refusal = policyRefusal(this.policy, server.name, { remote: !localConfig(server), userUrl: userEndpoint(server) });
    return refusal ? { message: refusal, reason: "policy" } : null;
  }

  /** @param {any} server @param {{force?: boolean}} [options] force: ask the server even if the list is fresh */
  async refreshTools(server, { force = false } = {}) {
    const block = this.blocked(server);
    if (block) {
      if (block.reason === "policy") this.errors.set(server.name, block.message);
      return;
    }
    // A registry entry that needs the user's values (a URL variable, a key) is reached only once the user adds it.
    if (!isUserServer(server) && needsValues(server.server)) return;
    const record = await getTools(server.name);
    if (!force && toolsAreFresh(record, server)) return;
    try {
      const client = await this.client(server.name);
      const { tools, ttlMs, offline } = await listToolsRaw(client);
      const allowed = tools.filter((tool) => !toolDenied(this.policy, server.name, tool?.name));
      const { shown, hidden } = screenTools(allowed);
      const fingerprint = localFingerprint(server);
      // A list the router gave from the mirror says nothing new about the server: keep what it last negotiated.
      const verdict = offline ? undefined : this.protocols.get(server.name);
      const protocol = verdict
        ? { protocolVersion: verdict.version, protocolEra: verdict.era, discover: verdict.discover, protocolCheckedAt: Date.now() }
        : { protocolVersion: record?.protocolVersion, protocolEra: record?.protocolEra, discover: record?.discover, protocolCheckedAt: record?.protocolCheckedAt };
      await storeTools({ server: server.name, tools: shown, hidden, fetchedAt: Date.now(), ttlMs, fingerprint, ...protocol });
      this.errors.delete(server.name);
    } catch (error) {
      // A remembered verdict may be what failed (a server no longer speaking that era): probe at the next connect.
      if (navigator.onLine && priorVerdict(record, Date.now()) && !this.probeAfresh.has(server.name)) {
        this.probeAfresh.add(server.name);
        this.dropClient(server.name);
      }
      this.errors.set(server.name, record ? `showing the tools saved earlier: ${error.message}` : error.message);
    }
  }

  /**
   * Call a tool after checking its arguments and asking for approval; resolves with the tools/call result.
   * @param {string} serverName
   * @param {string} toolName
   * @param {any} args
   * @param {{onprogress?: (p: any) => void, signal?: AbortSignal, idempotencyKey?: string}} [options]
   *   idempotencyKey: the key of a call the caller may make again (a note synced after a reload), else a new one
   */
  async call(serverName, toolName, args, { idempotencyKey, ...options } = {}) {
    const server = await getServer(serverName);
    const disabled = server && disabledRefusal(server);
    if (disabled) throw new CallRefused(`${disabled}; nothing was sent.`, "disabled");
    const findTool = async () => (await getTools(serverName))?.tools.find((candidate) => candidate.name === toolName);
    let tool = await findTool();
    // A call may come before the server's tools were first listed (the Python runtime takes seconds to load):
    // list them now rather than refuse a tool that exists.
    if (server && !tool) {
      await this.refreshTools(server);
      tool = await findTool();
    }
    if (!server || !tool) throw new CallRefused(`${toolName} is not a tool of ${serverName}`, "unknown");
    const refusal = policyRefusal(this.policy, serverName, { remote: !localConfig(server), tool: toolName, userUrl: userEndpoint(server) });
    if (refusal) throw new CallRefused(`${refusal}; nothing was sent.`, "policy");
    const fields = argumentErrors(tool.inputSchema, args);
    if (fields.size) throw new CallRefused("Some arguments are not valid; nothing was sent.", "invalid", fields);
    if (!(await approve(server, tool, this.approvalDialog, this.policy))) {
      throw new CallRefused(`You denied ${toolLabel(tool)}; nothing was sent.`, "denied");
    }
    const params = { name: toolName, arguments: args };
    // A call that changes something idempotently carries a key, so whoever sends it again (the offline queue, a
    // retry) cannot make it happen twice.
    if (changesIdempotently(tool)) {
      params._meta = { [IDEMPOTENCY_KEY]: idempotencyKey ?? crypto.randomUUID() };
    }
    const client = await this.client(serverName);
    let result;
    try {
      result = await callToolRaw(client, params, options);
    } catch (error) {
      // The server wants a (new) sign-in: its entry must offer one now, not at the next refresh.
      if (/** @type {any} */ (error)?.code === RpcError.SIGN_IN_NEEDED) this.#changed();
      throw error;
    }
    const problem = outputProblem(tool, result);
    return problem ? { ...result, outputProblem: problem } : result;
  }

  #changed() {
    this.dispatchEvent(new Event("change"));
  }
}
