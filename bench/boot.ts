/**
 * Boot benchmarks: create + start to exit of a Nano-VM, for a trivial module and the C
 * hello world, against naive `new WebAssembly.Instance` + node:wasi in the same run.
 */
import { openSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { NanoVm, prepareModule } from '../src/host/index.ts';
import { sampleMicros, sampleMicrosYielding, summarize, type Row } from './stats.ts';

export interface BootSubject {
  readonly name: string;
  readonly bytes: Uint8Array;
}

function nodeWasiBoot(module: WebAssembly.Module, devNull: number): () => void {
  return () => {
    const wasi = new WASI({ version: 'preview1', args: ['hello'], env: {}, stdout: devNull, returnOnExit: true });
    const inst = new WebAssembly.Instance(module, wasi.getImportObject() as WebAssembly.Imports);
    wasi.start(inst);
  };
}

export async function bootBench(subjects: readonly BootSubject[], iterations: number): Promise<Row[]> {
  const devNull = openSync('/dev/null', 'w');
  const rows: Row[] = [];
  for (const s of subjects) {
    const naive = summarize(sampleMicros(nodeWasiBoot(new WebAssembly.Module(s.bytes), devNull), iterations));
    const fresh = prepareModule(s.bytes, undefined, { snapshot: 'off' });
    const freshRun = summarize(sampleMicros(() => {
      NanoVm.create(fresh, { args: ['hello'], stdout: () => {} }).run();
    }, iterations));
    const pooled = prepareModule(s.bytes);
    const pooledRun = summarize(await sampleMicrosYielding(() => {
      NanoVm.create(pooled, { args: ['hello'], stdout: () => {} }).run();
    }, iterations));
    const pooledTight = summarize(sampleMicros(() => {
      NanoVm.create(pooled, { args: ['hello'], stdout: () => {} }).run();
    }, iterations));
    const note = pooled.snapshot === undefined ? 'no snapshot: fresh instance' : `snapshot ${pooled.snapshot.initialPages} pages, reusable=${pooled.snapshot.reusable}`;
    rows.push({ group: 'boot', name: `${s.name}: node:wasi + new Instance`, unit: 'µs', summary: naive, ratio: 1 });
    rows.push({ group: 'boot', name: `${s.name}: nanovisor, fresh instance`, unit: 'µs', summary: freshRun, ratio: naive.median / freshRun.median });
    rows.push({ group: 'boot', name: `${s.name}: nanovisor, pooled snapshot`, unit: 'µs', summary: pooledRun, ratio: naive.median / pooledRun.median, note });
    rows.push({ group: 'boot', name: `${s.name}: nanovisor, pooled, back to back`, unit: 'µs', summary: pooledTight, ratio: naive.median / pooledTight.median, note: 'no loop turn between VMs: each boot also resets an instance' });
  }
  return rows;
}
