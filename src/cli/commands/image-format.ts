/** Human formatting shared by `build` and `image`: sizes, ages, short digests, tables. */

/** `1.5 MiB`, `812 B`. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes} B` : `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

/** `5 seconds ago`, `3 hours ago`, `12 days ago`; the ISO date when older than a year. */
export function formatAge(iso: string, now = Date.now()): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  const steps: [number, string][] = [[60, 'second'], [60, 'minute'], [24, 'hour'], [365, 'day']];
  let v = s;
  for (const [n, unit] of steps) {
    if (v < n) return `${v} ${unit}${v === 1 ? '' : 's'} ago`;
    v = Math.floor(v / n);
  }
  return iso.slice(0, 10);
}

/** The first 12 hex digits of a `sha256:` digest. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Left-aligned columns separated by three spaces, header first. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
