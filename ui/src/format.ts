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

/** A duration as people say it: 42 s, 5 min, 3 h 20 min, 2 d 4 h. */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function when(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString('en-GB', { dateStyle: 'short', timeStyle: 'medium' });
}

export function short(digest: string | null | undefined): string {
  return digest === null || digest === undefined ? '–' : digest.replace(/^sha256:/, '').slice(0, 12);
}
