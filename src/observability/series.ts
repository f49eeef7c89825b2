/**
 * The last hour of the gateway's traffic, in memory, for the dashboard's charts: requests,
 * server errors (5xx), VM boots, latency p50/p99 and live VMs, per interval (10 s), for the
 * whole gateway and for each app. Prometheus keeps history for those who run one; this is
 * for the team that only runs `nanovisor serve`.
 *
 * Bounded: at most `points` closed intervals (default 360 = one hour of 10 s) per series,
 * one series for the total and one per app, each point seven numbers; the latencies of an
 * interval are a reservoir of at most 1,024 samples per series (the percentiles of a busy
 * interval are estimated from them). A deleted app's series is dropped (`forgetApp`).
 */
import type { RequestRecord } from '../gateway/server.ts';

/** One interval of one series. */
export interface SeriesPoint {
  /** Start of the interval (ms since the epoch). */
  t: number;
  requests: number;
  /** Answers with a 5xx status. */
  errors: number;
  /** Requests that ran a VM. */
  boots: number;
  /** Latency percentiles of the interval's requests, in ms (null without requests). */
  p50Ms: number | null;
  p99Ms: number | null;
  /** VMs running at the end of the interval (for the open one: now). */
  liveVms: number;
}

export interface SeriesOptions {
  /** Length of one interval. Default 10 s. */
  intervalMs?: number;
  /** Closed intervals kept per series. Default 360 (one hour at 10 s). */
  points?: number;
  /** VMs running now, in total and by app. */
  liveVms?: () => { total: number; byApp: Record<string, number> };
  now?: () => number;
}

export const DEFAULT_SERIES_INTERVAL_MS = 10_000;
export const DEFAULT_SERIES_POINTS = 360;
/** Latency samples kept per interval and series. */
export const RESERVOIR_SIZE = 1024;

interface Open {
  requests: number;
  errors: number;
  boots: number;
  seen: number;
  samples: number[];
}

function fresh(): Open {
  return { requests: 0, errors: 0, boots: 0, seen: 0, samples: [] };
}

/** The `q` quantile (0..1) of sorted values, nearest rank. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/**
 * The time series the daemon keeps.
 *
 * @example
 * const series = new TrafficSeries({ liveVms: () => ({ total: gw.liveVms(), byApp: gw.liveVmsByApp() }) });
 * series.start();                       // closes an interval every 10 s (an unref'd timer)
 * gateway onRequest: (r) => series.record(r)
 * series.points('hello');               // the last hour of "hello", the open interval last
 */
export class TrafficSeries {
  readonly intervalMs: number;
  readonly capacity: number;
  readonly #now: () => number;
  readonly #live: () => { total: number; byApp: Record<string, number> };
  #openSince: number;
  #open = new Map<string, Open>();
  /** Closed points by series key ('' is the total). */
  #closed = new Map<string, SeriesPoint[]>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: SeriesOptions = {}) {
    this.intervalMs = options.intervalMs ?? DEFAULT_SERIES_INTERVAL_MS;
    this.capacity = options.points ?? DEFAULT_SERIES_POINTS;
    this.#now = options.now ?? Date.now;
    this.#live = options.liveVms ?? (() => ({ total: 0, byApp: {} }));
    this.#openSince = this.#now();
    this.#closed.set('', []);
  }

  /** Counts one finished gateway request, in the total and in its app's series. */
  record(r: RequestRecord): void {
    this.#add('', r);
    if (r.app !== undefined) this.#add(r.app, r);
  }

  #add(key: string, r: RequestRecord): void {
    let o = this.#open.get(key);
    if (o === undefined) this.#open.set(key, (o = fresh()));
    if (!this.#closed.has(key)) this.#closed.set(key, []);
    o.requests++;
    if (r.status >= 500) o.errors++;
    if (r.outcome !== undefined) o.boots++;
    // Reservoir sampling (Algorithm R): every request equally likely to be kept.
    o.seen++;
    if (o.samples.length < RESERVOIR_SIZE) o.samples.push(r.durationMs);
    else {
      const j = Math.floor(Math.random() * o.seen);
      if (j < RESERVOIR_SIZE) o.samples[j] = r.durationMs;
    }
  }

  #point(key: string, o: Open | undefined, t: number, live: { total: number; byApp: Record<string, number> }): SeriesPoint {
    const sorted = (o?.samples ?? []).slice().sort((a, b) => a - b);
    return {
      t,
      requests: o?.requests ?? 0,
      errors: o?.errors ?? 0,
      boots: o?.boots ?? 0,
      p50Ms: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      liveVms: key === '' ? live.total : (live.byApp[key] ?? 0),
    };
  }

  /** Closes the open interval (the timer calls this every `intervalMs`). */
  tick(): void {
    const live = this.#live();
    const t = this.#openSince;
    for (const [key, points] of this.#closed) {
      points.push(this.#point(key, this.#open.get(key), t, live));
      if (points.length > this.capacity) points.splice(0, points.length - this.capacity);
    }
    this.#open = new Map();
    this.#openSince = this.#now();
  }

  /** The closed points of a series (the total when `app` is undefined), oldest first, then the open interval so far. */
  points(app?: string): SeriesPoint[] {
    const key = app ?? '';
    const closed = this.#closed.get(key) ?? [];
    return [...closed, this.#point(key, this.#open.get(key), this.#openSince, this.#live())];
  }

  /**
   * Requests per second, error rate (5xx / requests) and p50/p99 over the last `windowMs`
   * (default one minute: the intervals that end inside it, and the open one).
   */
  summary(app?: string, windowMs = 60_000): { requestsPerSec: number; errorRate: number | null; p50Ms: number | null; p99Ms: number | null } {
    const now = this.#now();
    const pts = this.points(app).filter((p) => p.t + this.intervalMs > now - windowMs);
    const requests = pts.reduce((n, p) => n + p.requests, 0);
    const errors = pts.reduce((n, p) => n + p.errors, 0);
    const since = pts.length === 0 ? now : pts[0]!.t;
    const seconds = Math.max(1, (now - since) / 1000);
    const busy = pts.filter((p) => p.requests > 0);
    // A request-weighted mean of the intervals' percentiles: an estimate, labelled as such in docs.
    const weighted = (f: (p: SeriesPoint) => number | null): number | null => busy.length === 0 ? null : busy.reduce((s, p) => s + f(p)! * p.requests, 0) / requests;
    return {
      requestsPerSec: requests / seconds,
      errorRate: requests === 0 ? null : errors / requests,
      p50Ms: weighted((p) => p.p50Ms),
      p99Ms: busy.length === 0 ? null : Math.max(...busy.map((p) => p.p99Ms!)),
    };
  }

  /** Drops a deleted app's series. */
  forgetApp(app: string): void {
    this.#closed.delete(app);
    this.#open.delete(app);
  }

  /** Drops the series of every app not in `apps` (the total stays). */
  retain(apps: ReadonlySet<string>): void {
    for (const key of [...this.#closed.keys()]) if (key !== '' && !apps.has(key)) this.forgetApp(key);
  }

  /** Series held (the total and one per app seen). */
  get seriesCount(): number {
    return this.#closed.size;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
