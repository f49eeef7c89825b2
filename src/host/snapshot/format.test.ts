import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeSnapshot, encodeSnapshot } from './format.ts';
import type { Snapshot } from './types.ts';

const SNAP: Snapshot = {
  initialPages: 2,
  maximumPages: 10,
  segments: [{ offset: 16, bytes: Uint8Array.of(1, 2, 3) }, { offset: 70000, bytes: Uint8Array.of(9) }],
  globals: [{ index: 0, type: 'i32', value: 66560, exportName: '__nv_global_0' }, { index: 1, type: 'i64', value: '-5', exportName: '__nv_global_1' }],
  reusable: true,
  preinitialized: false,
};

test('snapshot layer round-trips', () => {
  const back = decodeSnapshot(encodeSnapshot(SNAP));
  assert.deepEqual(back, SNAP);
});

test('malformed snapshot layers are refused with NV_IMAGE_MALFORMED', () => {
  const good = encodeSnapshot(SNAP);
  const bads = [
    new Uint8Array(3),
    good.subarray(0, good.length - 1),
    Uint8Array.from([...good, 0]),
    encodeSnapshot({ ...SNAP, segments: [{ offset: 2 * 65536 - 1, bytes: Uint8Array.of(1, 2) }] }),
    encodeSnapshot({ ...SNAP, segments: [...SNAP.segments].reverse() }),
    encodeSnapshot({ ...SNAP, maximumPages: 1 }),
  ];
  for (const b of bads) assert.throws(() => decodeSnapshot(b), (e: { code?: string }) => e.code === 'NV_IMAGE_MALFORMED');
});
