// 16 kHz mono 16-bit PCM chunks as a WAV file in base64, the form whisper's `transcribe` tool takes. The WAV is a
// Blob of the chunks behind a 44-byte header, so the samples are copied once, by the browser, when it is encoded.
import { SAMPLE_RATE } from "../../common/notes.js";

/** @param {number} dataBytes */
function wavHeader(dataBytes) {
  const header = new DataView(new ArrayBuffer(44));
  const text = (offset, value) => [...value].forEach((c, i) => header.setUint8(offset + i, c.charCodeAt(0)));
  text(0, "RIFF");
  header.setUint32(4, 36 + dataBytes, true);
  text(8, "WAVE");
  text(12, "fmt ");
  header.setUint32(16, 16, true); // fmt chunk size
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, SAMPLE_RATE, true);
  header.setUint32(28, SAMPLE_RATE * 2, true); // bytes per second
  header.setUint16(32, 2, true); // bytes per frame
  header.setUint16(34, 16, true); // bits per sample
  text(36, "data");
  header.setUint32(40, dataBytes, true);
  return header.buffer;
}

/** @param {Int16Array<ArrayBuffer>[]} chunks */
export function wavBlob(chunks) {
  const bytes = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
  return new Blob([wavHeader(bytes), ...chunks], { type: "audio/wav" });
}

/** @param {Blob} blob @returns {Promise<string>} */
export function blobBase64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).slice(String(reader.result).indexOf(",") + 1));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}
