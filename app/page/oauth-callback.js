// The page the authorization server sends the browser back to (/oauth/callback.html?code=…&state=…). It accepts only
// a `state` that this Satchel issued for a sign-in still in progress (anything else is refused: a forged or replayed
// callback), trades the code for tokens with the verifier stored when the sign-in began, tells the app's pages on a
// BroadcastChannel, asks the service worker to send the calls that waited for this sign-in, and then closes (popup)
// or returns to the app (when the sign-in took over the app's own window).
import { oauthFetch, publishedClientId, recordForState, StoredOAuthProvider, updateAuth } from "../common/oauth.js";
import { auth } from "../vendor/mcp-sdk.js";
import { AUTH_CHANNEL } from "./sign-in.js";
import { askServiceWorker } from "./sw-client.js";

const status = /** @type {HTMLElement} */ (document.getElementById("callback-status"));
const back = /** @type {HTMLAnchorElement} */ (document.getElementById("callback-back"));
/** Longest error text from the authorization server shown (it is another party's words). */
const MAX_ERROR_CHARS = 300;

const params = new URLSearchParams(window.location.search);
// The code and state must not linger in the address bar or history.
window.history.replaceState(null, "", window.location.pathname);

async function finish() {
  const state = params.get("state");
  const record = state ? await recordForState(state) : undefined;
  if (!record?.pending) {
    throw new Error("this sign-in was not started by this Satchel, or it has already finished");
  }
  const { server, url, pending } = record;
  try {
    return await exchange(record);
  } catch (error) {
    await updateAuth(server, url, (stored) => {
      stored.pending = undefined;
    });
    return { server, mode: pending.mode, error: /** @type {Error} */ (error).message };
  }
}

/**
 * @param {import("../common/oauth.js").AuthRecord & {pending: {mode?: string, scope?: string}}} record
 * @returns {Promise<{server: string, mode?: string, error?: string}>}
 */
async function exchange(record) {
  const { server, url, pending } = record;
  const refused = params.get("error");
  if (refused) {
    const description = (params.get("error_description") ?? "").slice(0, MAX_ERROR_CHARS);
    throw new Error(`the authorization server refused: ${refused.slice(0, MAX_ERROR_CHARS)}${description ? ` (${description})` : ""}`);
  }
  const code = params.get("code");
  if (!code) throw new Error("the authorization server sent neither a code nor an error");
  const provider = new StoredOAuthProvider(server, url, {
    clientMetadataUrl: await publishedClientId(),
    onRedirect: () => {
      throw new Error("the authorization server asked to start over");
    },
  });
  await auth(provider, {
    serverUrl: url,
    authorizationCode: code,
    resourceMetadataUrl: record.challenge?.resourceMetadataUrl ? new URL(record.challenge.resourceMetadataUrl) : undefined,
    scope: pending.scope,
    fetchFn: oauthFetch,
  });
  await askServiceWorker("release-signin", { server }).catch(() => {}); // the Outbox flushes on its own later too
  return { server, mode: pending.mode };
}

/** @param {{server?: string, mode?: string, error?: string}} outcome */
function report({ server, mode, error }) {
  const channel = new BroadcastChannel(AUTH_CHANNEL);
  channel.postMessage({ server, ok: !error, error });
  channel.close();
  status.textContent = error ? `Sign-in failed: ${error}.` : "Signed in. You can close this window.";
  back.hidden = false;
  if (mode === "redirect") window.location.replace("/");
  else if (!error) window.close();
}

finish().then(report, (error) => report({ error: error.message }));
