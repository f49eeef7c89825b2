/**
 * The linux driver: unmodified Linux programs under gVisor (runsc). Public surface of
 * src/drivers/linux.
 */
export { LinuxHost } from './linux-host.ts';
export type { LinuxHostOptions, LinuxImage, LinuxRunOptions } from './linux-host.ts';
export { ensureRelay, probeRunsc, runscFlags } from './runsc.ts';
export type { RunscOptions, RunscStatus } from './runsc.ts';
export { bundleConfig, SANDBOX_PIDS } from './bundle.ts';
export type { BundleOptions } from './bundle.ts';
export { startServer, supervise } from './server.ts';
export type { ServerInstance, ServerSpec, ServerStartOptions, SupervisorOptions } from './server.ts';
