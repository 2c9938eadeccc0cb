// Signing in to a remote MCP server from the page: the controls shown with the server (its sign-in state, Sign in /
// Sign in again / Sign out, and a client ID of one's own for servers that do not register clients), and the flow
// itself. The flow runs the TypeScript SDK's `auth()` (discovery, registration or the app's Client ID Metadata
// Document, PKCE, `resource`, scopes from the server's challenge) and opens the authorization page in a popup —
// or, where popups are refused (some installed apps), in this window — which comes back to /oauth/callback.html;
// that page finishes the exchange (page/oauth-callback.js) and announces the outcome on a BroadcastChannel.
import { authRecord, MAX_STEP_UPS, oauthFetch, publishedClientId, signInState, signOut, StoredOAuthProvider, updateAuth } from "../common/oauth.js";
import { auth, IssuerMismatchError } from "../vendor/mcp-sdk.js";
import { h } from "./dom.js";

/** The channel on which the callback page says how a sign-in ended: `{server, ok, error?}`. */
export const AUTH_CHANNEL = "satchel-auth";
const POPUP_NAME = "satchel-sign-in";
const POPUP_FEATURES = "popup,width=520,height=720";

/**
 * Sign in to a server: resolves when tokens are stored, rejects with what went wrong.
 * Call it from a click handler: the popup must open before anything is awaited.
 * @param {{name: string}} server
 * @param {string} url the server's MCP endpoint
 * @param {{clientId?: string, clientSecret?: string}} [credentials] a client the user registered themselves
 * @returns {Promise<void>}
 */
export async function signIn(server, url, credentials = {}) {
  const popup = window.open("", POPUP_NAME, POPUP_FEATURES);
  const outcome = callbackFor(server.name);
  try {
    if (credentials.clientId) {
      const clientInformation = { client_id: credentials.clientId, client_secret: credentials.clientSecret || undefined };
      await updateAuth(server.name, url, (record) => {
        record.clientInformation = clientInformation;
        record.preRegistered = true;
      });
    }
    const record = await authRecord(server.name);
    const challenge = record?.url === url ? record.challenge : undefined;
    const provider = new StoredOAuthProvider(server.name, url, {
      clientMetadataUrl: await publishedClientId(),
      onRedirect: async (authorizationUrl) => {
        const inPopup = Boolean(popup && !popup.closed);
        await updateAuth(server.name, url, (stored) => {
          if (stored.pending) stored.pending.mode = inPopup ? "popup" : "redirect";
        });
        if (inPopup) /** @type {Window} */ (popup).location.href = authorizationUrl.href;
        else window.location.assign(authorizationUrl.href);
      },
    });
    const options = {
      serverUrl: url,
      resourceMetadataUrl: challenge?.resourceMetadataUrl ? new URL(challenge.resourceMetadataUrl) : undefined,
      scope: challenge?.scope,
      fetchFn: oauthFetch,
    };
    let result;
    try {
      result = await auth(provider, options);
    } catch (error) {
      if (!ownOriginIssuer(error, url)) throw error;
      result = await auth(provider, { ...options, skipIssuerMetadataValidation: true });
    }
    if (result === "AUTHORIZED") {
      popup?.close(); // a refresh token sufficed: nobody had to see the authorization server
      return;
    }
  } catch (error) {
    popup?.close();
    outcome.cancel();
    throw error;
  }
  await outcome.done;
}

/**
 * Whether `error` is the SDK's RFC 8414 issuer check failing for a 2025-03-26-style server: one with no protected
 * resource metadata, whose authorization server is therefore its own origin, serving metadata whose `issuer` names
 * another path of that same origin. The metadata then comes from the server itself, so the issuer echo guards
 * against nothing the server could not do anyway, and such servers are signed in to without it; any other mismatch
 * (another origin: a possible mix-up) stays fatal.
 * @param {unknown} error what `auth()` threw
 * @param {string} url the server's MCP endpoint
 */
