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

/** `bytes` plus a custom section: the same code with new wire bytes (no engine cache hit). */
function withCustomSection(bytes: Uint8Array, name: string): Uint8Array {
  const n = new TextEncoder().encode(name);
  const payload = [n.length, ...n];
  const out = new Uint8Array(bytes.length + 2 + payload.length);
  out.set(bytes);
  out.set([0, payload.length, ...payload], bytes.length);
  return out;
}

/**
 * First boot of an image in a process: validate + transform + compile (prepareModule), then
 * the first VM (instantiation, the engine's lazy compilation of the functions it calls).
 */
export function firstBootBench(subjects: readonly BootSubject[], trials: number): Row[] {
  const rows: Row[] = [];
  for (const s of subjects) {
    const samples: number[] = [];
    for (let i = 0; i < trials; i++) {
      const bytes = withCustomSection(s.bytes, `nv-first-boot-${i}-${process.pid}`);
      const t = process.hrtime.bigint();
      NanoVm.create(prepareModule(bytes), { args: ['hello'], stdout: () => {} }).run();
      samples.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    rows.push({ group: 'boot', name: `${s.name}: first boot of an image (prepare + first VM)`, unit: 'ms', summary: summarize(samples), note: 'once per image per host process' });
  }
  return rows;
}
