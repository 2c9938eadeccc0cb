// Runs on the audio rendering thread (AudioWorkletGlobalScope): takes the microphone's frames, mixes them to mono
// and posts them to the page a batch at a time with the batch's peak level, so the page can resample, store and
// draw a level meter without the audio thread ever waiting on it. Loaded by URL from our own origin (CSP: 'self').

const BATCH_SECONDS = 0.1;

class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.batch = new Float32Array(Math.round(sampleRate * BATCH_SECONDS));
    this.filled = 0;
    this.stopped = false;
    this.port.onmessage = ({ data }) => {
      if (data === "stop") {
        this.post();
        this.stopped = true;
        this.port.postMessage({ type: "stopped" });
      }
    };
  }

  post() {
    if (!this.filled) return;
    const samples = this.batch.slice(0, this.filled);
    let peak = 0;
    for (const value of samples) peak = Math.max(peak, Math.abs(value));
    this.port.postMessage({ type: "samples", samples, peak }, [samples.buffer]);
    this.filled = 0;
  }

  process(inputs) {
    if (this.stopped) return false;
    const channels = inputs[0];
    if (!channels?.length) return true;
    const frames = channels[0].length;
    for (let i = 0; i < frames; i += 1) {
      let sum = 0;
      for (const channel of channels) sum += channel[i];
      this.batch[this.filled++] = sum / channels.length;
      if (this.filled === this.batch.length) this.post();
    }
    return true;
  }
}

registerProcessor("satchel-capture", CaptureProcessor);
