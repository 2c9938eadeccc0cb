// An existing recording as the alternative to the microphone: any format the browser can decode, turned into the
// same 16 kHz mono 16-bit chunks a recording gives. decodeAudioData always converts to its context's rate, so the
// file is decoded by a 16 kHz context: one conversion, by the browser's own resampler.
import { CHUNK_SAMPLES, SAMPLE_RATE } from "../../common/notes.js";
import { mixToMono, toPcm16 } from "./resampler.js";

/** An audio file that cannot be used; the message names the file and says why. */
export class AudioFileError extends Error {}

/**
 * @param {File} file
 * @returns {Promise<Int16Array[]>} chunks of at most CHUNK_SAMPLES samples at 16 kHz
 */
export async function decodeAudioFile(file) {
  if (file.size === 0) throw new AudioFileError(`“${file.name}” is empty.`);
  let decoded;
  try {
    const context = new OfflineAudioContext({ numberOfChannels: 1, length: 1, sampleRate: SAMPLE_RATE });
    decoded = await context.decodeAudioData(await file.arrayBuffer());
  } catch (error) {
    throw new AudioFileError(
      `“${file.name}” could not be read as audio (${error?.message || error?.name || error}); choose a WAV, MP3, Ogg, FLAC or WebM recording.`,
    );
  }
  if (decoded.length === 0) throw new AudioFileError(`“${file.name}” holds no sound.`);
  const channels = Array.from({ length: decoded.numberOfChannels }, (_, index) => decoded.getChannelData(index));
  const mono = mixToMono(channels);
  const chunks = [];
  for (let start = 0; start < mono.length; start += CHUNK_SAMPLES) chunks.push(toPcm16(mono.subarray(start, start + CHUNK_SAMPLES)));
  return chunks;
}
