// The Install button: shown only while the browser offers installation (beforeinstallprompt), hidden once
// installed or when already running as an installed app.

/** @param {HTMLButtonElement} button */
export function watchInstallPrompt(button) {
  /** @type {any} the BeforeInstallPromptEvent, kept until the user clicks */
  let deferred = null;
  window.addEventListener("beforeinstallprompt", (event) => {
    event.preventDefault();
    deferred = event;
    button.hidden = false;
  });
  button.addEventListener("click", async () => {
    if (!deferred) return;
    const prompt = deferred;
    deferred = null;
    button.hidden = true;
    await prompt.prompt();
    const { outcome } = await prompt.userChoice;
    if (outcome !== "accepted") button.hidden = true; // the browser fires beforeinstallprompt again if it may ask
  });
  window.addEventListener("appinstalled", () => {
    deferred = null;
    button.hidden = true;
  });
}
