import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, NanovisorError, isNanovisorError } from './errors.ts';

test('every error code is documented in docs/errors.md', () => {
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const missing = Object.keys(ERROR_CODES).filter((c) => !doc.includes(`\`${c}\``));
  assert.deepEqual(missing, [], `undocumented codes: ${missing.join(', ')}`);
});

test('errors carry code, class and hint; matching works on code', () => {
  const e = new NanovisorError('NV_IMAGE_NOT_FOUND', 'no image "x"');
  assert.equal(e.code, 'NV_IMAGE_NOT_FOUND');
  assert.equal(e.class, 'user');
  assert.match(e.hint, /image ls/);
  assert.ok(isNanovisorError(e, 'NV_IMAGE_NOT_FOUND'));
  assert.ok(isNanovisorError({ code: 'NV_HOST_FAULT' }));
  assert.ok(!isNanovisorError({ code: 'ENOENT' }));
  assert.ok(!isNanovisorError(null));
});
