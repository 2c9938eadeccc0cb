// Shows whether the browser believes it is online, and keeps that true as the connection comes and goes.

/** @param {HTMLElement} element */
export function watchNetwork(element) {
  const show = () => {
    const online = navigator.onLine;
    element.dataset.state = online ? "online" : "offline";
    element.textContent = online ? "Online" : "Offline";
  };
  window.addEventListener("online", show);
  window.addEventListener("offline", show);
  show();
}
