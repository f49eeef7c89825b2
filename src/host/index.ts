/**
 * The host: boots and runs Nano-VMs. Public surface of src/host.
 */
import { NanoVm, prepareModule, type PreparedModule, type RunResult, type VmOptions } from './vm.ts';

export {
  DEFAULT_MAX_OUTPUT, DEFAULT_MEMORY_LIMIT, DEFAULT_WRITABLE_LAYER, EXIT_OUTPUT_LIMIT, EXIT_TIMEOUT, EXIT_TRAP,
  NanoVm, prepareModule,
} from './vm.ts';
export type { Mount, Outcome, OutputTarget, PreparedModule, RunResult, VmOptions } from './vm.ts';

/**
 * Boots a fresh Nano-VM from module bytes (or a prepared module), runs it to the end and
 * destroys it. Secure defaults: no env, no dirs, no network, empty stdin (see VmOptions).
 *
 * @example
 * const r = await runWasm(readFileSync('hello.wasm'));
 * process.stdout.write(r.stdout);
 */
export async function runWasm(module: Uint8Array | PreparedModule, options: VmOptions = {}): Promise<RunResult> {
  const prepared = module instanceof Uint8Array ? prepareModule(module, options.memoryLimitBytes) : module;
  return NanoVm.create(prepared, options).run();
}