function ownOriginIssuer(error, url) {
  if (!IssuerMismatchError.isInstance(error) || error.kind !== "metadata") return false;
  const { origin } = new URL(url);
  const expected = URL.canParse(error.expected) ? new URL(error.expected) : null;
  const received = typeof error.received === "string" && URL.canParse(error.received) ? new URL(error.received) : null;
  return expected?.origin === origin && expected.pathname === "/" && received?.origin === origin;
}

/**
 * The callback page's word on one server's sign-in.
 * @param {string} serverName
 */
function callbackFor(serverName) {
  const channel = new BroadcastChannel(AUTH_CHANNEL);
  /** @type {(value: any) => void} */
  let settle = () => {};
  /** @type {Promise<void>} */
  const done = new Promise((resolve, reject) => {
    settle = (/** @type {{ok: boolean, error?: string}} */ message) => {
      channel.close();
      if (message.ok) resolve();
      else reject(new Error(message.error ?? "the sign-in failed"));
    };
  });
  channel.onmessage = ({ data }) => {
    if (data?.server === serverName) settle(data);
  };
  return { done, cancel: () => channel.close() };
}

/**
 * The sign-in part of a remote server's entry in the servers list.
 * @param {{name: string, server: any}} server
 * @param {string} url
 * @param {{onChange: () => void}} hooks what to do after signing in or out (reconnect, re-render)
 * @returns {Promise<HTMLElement>}
 */
export async function signInControls(server, url, { onChange }) {
  const record = await authRecord(server.name);
  const state = signInState(record, url);
  const label = server.server?.title ?? server.name;
  const message = h("span", { class: "sign-in-message", role: "alert" });
  /** @param {{clientId?: string, clientSecret?: string}} [credentials] */
  const start = (credentials) => {
    message.textContent = "Signing in…";
    signIn(server, url, credentials).then(
      () => {
        message.textContent = "";
        onChange();
      },
      (error) => {
        message.textContent = `Sign-in to ${label} failed: ${error.message}`;
      },
    );
  };
  const stepUps = record?.stepUps ?? 0;
  if (state === "signed-in") {
    return h(
      "span",
      { class: "sign-in", dataset: { signIn: state } },
      h("span", { class: "badge" }, "Signed in"),
      h("button", {
        type: "button",
        class: "button secondary",
        onclick: async () => {
          await signOut(server.name, url);
          onChange();
        },
      }, "Sign out"),
      message,
    );
  }
  if (state === "none") return h("span", { class: "sign-in", dataset: { signIn: state } });
  if (state === "signed-out") {
    return h(
      "span",
      { class: "sign-in", dataset: { signIn: state } },
      h("span", { class: "badge" }, "Signed out"),
      h("button", { type: "button", class: "button", onclick: () => start() }, "Sign in"),
      message,
    );
  }
  const scopeShort = record?.challenge?.status === 403;
  if (scopeShort && stepUps > MAX_STEP_UPS) {
    return h(
      "span",
      { class: "sign-in", dataset: { signIn: "refused" } },
      h("span", { class: "server-error", role: "alert" },
        `${label} still refuses after ${stepUps} sign-ins with the permission it asked for; ask whoever runs it.`),
    );
  }
  const clientId = h("input", { name: "client-id", autocomplete: "off" });
  const clientSecret = h("input", { name: "client-secret", type: "password", autocomplete: "off" });
  return h(
    "span",
    { class: "sign-in", dataset: { signIn: state } },
    h("span", { class: "badge" }, scopeShort ? "More permission needed" : "Sign-in needed"),
    h("button", { type: "button", class: "button", onclick: () => start() }, scopeShort ? "Sign in again" : "Sign in"),
    h(
      "details",
      { class: "own-client" },
      h("summary", {}, "Use a client ID you registered"),
      h("label", {}, "Client ID ", clientId),
      h("label", {}, "Client secret (if any) ", clientSecret),
      h("button", {
        type: "button",
        class: "button secondary",
        onclick: () => {
          const id = /** @type {HTMLInputElement} */ (clientId).value.trim();
          if (!id) {
            message.textContent = "Enter the client ID the server's administrator gave you.";
            return;
          }
          start({ clientId: id, clientSecret: /** @type {HTMLInputElement} */ (clientSecret).value });
        },
      }, "Sign in with this client"),
    ),
    message,
  );
}
