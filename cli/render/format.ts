/** How numbers, sizes and durations read in pgferry's human output. */

const COUNT = new Intl.NumberFormat("en-US");

/** `5,000` */
export function formatCount(value: number): string {
  return COUNT.format(value);
}

/** `1 row`, `5,000 rows` */
export function formatRows(value: number, noun = "row"): string {
  return `${formatCount(value)} ${noun}${value === 1 ? "" : "s"}`;
}

const UNITS = ["B", "kB", "MB", "GB", "TB"];

/** `48.2 kB` (powers of 1000, as disk and network tools count) */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const shown = unit === 0 || value >= 100 ? Math.round(value).toString() : value.toFixed(1);
  return `${shown} ${UNITS[unit]}`;
}

/** `95 ms`, `1.2 s`, `3 min 05 s` */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalSeconds = Math.round(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  if (minutes < 60) return `${minutes} min ${seconds.toString().padStart(2, "0")} s`;
  return `${Math.floor(minutes / 60)} h ${(minutes % 60).toString().padStart(2, "0")} min`;
}

/** `2,650 rows/s`; empty before there is anything to measure. */
export function formatRate(rows: number, ms: number): string {
  if (ms < 200 || rows === 0) return "";
  return `${formatCount(Math.round((rows * 1000) / ms))} rows/s`;
}
