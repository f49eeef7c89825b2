/**
 * Long-running wasi server apps that sleep when idle and wake from a checkpoint with their
 * first request buffered (docs/server-apps.md). Public surface of src/host/server.
 */
export { asyncifyServer, loadServerTools, serverToolsLoaded, ASYNCIFY_DATA_BYTES } from './asyncify.ts';
export { ServerVm, type ServerEnd, type ServerModule, type ServerVmOptions, type ServerVmState } from './server-vm.ts';
export { ServerTable, serverModule } from './server-table.ts';
export { ServerInstance, type InstanceEvent, type InstanceOptions } from './instance.ts';
