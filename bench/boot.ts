/**
 * Boot benchmarks: create + start to exit of a Nano-VM, for a trivial module and the C
 * hello world, against naive `new WebAssembly.Instance` + node:wasi in the same run.
 */
import { openSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { NanoVm, prepareModule } from '../src/host/index.ts';
import { sampleMicros, summarize, type Row } from './stats.ts';

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

export function bootBench(subjects: readonly BootSubject[], iterations: number): Row[] {
  const devNull = openSync('/dev/null', 'w');
  const rows: Row[] = [];
  for (const s of subjects) {
    const prepared = prepareModule(s.bytes);
    const naive = summarize(sampleMicros(nodeWasiBoot(prepared.module, devNull), iterations));
    const ours = summarize(sampleMicros(() => {
      NanoVm.create(prepared, { args: ['hello'], stdout: () => {} }).run();
    }, iterations));
    rows.push({ group: 'boot', name: `${s.name}: node:wasi + new Instance`, unit: 'µs', summary: naive, ratio: 1 });
    rows.push({ group: 'boot', name: `${s.name}: nanovisor NanoVm`, unit: 'µs', summary: ours, ratio: naive.median / ours.median });
  }
  return rows;
}
