// Number formatting shared by the page's status displays.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

/** Human-readable size in decimal units, e.g. 1536000 → "1.5 MB". @param {number} bytes */
export function formatBytes(bytes) {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}
