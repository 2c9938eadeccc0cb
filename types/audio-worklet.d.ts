// The AudioWorklet global scope that app/page/audio/capture-worklet.js runs in; TypeScript ships no library for
// it. Declared globally because a worklet module cannot say which scope it runs in; only that module uses them.

declare abstract class AudioWorkletProcessor {
  readonly port: MessagePort;
  abstract process(inputs: Float32Array[][], outputs: Float32Array[][], parameters: Record<string, Float32Array>): boolean;
}

/** The sample rate of the audio graph the processor belongs to. */
declare const sampleRate: number;

declare function registerProcessor(name: string, processor: new () => AudioWorkletProcessor): void;
