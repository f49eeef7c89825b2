import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isNanovisorError } from '../shared/errors.ts';
import { readTar, writeTar, type TarEntry } from './tar.ts';
import { tempDir } from './testing.ts';

const enc = new TextEncoder();
const long = `${'d'.repeat(120)}/${'e'.repeat(90)}/${'f'.repeat(150)}.txt`;

const ENTRIES: TarEntry[] = [
  { path: 'srv/b.txt', kind: 'file', mode: 0o644, data: enc.encode('bee\n') },
  { path: 'srv', kind: 'dir', mode: 0o755 },
  { path: 'srv/a', kind: 'symlink', mode: 0o777, target: 'b.txt' },
  { path: 'bin/run', kind: 'file', mode: 0o755, data: new Uint8Array(1000).fill(7) },
  { path: 'empty', kind: 'file', mode: 0o644 },
  { path: long, kind: 'file', mode: 0o644, data: enc.encode('long') },
  { path: 'srv/far', kind: 'symlink', mode: 0o777, target: `../${'t'.repeat(150)}` },
];

test('write then read gives the entries back, sorted, and the bytes are deterministic', () => {
  const a = writeTar(ENTRIES);
  const b = writeTar([...ENTRIES].reverse());
  assert.deepEqual(a, b);
  assert.equal(a.length % 512, 0);
  const back = readTar(a);
  assert.deepEqual(back.map((e) => e.path), ['bin/run', 'd'.repeat(120) + long.slice(120), 'empty', 'srv', 'srv/a', 'srv/b.txt', 'srv/far']);
  const byPath = new Map(back.map((e) => [e.path, e]));
  assert.deepEqual(byPath.get('srv/b.txt'), ENTRIES[0]);
  assert.deepEqual(byPath.get('empty')?.data, new Uint8Array(0));
  assert.equal(byPath.get('srv/a')?.target, 'b.txt');
  assert.equal(byPath.get('srv/far')?.target, ENTRIES[6]!.target);
  assert.equal(byPath.get(long)?.mode, 0o644);
});

test('GNU tar reads what we write (long names included)', () => {
  using dir = tempDir();
  writeFileSync(join(dir.path, 'x.tar'), writeTar(ENTRIES));
  mkdirSync(join(dir.path, 'out'));
  execFileSync('tar', ['-xf', '../x.tar'], { cwd: join(dir.path, 'out') });
  assert.equal(readFileSync(join(dir.path, 'out/srv/b.txt'), 'utf8'), 'bee\n');
  assert.equal(readFileSync(join(dir.path, 'out', long), 'utf8'), 'long');
  assert.equal(readlinkSync(join(dir.path, 'out/srv/a')), 'b.txt');
});

test('we read what GNU tar writes in ustar format', () => {
  using dir = tempDir();
  mkdirSync(join(dir.path, 'src/sub'), { recursive: true });
  writeFileSync(join(dir.path, 'src/sub/f'), 'data');
  symlinkSync('sub/f', join(dir.path, 'src/l'));
  execFileSync('tar', ['--format=ustar', '-cf', 'g.tar', '-C', 'src', 'sub', 'l'], { cwd: dir.path });
  const got = readTar(new Uint8Array(readFileSync(join(dir.path, 'g.tar'))));
  assert.deepEqual(got.map((e) => `${e.kind}:${e.path}`).sort(), ['dir:sub', 'file:sub/f', 'symlink:l']);
});

function refused(bytes: Uint8Array, code: 'NV_IMAGE_FILES_INVALID' | 'NV_IMAGE_MALFORMED', pattern?: RegExp): void {
  assert.throws(() => readTar(bytes), (e) => isNanovisorError(e, code) && (pattern === undefined || pattern.test((e as Error).message)));
}

/** Builds a tar with one raw header whose name/type/link we choose, fixing the checksum. */
function rawTar(name: string, type: string, link = ''): Uint8Array {
  const t = writeTar([{ path: 'placeholder', kind: 'file', mode: 0o644 }]);
  const h = t.subarray(0, 512);
  h.fill(0, 0, 100);
  h.set(enc.encode(name), 0);
  h[156] = type.charCodeAt(0);
  h.fill(0, 157, 257);
  h.set(enc.encode(link), 157);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(enc.encode(sum.toString(8).padStart(6, '0') + '\0 '), 148);
  return t;
}

test('path escapes, absolute names and links pointing outside are refused', () => {
  refused(rawTar('../evil', '0'), 'NV_IMAGE_FILES_INVALID', /escapes/);
  refused(rawTar('a/../../evil', '0'), 'NV_IMAGE_FILES_INVALID');
  refused(rawTar('/etc/passwd', '0'), 'NV_IMAGE_FILES_INVALID');
  refused(rawTar('a//b', '0'), 'NV_IMAGE_FILES_INVALID');
  refused(rawTar('a/l', '2', '../../x'), 'NV_IMAGE_FILES_INVALID', /outside/);
  refused(rawTar('l', '2', '/a/../..'), 'NV_IMAGE_FILES_INVALID');
  assert.equal(readTar(rawTar('a/l', '2', '../x'))[0]?.target, '../x');
});

test('hard links, devices and fifos are refused; corruption is NV_IMAGE_MALFORMED', () => {
  for (const type of ['1', '3', '4', '6', '7', 'g']) refused(rawTar('x', type), 'NV_IMAGE_FILES_INVALID', /only files, directories and symlinks/);
  const good = writeTar([{ path: 'f', kind: 'file', mode: 0o644, data: enc.encode('x'.repeat(600)) }]);
  const flipped = good.slice();
  flipped[0] = 0x67;
  refused(flipped, 'NV_IMAGE_MALFORMED', /checksum/);
  for (const n of [0, 100, 512, 1024, good.length - 512]) refused(good.subarray(0, n), 'NV_IMAGE_MALFORMED');
  assert.throws(() => writeTar([{ path: 'a', kind: 'file', mode: 0 }, { path: 'a', kind: 'dir', mode: 0 }]), /duplicate/);
  assert.throws(() => writeTar([{ path: '../a', kind: 'file', mode: 0 }]), (e) => isNanovisorError(e, 'NV_IMAGE_FILES_INVALID'));
});
