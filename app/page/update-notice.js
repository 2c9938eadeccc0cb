// The "new version ready" notice: the user chooses when to switch, so work in progress is never interrupted.

/**
 * @param {HTMLElement} notice
 * @param {() => void} activate switches to the waiting version (the page reloads when it takes over)
 */
export function showUpdateNotice(notice, activate) {
  const button = notice.querySelector("button");
  button.disabled = false;
  button.onclick = () => {
    button.disabled = true;
    activate();
  };
  notice.hidden = false;
}
