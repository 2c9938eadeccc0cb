// Requests from the page to its service worker, answered on a MessageChannel ({ok, value} or {ok: false, error}).

/**
 * @param {string} type one of the commands in sw.js
 * @param {object} [data]
 * @param {ServiceWorker | null} [worker] defaults to the worker controlling this page
 */
export async function askServiceWorker(type, data = {}, worker = navigator.serviceWorker.controller) {
  const target = worker ?? (await navigator.serviceWorker.ready).active;
  const channel = new MessageChannel();
  const reply = new Promise((resolve, reject) => {
    channel.port1.onmessage = ({ data: answer }) => {
      channel.port1.close();
      if (answer.ok) resolve(answer.value);
      else reject(new Error(answer.error));
    };
  });
  target.postMessage({ type, ...data }, [channel.port2]);
  return reply;
}

/**
 * Call `handler` for every message of `type` the service worker broadcasts.
 * @param {string} type
 * @param {(message: any) => void} handler
 */
export function onServiceWorkerMessage(type, handler) {
  navigator.serviceWorker.addEventListener("message", (event) => {
    if (event.data?.type === type) handler(event.data);
  });
}
