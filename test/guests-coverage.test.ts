// Keeps the guest test programs honest: every program under test/guests is run by some host
// test (its name appears in a test/**/*.test.ts file), every preview1 function has its own C
// test program, and every example app is exercised by a test. (As wasmtime's
// `foreach_p1!(assert_test_exists)`.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join, relative } from 'node:path';
import { test } from 'node:test';
import { PREVIEW1_FUNCTIONS } from '../src/kernel/abi.ts';
import { root } from './helpers.ts';

const PROGRAM_EXT = new Set(['.c', '.cpp', '.rs', '.ts', '.wat', '.wit', '.js']);

function walk(dir: string, skip: (path: string) => boolean = () => false): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (skip(p)) continue;
    if (e.isDirectory()) out.push(...walk(p, skip));
    else out.push(p);
  }
  return out;
}

const guestsDir = join(root, 'test', 'guests');
/** Guest programs: every source file with a main, i.e. not headers and not shared library code. */
const programs = walk(guestsDir, (p) => basename(p) === 'lib')
  .filter((f) => PROGRAM_EXT.has(extname(f)))
  .map((f) => ({ file: relative(root, f), name: basename(f, extname(f)) }));

const self = join(root, 'test', 'guests-coverage.test.ts');
const testText = walk(join(root, 'test'), (p) => p === guestsDir)
  .filter((f) => f.endsWith('.test.ts') && f !== self)
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

/** The name as a whole word: `fd_read` must not count as mentioned by `fd_readdir`. */
const mentioned = (name: string): boolean =>
  new RegExp(`(?<![A-Za-z0-9_-])${name.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}(?![A-Za-z0-9_-])`).test(testText);

test('there are guest programs to check', () => {
  assert.ok(programs.length >= PREVIEW1_FUNCTIONS.length, `found only ${programs.length} programs under test/guests`);
});

test('every guest program is run by a host test', () => {
  const missing = programs.filter((p) => !mentioned(p.name)).map((p) => p.file);
  assert.deepEqual(missing, [], `guest programs no test/**/*.test.ts names: ${missing.join(', ')}`);
});

test('every preview1 function has a C test program test/guests/c/<function>.c', () => {
  const missing = PREVIEW1_FUNCTIONS.filter((fn) => !existsSync(join(guestsDir, 'c', `${fn}.c`)));
  assert.deepEqual(missing, [], `preview1 functions without a test program: ${missing.join(', ')}`);
});

test('every example app is run by a test', () => {
  const examples = join(root, 'examples');
  const apps = existsSync(examples)
    ? readdirSync(examples, { withFileTypes: true }).filter((e) => e.isDirectory() && existsSync(join(examples, e.name, 'nanovisor.json'))).map((e) => e.name)
    : [];
  const missing = apps.filter((a) => !mentioned(a));
  assert.deepEqual(missing, [], `example apps no test names: ${missing.join(', ')}`);
});
