/**
 * Metrics in the Prometheus text exposition format (version 0.0.4), without a dependency: a
 * small registry of counters, gauges and fixed-bucket histograms with labels, and the
 * nanovisor metrics `GET /metrics` serves (see docs/observability.md).
 *
 * Updating a metric is a map lookup and an add, so the gateway can record every request on
 * its hot path. Gauges whose truth lives elsewhere (live VMs, idle pool instances) can be
 * read at scrape time through a collector instead of being pushed.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { RequestRecord } from '../gateway/server.ts';
import type { InstanceState, InstanceView } from '../gateway/scale-to-zero.ts';

/** Label values by label name. Missing labels render as empty strings. */
export type Labels = Readonly<Record<string, string | number>>;

/** The `Content-Type` of `render()`'s output. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Escapes a HELP text: backslash and newline. */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** A sample value as Prometheus writes it: `+Inf`, `-Inf`, `NaN`, or the shortest decimal. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

type Kind = 'counter' | 'gauge' | 'histogram';

abstract class Metric<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly kind: Kind;
  /** Series by the joined label values. */
  protected readonly series = new Map<string, { values: string[]; state: S }>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`metric name "${name}" is not valid`);
    for (const l of labelNames) {
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new TypeError(`${name}: label name "${l}" is not valid`);
    }
    if (new Set(labelNames).size !== labelNames.length) throw new TypeError(`${name}: duplicate label names`);
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected abstract fresh(): S;

  protected entry(labels: Labels | undefined): S {
    const values = this.labelNames.map((n) => {
      const v = labels?.[n];
      return v === undefined ? '' : String(v);
    });
    const key = values.join('\u0000');
    let e = this.series.get(key);
    if (e === undefined) {
      e = { values, state: this.fresh() };
      this.series.set(key, e);
    }
    return e.state;
  }

  /** `{a="x",b="y"}` (with `extra` pairs appended), or `` without labels. */
  protected labelText(values: readonly string[], extra: readonly [string, string][] = []): string {
    const pairs = this.labelNames.map((n, i) => `${n}="${escapeLabelValue(values[i]!)}"`);
    for (const [n, v] of extra) pairs.push(`${n}="${escapeLabelValue(v)}"`);
    return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
  }

  /** Drops every series whose label `name` has `value` (e.g. a deleted app's). */
  forget(name: string, value: string): void {
    const i = this.labelNames.indexOf(name);
    if (i < 0) return;
    for (const [key, e] of this.series) if (e.values[i] === value) this.series.delete(key);
  }

  /** Drops every series. */
  reset(): void {
    this.series.clear();
  }

  protected abstract samples(out: string[]): void;

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.kind}`);
    this.samples(out);
  }
}

/**
 * A value that only goes up (until the process restarts).
 *
 * @example
 * const c = registry.counter('jobs_total', 'Jobs run.', ['queue']);
 * c.inc({ queue: 'a' });
 */
export class Counter extends Metric<{ v: number }> {
  readonly kind = 'counter';
  protected fresh(): { v: number } {
    return { v: 0 };
  }
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`${this.name}: a counter can only go up`);
    this.entry(labels).v += by;
  }
  /** The current value of one series (0 when never touched). */
  get(labels?: Labels): number {
    return this.entry(labels).v;
  }
  protected samples(out: string[]): void {
    for (const { values, state } of this.series.values()) out.push(`${this.name}${this.labelText(values)} ${formatValue(state.v)}`);
  }
}

/** One series of a gauge's collector: its labels and value. */
export type GaugeSample = readonly [Labels, number];

/**
 * A value that goes up and down. Either set it, or give it a collector read at render time.
 *
 * @example
 * const g = registry.gauge('queue_depth', 'Waiting jobs.', ['queue']);
 * g.set({ queue: 'a' }, 3);
 * registry.gauge('vms_live', 'Live VMs.').collect(() => host.liveCount);
 */
export class Gauge extends Metric<{ v: number }> {
  readonly kind = 'gauge';
  #collector: (() => number | readonly GaugeSample[]) | undefined;
  protected fresh(): { v: number } {
    return { v: 0 };
  }
  set(labels: Labels | undefined, value: number): void {
    this.entry(labels).v = value;
  }
  inc(labels?: Labels, by = 1): void {
    this.entry(labels).v += by;
  }
  dec(labels?: Labels, by = 1): void {
    this.entry(labels).v -= by;
  }
  get(labels?: Labels): number {
    return this.entry(labels).v;
  }
  /**
   * Reads the gauge from `fn` at every render, replacing the stored series: a number for a
   * gauge without labels, or `[labels, value]` pairs. A collector that throws leaves the
   * stored series as they were.
   */
  collect(fn: (() => number | readonly GaugeSample[]) | undefined): void {
    this.#collector = fn;
  }
  protected samples(out: string[]): void {
    if (this.#collector !== undefined) {
      try {
        const got = this.#collector();
        this.series.clear();
        if (typeof got === 'number') this.set(undefined, got);
        else for (const [labels, v] of got) this.set(labels, v);
      } catch {
        // A broken collector must not break the scrape.
      }
    }
    for (const { values, state } of this.series.values()) out.push(`${this.name}${this.labelText(values)} ${formatValue(state.v)}`);
  }
}

interface HistogramState {
  /** Per bucket, not cumulative; the last is +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * Observations counted into fixed buckets (upper bounds, ascending; `+Inf` is implied).
 *
 * @example
 * const h = registry.histogram('latency_seconds', 'Latency.', ['app'], [0.001, 0.01, 0.1]);
 * h.observe({ app: 'echo' }, 0.0042);
 */
export class Histogram extends Metric<HistogramState> {
  readonly kind = 'histogram';
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames);
    if (labelNames.includes('le')) throw new TypeError(`${name}: a histogram cannot have a label "le"`);
    if (buckets.length === 0) throw new TypeError(`${name}: a histogram needs buckets`);
    for (let i = 0; i < buckets.length; i++) {
      if (!Number.isFinite(buckets[i]!) || (i > 0 && buckets[i]! <= buckets[i - 1]!)) {
        throw new TypeError(`${name}: buckets must be finite and strictly ascending`);
      }
    }
    this.buckets = [...buckets];
  }

  protected fresh(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(labels: Labels | undefined, value: number): void {
    const s = this.entry(labels);
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Count and sum of one series. */
  get(labels?: Labels): { count: number; sum: number } {
    const s = this.entry(labels);
    return { count: s.count, sum: s.sum };
  }

  protected samples(out: string[]): void {
    for (const { values, state } of this.series.values()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += state.counts[i]!;
        const le = i === this.buckets.length ? '+Inf' : formatValue(this.buckets[i]!);
        out.push(`${this.name}_bucket${this.labelText(values, [['le', le]])} ${cumulative}`);
      }
      out.push(`${this.name}_sum${this.labelText(values)} ${formatValue(state.sum)}`);
      out.push(`${this.name}_count${this.labelText(values)} ${state.count}`);
    }
  }
}

/**
 * A set of metrics rendered together. Names are unique within a registry.
 *
 * @example
 * const r = new Registry();
 * r.counter('hits_total', 'Hits.').inc();
 * r.render(); // "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 1\n"
 */
export class Registry {
  readonly #metrics = new Map<string, Metric<unknown>>();

  #add<M extends Metric<unknown>>(m: M): M {
    if (this.#metrics.has(m.name)) throw new TypeError(`metric "${m.name}" is registered twice`);
    this.#metrics.set(m.name, m);
    return m;
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.#add(new Histogram(name, help, labelNames, buckets));
  }

  /** Drops the series of every metric whose label `name` is `value`. */
  forget(name: string, value: string): void {
    for (const m of this.#metrics.values()) m.forget(name, value);
  }

  /** The whole registry in the text exposition format, ending with a newline. */
  render(): string {
    const out: string[] = [];
    for (const m of this.#metrics.values()) m.render(out);
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}

/**
 * Request latency buckets, in seconds: a fresh-VM request takes tens of microseconds to
 * seconds, so the buckets start at 100 µs and reach 30 s (the default time limit).
 */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** Where the pull-based gauges read their values. */
export interface MetricsSources {
  /** Live Nano-VMs right now, across shards. */
  vmsLive?: () => number;
  /** Idle, ready instances in the host pools. */
  poolIdle?: () => number;
  /** Requests waiting for a concurrency slot, per app. */
  queueDepth?: () => Readonly<Record<string, number>>;
  /** Server apps' instances (state, requests buffered for a wake), per app. */
  instances?: () => Readonly<Record<string, InstanceView>>;
}

const INSTANCE_STATES: readonly InstanceState[] = ['awake', 'sleeping', 'asleep', 'waking'];

/**
 * The nanovisor metrics. The daemon holds one, feeds it every gateway `RequestRecord`
 * (`recordRequest`, or `subscribeGateway()` for the diagnostics channel), counts deploys,
 * and serves `render()` on `GET /metrics`.
 *
 * @example
 * const m = new NanovisorMetrics({ vmsLive: () => supervisor.live });
 * const gw = createGateway({ apps, onRequest: (r) => m.recordRequest(r) });
 * // GET /metrics -> m.render()
 */
export class NanovisorMetrics {
  readonly registry = new Registry();
  readonly requests = this.registry.counter('nanovisor_requests_total', 'HTTP requests finished by the gateway, by app and status code (app="" when no app was routed).', ['app', 'status']);
  readonly duration = this.registry.histogram('nanovisor_request_duration_seconds', 'Time from a request being handled to its response being written, by app.', ['app'], REQUEST_DURATION_BUCKETS);
  readonly vmBoots = this.registry.counter('nanovisor_vm_boots_total', 'Nano-VMs booted to serve requests, by app.', ['app']);
  readonly vmsLive = this.registry.gauge('nanovisor_vms_live', 'Nano-VMs alive right now.');
  readonly poolIdle = this.registry.gauge('nanovisor_pool_idle_instances', 'Idle, reset instances ready in the host pools.');
  readonly queueDepth = this.registry.gauge('nanovisor_queue_depth', 'Requests waiting for a concurrency slot, by app.', ['app']);
  readonly deploys = this.registry.counter('nanovisor_deploys_total', 'Versions deployed or rolled back to, by app.', ['app']);
  readonly instanceState = this.registry.gauge('nanovisor_server_instance_state', 'Server apps\' instances: 1 for the state each is in (awake, sleeping, asleep, waking), by app.', ['app', 'state']);
  readonly wakeBuffered = this.registry.gauge('nanovisor_server_wake_buffered_requests', 'Requests waiting for a server instance to wake, by app.', ['app']);
  readonly sleeps = this.registry.counter('nanovisor_server_sleeps_total', 'Server instances put to sleep after their idle timeout (scale to zero), by app.', ['app']);
  readonly wakes = this.registry.counter('nanovisor_server_wakes_total', 'Sleeping server instances woken by a request, by app.', ['app']);
  readonly outboundCalls = this.registry.counter('nanovisor_outbound_requests_total', 'Outbound HTTP calls of guests through the switch, by app, destination host and status (the response code, or the wasi:http error-code of a refused or failed call).', ['app', 'host', 'status']);
  readonly wakeDuration = this.registry.histogram('nanovisor_server_wake_seconds', 'From the request that woke a server instance to the instance accepting it, by app.', ['app'], REQUEST_DURATION_BUCKETS);

  constructor(sources: MetricsSources = {}) {
    this.setSources(sources);
  }

  /** Sets (or replaces) where the pull-based gauges read their values. */
  setSources(sources: MetricsSources): void {
    const { vmsLive, poolIdle, queueDepth, instances } = sources;
    if (vmsLive !== undefined) this.vmsLive.collect(vmsLive);
    if (poolIdle !== undefined) this.poolIdle.collect(poolIdle);
    if (queueDepth !== undefined) this.queueDepth.collect(() => Object.entries(queueDepth()).map(([app, n]) => [{ app }, n] as const));
    if (instances !== undefined) {
      this.instanceState.collect(() => Object.entries(instances()).flatMap(([app, v]) => INSTANCE_STATES.map((state) => [{ app, state }, v.state === state ? 1 : 0] as const)));
      this.wakeBuffered.collect(() => Object.entries(instances()).map(([app, v]) => [{ app }, v.buffered] as const));
    }
  }

  /** Counts a server instance's sleep, or its wake and how long it took. */
  recordTransition(app: string, event: 'sleep' | 'wake', ms: number): void {
    if (event === 'sleep') this.sleeps.inc({ app });
    else {
      this.wakes.inc({ app });
      this.wakeDuration.observe({ app }, ms / 1000);
    }
  }

  /** Counts one finished gateway request: status, latency, and a VM boot when a VM ran. */
  recordRequest(record: RequestRecord): void {
    const app = record.app ?? '';
    this.requests.inc({ app, status: record.status });
    this.duration.observe({ app }, record.durationMs / 1000);
    if (record.outcome !== undefined) this.vmBoots.inc({ app });
    for (const c of record.outbound ?? []) this.outboundCalls.inc({ app, host: c.host, status: c.status });
  }

  /** Counts a deploy or rollback of `app`. */
  recordDeploy(app: string): void {
    this.deploys.inc({ app });
  }

  /** Forgets a deleted app's series, so they stop being exported. */
  forgetApp(app: string): void {
    this.registry.forget('app', app);
  }

  /**
   * Records every request published on `nanovisor:gateway:request`. Returns the function
   * that stops it. (Use this or `onRequest`, not both, or requests count twice.)
   */
  subscribeGateway(): () => void {
    const fn = (message: unknown): void => this.recordRequest(message as RequestRecord);
    subscribe('nanovisor:gateway:request', fn);
    return () => {
      unsubscribe('nanovisor:gateway:request', fn);
    };
  }

  /** Everything, in the Prometheus text format. */
  render(): string {
    return this.registry.render();
  }
}

/** The process-wide metrics, for callers that do not hold their own instance. */
export const defaultMetrics = new NanovisorMetrics();

/** Records a gateway request in the process-wide metrics. */
export function recordRequest(record: RequestRecord): void {
  defaultMetrics.recordRequest(record);
}

/** The process-wide metrics in the Prometheus text format. */
export function renderMetrics(): string {
  return defaultMetrics.render();
}
