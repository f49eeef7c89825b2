/**
 * Sizes and durations as people read them in error messages and docs: `256 MiB`, `4 GiB`,
 * `15 min`. Exact when the value is a whole number of the unit, else one decimal.
 */

function scaled(value: number, units: ReadonlyArray<readonly [string, number]>): string {
  for (const [name, size] of units) {
    if (value >= size) {
      const v = value / size;
      return `${Number.isInteger(v) ? v : v.toFixed(1)} ${name}`;
    }
  }
  return `${value} ${units[units.length - 1]![0]}`;
}

/** `4 GiB`, `1.5 MiB`, `512 bytes`. */
export function formatBytes(bytes: number): string {
  return scaled(bytes, [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10], ['bytes', 1]]);
}

/** `15 min`, `2.5 s`, `200 ms`. */
export function formatMs(ms: number): string {
  return scaled(ms, [['h', 3_600_000], ['min', 60_000], ['s', 1000], ['ms', 1]]);
}
