import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PREVIEW1_FUNCTIONS, PREVIEW1_SIGNATURES } from '../abi.ts';
import { SYSCALLS, UNSUPPORTED } from './index.ts';

test('the kernel implements every preview1 function and nothing else', () => {
  assert.deepEqual(Object.keys(SYSCALLS).sort(), [...PREVIEW1_FUNCTIONS].sort());
});

test('each implementation takes the ABI parameters (kernel + wasm params)', () => {
  for (const [name, params] of Object.entries(PREVIEW1_SIGNATURES)) {
    const fn = SYSCALLS[name]!;
    assert.equal(fn.length, params.length + 1, `${name} should take ${params.length} wasm params`);
  }
});

test('deliberately unsupported functions are listed with a reason', () => {
  for (const [name, why] of Object.entries(UNSUPPORTED)) {
    assert.ok(PREVIEW1_FUNCTIONS.includes(name), `${name} is not a preview1 function`);
    assert.match(why, /^E(NOSYS|NOTSUP)/);
  }
});
