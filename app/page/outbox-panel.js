// The outbox: calls queued while offline, with counts of pending, sent and failed, each call's state, and retry or
// discard for those that failed. The service worker owns the queue; this view asks it and listens for changes.
import { h } from "./dom.js";
import { askServiceWorker } from "./sw-client.js";

const STATUS_TEXT = { pending: "pending", sending: "sending", sent: "sent", failed: "failed" };

/**
 * @param {{counts: HTMLElement, list: HTMLElement}} elements
 * @returns {{refresh: () => Promise<void>}}
 */
export function outboxView({ counts, list }) {
  const refresh = async () => {
    const state = await askServiceWorker("queue-state");
    const { pending, sent, failed } = state.counts;
    counts.textContent = `${pending} pending · ${sent} sent · ${failed} failed`;
    counts.dataset.pending = String(pending);
    list.replaceChildren(
      ...state.entries
        .slice()
        .reverse()
        .map((entry) =>
          h(
            "li",
            { class: "outbox-entry", dataset: { status: entry.status, seq: String(entry.seq), tool: entry.tool } },
            h("span", { class: "badge" }, STATUS_TEXT[entry.status]),
            ` ${entry.tool} → ${entry.server} `,
            h("time", { datetime: new Date(entry.createdAt).toISOString() }, new Date(entry.createdAt).toLocaleString()),
            entry.error && entry.status !== "sent" ? h("p", { class: "outbox-error" }, entry.error) : null,
            entry.status === "failed"
              ? h("span", { class: "actions" },
                  h("button", { type: "button", class: "link-button", onclick: () => askServiceWorker("retry-queued", { seq: entry.seq }) }, "Retry"),
                  h("button", { type: "button", class: "link-button", onclick: () => askServiceWorker("discard-queued", { seq: entry.seq }) }, "Discard"))
              : null,
          ),
        ),
    );
  };
  return { refresh };
}
