// The browser's own speech recognition (Web Speech API), offered only when no whisper model is on the device, and
// only ever started by the user after being told that it may send the audio over the network (Chrome's does).

/** The SpeechRecognition constructor, or null when the browser has none. */
export const speechRecognition = () => {
  const scope = /** @type {any} */ (self); // the constructor is not in TypeScript's DOM library
  return scope.SpeechRecognition ?? scope.webkitSpeechRecognition ?? null;
};

/**
 * Listen until `stop()`; resolves `done` with the final transcript, or rejects with a message saying why not.
 * @param {{lang?: string, onText: (text: string) => void}} options onText: the transcript so far, as it grows
 */
export function listen({ lang = "en-US", onText }) {
  const Recognition = speechRecognition();
  if (!Recognition) throw new Error("This browser has no speech recognition.");
  const recognition = new Recognition();
  recognition.lang = lang;
  recognition.continuous = true;
  recognition.interimResults = true;
  const finals = [];
  let interim = "";
  const done = new Promise((resolve, reject) => {
    let failure = null;
    recognition.onresult = (event) => {
      interim = "";
      for (let index = event.resultIndex; index < event.results.length; index += 1) {
        const result = event.results[index];
        if (result.isFinal) finals[index] = result[0].transcript.trim();
        else interim += result[0].transcript;
      }
      onText([...finals.filter(Boolean), interim.trim()].filter(Boolean).join(" "));
    };
    recognition.onerror = (event) => {
      failure = event.error === "not-allowed"
        ? "Microphone access was refused for speech recognition."
        : event.error === "network"
          ? "The browser's speech service could not be reached (it needs the network)."
          : `The browser's speech recognition failed: ${event.error}`;
    };
    recognition.onend = () => (failure ? reject(new Error(failure)) : resolve(finals.filter(Boolean).join(" ")));
  });
  recognition.start();
  return { done, stop: () => recognition.stop() };
}
