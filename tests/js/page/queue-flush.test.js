// Flushing the Outbox when the network comes back (app/page/queue-flush.js): a first try that reaches nothing is
// followed by a few quick forced tries, which stop as soon as one gets a call through, when the Outbox is empty,
// when the network goes again, or after the last pause.
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { setOnline } from "../fakes.js";
import { queueFlusher, RECONNECT_RETRY_MS } from "../../../app/page/queue-flush.js";

const nothingSent = { sent: 0, failed: 0, pending: 3, signin: 0, retryInMs: null };

/**
 * A service worker answering flush-queue with `outcomes` in turn (the last one again after that).
 * @param {object[]} outcomes
 */
function fakeServiceWorker(outcomes) {
  /** @type {any[]} */
  const asked = [];
  const ask = async (/** @type {string} */ type, /** @type {any} */ data) => {
    asked.push({ type, ...data });
    return outcomes[Math.min(asked.length - 1, outcomes.length - 1)];
  };
  return { ask, asked };
}

/** Let the flusher's awaits run, then move the clock on by `ms`. @param {number} ms */
async function after(ms) {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
  mock.timers.tick(ms);
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

test("tries again quickly after the network came back until a call gets through", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    setOnline(true);
    const sw = fakeServiceWorker([nothingSent, nothingSent, { ...nothingSent, sent: 1, pending: 2 }]);
    const done = queueFlusher(sw.ask).reconnected();
    await after(RECONNECT_RETRY_MS[0]);
    await after(RECONNECT_RETRY_MS[1]);
    await done;
    assert.deepEqual(sw.asked, [1, 2, 3].map(() => ({ type: "flush-queue", force: true })));
  } finally {
    mock.timers.reset();
  }
});

test("gives up after the last pause, and stops at once when the network goes again", async () => {
  mock.timers.enable({ apis: ["setTimeout"] });
  try {
    setOnline(true);
    const sw = fakeServiceWorker([nothingSent]);
    const done = queueFlusher(sw.ask).reconnected();
    for (const pause of RECONNECT_RETRY_MS) await after(pause);
    await done;
    assert.equal(sw.asked.length, RECONNECT_RETRY_MS.length + 1);

    const again = fakeServiceWorker([nothingSent]);
    const stopped = queueFlusher(again.ask).reconnected();
    setOnline(false);
    await after(RECONNECT_RETRY_MS[0]);
    await stopped;
    assert.equal(again.asked.length, 1);
  } finally {
    mock.timers.reset();
    setOnline(true);
  }
});
