import assert from 'node:assert/strict';
import { test } from 'node:test';
import { wat } from '../../../test/support/wat.ts';
import { dataRuns, extractSnapshot, nonZeroRuns, type DataSegment } from './transform.ts';

/** The reference: lay every active segment into the whole initial memory, then scan it. */
function fullScan(data: readonly DataSegment[], size: number): Array<[number, number[]]> {
  const image = new Uint8Array(size);
  for (const d of data) if (d.mode === 'active') image.set(d.data, d.offset!);
  return nonZeroRuns(image).map((r) => [r.offset, [...r.bytes]]);
}

test('data runs over the segments equal a scan of the whole initial memory', () => {
  let seed = 7;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const size = 4096;
    const data: DataSegment[] = [];
    for (let k = rand(8); k >= 0; k--) {
      const len = rand(200);
      // Overlapping, adjacent, near and far segments; zeros inside and at the edges.
      const bytes = Uint8Array.from({ length: len }, () => (rand(3) === 0 ? 0 : 1 + rand(255)));
      data.push(rand(5) === 0 ? { mode: 'passive', data: bytes } : { mode: 'active', offset: rand(size - len), data: bytes });
    }
    assert.deepEqual(dataRuns(data).map((r) => [r.offset, [...r.bytes]]), fullScan(data, size), `round ${round}`);
  }
});

test('the snapshot of a module declaring 4 GiB costs what its data holds', () => {
  const bytes = wat(`(module (memory (export "memory") 65536)
    (data (i32.const 16) "head") (data (i32.const 0xfffffff0) "tail")
    (func (export "_start")))`);
  const started = performance.now();
  const { snapshot } = extractSnapshot(bytes);
  const ms = performance.now() - started;
  assert.deepEqual(snapshot.segments.map((s) => [s.offset, new TextDecoder().decode(s.bytes)]), [[16, 'head'], [0xfffffff0, 'tail']]);
  // Generous: walking 4 GiB took 46 s here.
  assert.ok(ms < 2000, `took ${ms.toFixed(0)} ms`);
});
