// Number formatting shared by the page's status displays and the model store's messages (pages and workers).

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

/** Human-readable duration, e.g. 75 → "1 min 15 s", for download ETAs. @param {number} seconds */
export function formatDuration(seconds) {
  const whole = Math.max(0, Math.ceil(seconds));
  if (whole < 60) return `${whole} s`;
  const minutes = Math.floor(whole / 60);
  if (minutes < 60) return `${minutes} min ${whole % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
