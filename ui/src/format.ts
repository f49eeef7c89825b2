/** Number and time formatting shared by the pages. */

export function num(v: number | null | undefined, digits = 2): string {
  if (v === null || v === undefined) return '–';
  return (Math.round(v * 10 ** digits) / 10 ** digits).toLocaleString('en');
}

export function ms(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : `${num(v, v < 10 ? 2 : 0)} ms`;
}

export function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '–' : `${num(v * 100, 1)} %`;
}

export function bytes(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  let x = v;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${num(x, i === 0 ? 0 : 1)} ${units[i]}`;
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

export function short(digest: string | null | undefined): string {
  return digest === null || digest === undefined ? '–' : digest.replace(/^sha256:/, '').slice(0, 12);
}
