// Human units in configuration: durations ("500ms", "30s", "7d") and sizes ("1MiB", "512KB"); plain numbers are ms or bytes.

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const SIZE_BYTES: Record<string, number> = {
  b: 1, kb: 1000, mb: 1000 ** 2, gb: 1000 ** 3, tb: 1000 ** 4,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4, k: 1024, m: 1024 ** 2, g: 1024 ** 3,
};

function parseUnit(text: string, table: Record<string, number>): number | null {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!m) return null;
  const unit = (m[2] ?? '').toLowerCase();
  const factor = unit === '' ? 1 : table[unit];
  if (factor === undefined) return null;
  return Math.round(Number(m[1]) * factor);
}

/** Milliseconds from a number or a string like "250ms", "30s", "7d"; null when it does not parse. */
export function parseDurationMs(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return parseUnit(v, DURATION_MS);
  return null;
}

/** Bytes from a number or a string like "1MiB", "512KB"; null when it does not parse. */
export function parseBytes(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return parseUnit(v, SIZE_BYTES);
  return null;
}

export function formatBytes(n: number): string {
  if (n < 0) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}
