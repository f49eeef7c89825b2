/** Overview: totals, the last hour's charts, every app, the host's shards. Refreshed every 2 s. */
import { call, type Overview, type Point } from '../api.ts';
import { Chart, type Line } from '../chart.tsx';
import { bytes, duration, ms, num, pct } from '../format.ts';
import { usePoll } from '../poll.ts';

export const REQUEST_LINES: Line[] = [{ label: 'req/s', color: '--c1', value: (p: Point, s: number) => p.requests / s }];
export const LATENCY_LINES: Line[] = [
  { label: 'p50', color: '--c1', value: (p: Point) => p.p50Ms },
  { label: 'p99', color: '--c2', value: (p: Point) => p.p99Ms },
];
export const ERROR_LINES: Line[] = [{ label: '5xx', color: '--c3', value: (p: Point) => p.errors }];
export const VM_LINES: Line[] = [{ label: 'live VMs', color: '--c4', value: (p: Point) => p.liveVms }];

export function Charts(props: { points: Point[]; intervalMs: number; prefix: string }) {
  const { points, intervalMs, prefix } = props;
  return (
    <div class="charts">
      <Chart id={`${prefix}-requests`} title="Requests per second" unit="" points={points} lines={REQUEST_LINES} intervalMs={intervalMs} />
      <Chart id={`${prefix}-latency`} title="Latency (ms)" unit=" ms" points={points} lines={LATENCY_LINES} intervalMs={intervalMs} />
      <Chart id={`${prefix}-errors`} title="Server errors per step" unit="" points={points} lines={ERROR_LINES} intervalMs={intervalMs} />
      <Chart id={`${prefix}-vms`} title="Live VMs" unit="" points={points} lines={VM_LINES} intervalMs={intervalMs} />
    </div>
  );
}

export function OverviewPage() {
  const { value: o, error } = usePoll(() => call<Overview>('GET', '/ui/api/overview'), 2000);
  if (o === undefined) return <p role="status">{error === undefined ? 'Loading…' : `Cannot load the overview: ${error.message}`}</p>;
  return (
    <>
      <h1>Overview</h1>
      {error !== undefined && <p class="error" role="alert">Refresh failed: {error.message}</p>}
      <dl class="stats" aria-label="Totals over the last minute">
        <div><dt>Requests/s</dt><dd id="total-rps">{num(o.totals.requestsPerSec)}</dd></div>
        <div><dt>Error rate</dt><dd>{pct(o.totals.errorRate)}</dd></div>
        <div><dt>p50 / p99</dt><dd>{ms(o.totals.p50Ms)} / {ms(o.totals.p99Ms)}</dd></div>
        <div><dt>Live VMs</dt><dd>{o.totals.liveVms}</dd></div>
        <div><dt>Boots/s</dt><dd>{num(o.totals.bootsPerSec)}</dd></div>
        <div><dt>Queue depth</dt><dd>{o.totals.queueDepth}</dd></div>
      </dl>
      <Charts points={o.series} intervalMs={o.intervalMs} prefix="overview" />
      <h2>Apps</h2>
      <div class="scroll">
        <table id="apps">
          <thead><tr><th scope="col">App</th><th scope="col">Version</th><th scope="col">Routes</th><th scope="col">Req/s</th><th scope="col">Errors</th><th scope="col">p50</th><th scope="col">p99</th><th scope="col">Live VMs</th></tr></thead>
          <tbody>
            {o.apps.length === 0 && <tr><td colSpan={8}>No apps yet: create one with <code>nanovisor deploy</code>.</td></tr>}
            {o.apps.map((a) => (
              <tr key={a.name} data-app={a.name}>
                <th scope="row"><a href={`/ui/apps/${a.name}`}>{a.name}</a></th>
                <td class="version">{a.currentVersion === null ? 'none' : `v${a.currentVersion}`}</td>
                <td>{a.routes.map((r) => <code key={r.path}>{r.host === undefined ? '' : r.host}{r.path} </code>)}</td>
                <td class="num">{num(a.requestsPerSec)}</td>
                <td class="num errors">{pct(a.errorRate)}</td>
                <td class="num">{ms(a.p50Ms)}</td>
                <td class="num">{ms(a.p99Ms)}</td>
                <td class="num">{a.liveVms}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Host shards</h2>
      <div class="scroll">
        <table id="shards">
          <thead><tr><th scope="col">Shard</th><th scope="col">State</th><th scope="col">PID</th><th scope="col">Up</th><th scope="col">Restarts</th><th scope="col">VMs</th><th scope="col">Memory (RSS)</th></tr></thead>
          <tbody>
            {o.shards.map((s) => (
              <tr key={s.shard}><th scope="row">{s.shard}</th><td>{s.state}</td><td>{s.pid ?? '–'}</td><td class="num up">{duration(s.uptimeMs)}</td><td class="num">{s.restarts}</td><td class="num">{s.liveVms}</td><td class="num">{bytes(s.rssBytes)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
