/**
 * Starting a wasi server app's instance in the daemon: a ServerInstance on the wasi host
 * (src/host/server; restarted with backoff when it crashes, logged), held through the
 * gateway's ScaleToZero like a linux one (idle timeout, buffered wake, the API's and the
 * metrics' view of it).
 */
import type { AppSpec, LoadedInstance } from '../../gateway/index.ts';
import { ScaleToZero } from '../../gateway/scale-to-zero.ts';
import { ServerInstance, type ServerHost, type VmHandle } from '../../host/index.ts';
import type { NanovisorMetrics } from '../../observability/index.ts';
import { NanovisorError } from '../../shared/errors.ts';

type Log = (level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;

let instances = 0;

/** Starts a server spec's instance on a wasi host; resolves once it is ready. */
export async function startWasiServer(spec: AppSpec, host: ServerHost, handle: VmHandle, log: Log, metrics: NanovisorMetrics): Promise<LoadedInstance> {
  const server = spec.server!;
  if ((spec.exclusiveVolumes ?? []).length > 0) {
    throw new NanovisorError('NV_MANIFEST_INVALID', `a server app cannot mount an exclusive volume yet (${spec.exclusiveVolumes!.join(', ')}): one VM would hold it for as long as it runs`);
  }
  const fields = { app: spec.name, version: spec.version };
  const inst = await ServerInstance.start({
    host, handle, id: `${spec.name}.v${spec.version}.${instances++}`,
    start: {
      args: spec.options.args ?? [spec.name], readyTimeoutMs: server.readyTimeoutMs,
      ...(spec.options.env === undefined ? {} : { env: spec.options.env }),
      ...(spec.options.mounts === undefined ? {} : { mounts: spec.options.mounts }),
      ...(spec.options.writableLayerBytes === undefined ? {} : { writableLayerBytes: spec.options.writableLayerBytes }),
    },
    onEvent: (e) => {
      if (e.kind === 'crash') {
        log('error', 'server instance crashed: restarting it', { ...fields, reason: e.end.reason, exitCode: e.end.exitCode, error: e.end.message, restarts: e.restarts, backoffMs: e.backoffMs });
      } else if (e.kind === 'restarted') {
        log('info', 'server instance restarted', { ...fields, restarts: e.restarts });
      } else {
        log('error', 'server instance restart failed', { ...fields, error: e.error, restarts: e.restarts, backoffMs: e.backoffMs });
      }
    },
  });
  return new ScaleToZero({
    exchange: (request, o) => inst.exchange(request, o),
    sleep: () => inst.sleep(),
    wake: () => inst.wake(),
    stop: () => inst.stop(),
  }, {
    idleTimeoutMs: server.idleTimeoutMs, wakeTimeoutMs: server.readyTimeoutMs,
    onEvent: (e) => {
      if (e.error === undefined) metrics.recordTransition(spec.name, e.event, e.ms);
      // A sleep the server refused (it was not waiting in sock_accept) is routine: it serves on.
      if (e.error === undefined || e.event === 'wake') log(e.error === undefined ? 'info' : 'error', e.error === undefined ? `server instance ${e.event === 'sleep' ? 'asleep' : 'awake'}` : 'server instance wake failed', { ...fields, ms: Math.round(e.ms * 10) / 10, ...(e.error === undefined ? {} : { error: e.error }) });
    },
  });
}
