/**
 * Request logs: `GET /v1/apps/{name}/logs?since=<seq>&follow=1` as NDJSON, one entry per
 * line (src/observability/request-log.ts). With `follow=1` the answer stays open and each new
 * entry is written as it happens, until the client goes away or the daemon stops.
 */
import type { LogEntry } from '../control/index.ts';
import { queryFlag, queryInt, type ApiResponse, type Route } from './http.ts';

const NDJSON = 'application/x-ndjson; charset=utf-8';

/** The backlog, then every new entry until `signal` aborts. */
function follow(backlog: LogEntry[], subscribe: (push: (e: LogEntry) => void) => () => void, signal: AbortSignal): AsyncGenerator<string> {
  // Subscribed now, not at the first read of the stream, so no entry is missed in between.
  const queue: LogEntry[] = [];
  let wake: (() => void) | undefined;
  const stop = subscribe((e) => {
    queue.push(e);
    wake?.();
  });
  return stream(backlog, queue, () => new Promise<void>((r) => (wake = r)), stop, signal);
}

async function* stream(backlog: LogEntry[], queue: LogEntry[], next: () => Promise<void>, stop: () => void, signal: AbortSignal): AsyncGenerator<string> {
  let wakeOnAbort: (() => void) | undefined;
  const onAbort = (): void => wakeOnAbort?.();
  signal.addEventListener('abort', onAbort);
  try {
    let last = 0;
    for (const e of backlog) {
      last = e.seq;
      yield `${JSON.stringify(e)}\n`;
    }
    while (!signal.aborted) {
      if (queue.length === 0) {
        await new Promise<void>((r) => {
          wakeOnAbort = r;
          void next().then(r);
        });
        continue;
      }
      const e = queue.shift()!;
      if (e.seq <= last) continue;
      last = e.seq;
      yield `${JSON.stringify(e)}\n`;
    }
  } finally {
    stop();
    signal.removeEventListener('abort', onAbort);
  }
}

export const logRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v1/apps/{name}/logs',
    auth: true,
    handler: (req, ctx): ApiResponse => {
      const app = req.params['name']!;
      const since = queryInt(req, 'since');
      const backlog = ctx.control.execute({ kind: 'GetLogs', app, ...(since === undefined ? {} : { since }) });
      if (!queryFlag(req, 'follow')) {
        return { status: 200, headers: { 'content-type': NDJSON }, body: backlog.map((e) => `${JSON.stringify(e)}\n`).join('') };
      }
      const signal = AbortSignal.any([req.signal, ctx.closing]);
      // Subscribed in the same turn as the backlog was read, so no entry falls between them.
      return {
        status: 200,
        headers: { 'content-type': NDJSON, 'cache-control': 'no-cache' },
        body: follow(backlog, (push) => ctx.control.subscribeLogs(app, push), signal),
      };
    },
  },
];
