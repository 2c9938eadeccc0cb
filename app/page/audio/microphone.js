// Recording from the microphone: permission is asked only here, when the user presses Record; the audio goes
// through an AudioWorklet (capture-worklet.js), is resampled to 16 kHz mono and handed out in chunks of
// CHUNK_SAMPLES as 16-bit PCM while the recording runs, so the caller can store each chunk at once and a long
// recording never sits in one buffer.
import { CHUNK_SAMPLES, SAMPLE_RATE } from "../../common/notes.js";
import { Resampler, toPcm16 } from "./resampler.js";

/** A microphone problem the user can act on; the message says what to do. */
export class MicrophoneError extends Error {}

/** What to tell the user for each getUserMedia failure (DOMException names). */
function explain(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Microphone access was refused. Allow the microphone for this site in the browser's settings, or upload an audio file instead.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, or upload an audio file instead.";
    case "NotReadableError":
    case "AbortError":
      return `The microphone could not be started (another application may be using it): ${error.message}`;
    default:
      return `The microphone could not be started: ${error?.message ?? error}`;
  }
}

/**
 * Start recording. Resolves once the microphone runs; rejects with a MicrophoneError when it cannot.
 * @param {{onLevel: (peak: number) => void, onChunk: (pcm: Int16Array) => Promise<void>}} handlers
 *   onChunk is called in order, one at a time (each call waits for the previous one to finish)
 * @returns {Promise<{stop: () => Promise<void>, seconds: () => number}>}
 */
export async function startMicrophone({ onLevel, onChunk }) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new MicrophoneError("This browser gives no access to a microphone here (it needs HTTPS or localhost); upload an audio file instead.");
  }
  let stream;
  try {
    // Raw sound: echo cancellation and noise suppression are made for calls and distort speech for transcription.
    stream = await navigator.mediaDevices.getUserMedia({
      audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    });
  } catch (error) {
    throw new MicrophoneError(explain(error));
  }
  const context = new AudioContext();
  try {
    await context.audioWorklet.addModule("/page/audio/capture-worklet.js");
  } catch (error) {
    stream.getTracks().forEach((track) => track.stop());
    await context.close();
    throw new MicrophoneError(`The recorder could not start: ${error.message}`);
  }
  const node = new AudioWorkletNode(context, "satchel-capture", { numberOfInputs: 1, numberOfOutputs: 0 });
  const resampler = new Resampler(context.sampleRate, SAMPLE_RATE);
  /** 16 kHz samples not yet handed out as a chunk */
  let pending = [];
  let pendingLength = 0;
  let total = 0;
  let saving = Promise.resolve();

  const emit = (final) => {
    while (pendingLength >= CHUNK_SAMPLES || (final && pendingLength > 0)) {
      const joined = new Float32Array(pendingLength);
      let offset = 0;
      for (const part of pending) {
        joined.set(part, offset);
        offset += part.length;
      }
      const size = Math.min(CHUNK_SAMPLES, pendingLength);
      const chunk = toPcm16(joined.subarray(0, size));
      pending = [joined.subarray(size)];
      pendingLength -= size;
      saving = saving.then(() => onChunk(chunk));
    }
  };
  const take = (samples) => {
    pending.push(samples);
    pendingLength += samples.length;
    total += samples.length;
    emit(false);
  };

  const stopped = new Promise((resolve) => {
    node.port.onmessage = ({ data }) => {
      if (data.type === "samples") {
        onLevel(data.peak);
        take(resampler.push(data.samples));
      } else if (data.type === "stopped") {
        resolve(undefined);
      }
    };
  });
  context.createMediaStreamSource(stream).connect(node);

  return {
    seconds: () => total / SAMPLE_RATE,
    async stop() {
      node.port.postMessage("stop");
      await stopped;
      stream.getTracks().forEach((track) => track.stop());
      await context.close();
      take(resampler.flush());
      emit(true);
      await saving;
    },
  };
}
