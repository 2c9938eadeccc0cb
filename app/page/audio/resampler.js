// Sample-rate conversion for the recording: whatever rate the microphone runs at (44.1 or 48 kHz, usually) to the
// 16 kHz that whisper expects, one batch at a time as the audio arrives, so a long recording is never held whole.
// Windowed-sinc interpolation with the cut-off just under the new Nyquist frequency: speech keeps its consonants
// and nothing above 8 kHz folds back into the band as aliasing.

const ZERO_CROSSINGS = 16; // per side of the kernel: ~-70 dB stop band with the Blackman window
const CUTOFF = 0.95; // of the output's Nyquist frequency

/** sin(pi x) / (pi x) @param {number} x */
const sinc = (x) => (x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x));

/** Blackman window over [-1, 1]. @param {number} x */
const blackman = (x) => 0.42 + 0.5 * Math.cos(Math.PI * x) + 0.08 * Math.cos(2 * Math.PI * x);

export class Resampler {
  /** @param {number} inputRate @param {number} outputRate */
  constructor(inputRate, outputRate) {
    if (!(inputRate > 0 && outputRate > 0)) throw new RangeError(`cannot resample ${inputRate} Hz to ${outputRate} Hz`);
    this.step = inputRate / outputRate; // input samples per output sample
    this.bandwidth = Math.min(1, outputRate / inputRate) * CUTOFF; // of the input's Nyquist frequency
    this.halfWidth = Math.ceil(ZERO_CROSSINGS / this.bandwidth); // kernel half-length, in input samples
    // Input kept for the kernel; `start` is the absolute index of history[0]. Silence before the first sample.
    this.history = new Float32Array(this.halfWidth);
    this.start = -this.halfWidth;
    this.received = 0;
    this.produced = 0;
  }

  /** Resample the next batch of input; returns the output it completes. @param {Float32Array} input */
  push(input) {
    if (this.step === 1) return input.slice();
    const joined = new Float32Array(this.history.length + input.length);
    joined.set(this.history);
    joined.set(input, this.history.length);
    this.history = joined;
    this.received += input.length;
    return this.#drain(this.received);
  }

  /** The output still owed for the input so far (the kernel's look-ahead past the last sample is silence). */
  flush() {
    if (this.step === 1) return new Float32Array(0);
    const end = this.received;
    const padded = new Float32Array(this.history.length + this.halfWidth + 1);
    padded.set(this.history);
    this.history = padded;
    return this.#drain(end, end + this.halfWidth + 1);
  }

  /** Outputs whose time is before `limit` and whose kernel lies within the input available up to `available`. */
  #drain(limit, available = limit) {
    const out = [];
    const { step, bandwidth, halfWidth } = this;
    for (;;) {
      const time = this.produced * step;
      if (time >= limit || Math.floor(time) + halfWidth >= available) break;
      const centre = Math.floor(time);
      let sum = 0;
      for (let k = centre - halfWidth + 1; k <= centre + halfWidth; k += 1) {
        const distance = time - k;
        sum += this.history[k - this.start] * bandwidth * sinc(bandwidth * distance) * blackman(distance / halfWidth);
      }
      out.push(sum);
      this.produced += 1;
    }
    const keepFrom = Math.floor(this.produced * step) - halfWidth + 1;
    if (keepFrom > this.start) {
      this.history = this.history.slice(keepFrom - this.start);
      this.start = keepFrom;
    }
    return Float32Array.from(out);
  }
}

/** Mono from channels: their average, sample by sample. @param {Float32Array[]} channels */
export function mixToMono(channels) {
  if (channels.length === 1) return channels[0];
  const mono = new Float32Array(channels[0].length);
  for (const channel of channels) for (let i = 0; i < mono.length; i += 1) mono[i] += channel[i] / channels.length;
  return mono;
}

/** 16-bit PCM from samples in [-1, 1] (clipped); exact inverse of dividing 16-bit samples by 32768. */
export function toPcm16(samples) {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i += 1) pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32768)));
  return pcm;
}
