/**
 * One time-series chart (uPlot) over the daemon's traffic points: created once, fed new
 * data on every refresh, resized with its container. Colours come from the page's CSS
 * variables so the chart follows the light or dark theme. A text summary of the latest value
 * sits beside it for screen readers (the canvas itself is hidden from them).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Point } from './api.ts';

export interface Line {
  label: string;
  /** CSS variable holding the colour, e.g. `--c1`. */
  color: string;
  value: (p: Point, seconds: number) => number | null;
}

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

function data(points: Point[], lines: Line[], intervalMs: number): uPlot.AlignedData {
  const now = Date.now();
  const xs = points.map((p) => p.t / 1000);
  const ys = lines.map((l) => points.map((p) => l.value(p, Math.max(1, Math.min(intervalMs, now - p.t)) / 1000)));
  return [xs, ...ys] as uPlot.AlignedData;
}

export function Chart(props: { id: string; title: string; unit: string; points: Point[]; lines: Line[]; intervalMs: number }) {
  const plot = useRef<uPlot | null>(null);
  const { points, lines, intervalMs } = props;

  useEffect(() => {
    const el = document.getElementById(`${props.id}-plot`)!;
    const make = (): uPlot => new uPlot({
      width: Math.max(200, el.clientWidth),
      height: 160,
      legend: { show: true },
      axes: [
        { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') } },
        { stroke: cssVar('--muted'), grid: { stroke: cssVar('--grid') }, ticks: { stroke: cssVar('--grid') }, size: 50 },
      ],
      series: [{}, ...lines.map((l) => ({ label: l.label, stroke: cssVar(l.color), width: 2, spanGaps: true }))],
      // The last hour, whatever the points span (one point alone would stretch the axis over years).
      scales: { x: { time: true, range: (): [number, number] => [Date.now() / 1000 - 3600, Date.now() / 1000 + 10] }, y: { range: (_u: uPlot, _min: number, max: number): [number, number] => [0, Math.max(1, max * 1.1)] } },
    }, data(points, lines, intervalMs), el);
    plot.current = make();
    const ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 160 }));
    ro.observe(el);
    const scheme = matchMedia('(prefers-color-scheme: dark)');
    const rebuild = (): void => {
      plot.current?.destroy();
      plot.current = make();
    };
    scheme.addEventListener('change', rebuild);
    document.addEventListener('nv-theme', rebuild);
    return () => {
      ro.disconnect();
      scheme.removeEventListener('change', rebuild);
      document.removeEventListener('nv-theme', rebuild);
      plot.current?.destroy();
      plot.current = null;
    };
  }, []);

  useEffect(() => {
    plot.current?.setData(data(points, lines, intervalMs));
  }, [points]);

  const last = points[points.length - 1];
  const total = points.reduce((n, p) => n + (lines[0]!.value(p, 1) ?? 0), 0);
  const latest = last === undefined ? [] : lines.map((l) => `${l.label} ${fmt(l.value(last, Math.max(1, Math.min(intervalMs, Date.now() - last.t)) / 1000))}${props.unit}`);
  return (
    <figure class="chart" id={props.id} data-total={String(Math.round(total * 1000) / 1000)} data-points={String(points.length)}>
      <figcaption>{props.title} <span class="muted">(last hour, {intervalMs / 1000} s steps)</span></figcaption>
      <div id={`${props.id}-plot`} class="plot" aria-hidden="true" />
      <p class="sr-only">Now: {latest.join(', ') || 'no data'}</p>
    </figure>
  );
}

function fmt(v: number | null): string {
  if (v === null) return '–';
  return v >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
}
