/**
 * Shared helpers for host tests that run guest programs: where the built guests live, fresh
 * scratch directories, and `runGuest`, which boots build/guests/<lang>/<name>.wasm through the
 * kernel's runner with a scratch preopen named by argv[1] (the convention of the C test
 * programs in test/guests/c).
 *
 * @example
 * const r = await runGuest('c', 'fd_read', { scratch: true, stdin: 'ping\n' });
 * assertPassed(r);
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareModule, runWasm, type Mount, type PreparedModule, type RunResult, type VmOptions } from '../src/host/index.ts';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const buildDir = join(root, 'build');

export type GuestLang = 'c' | 'cpp' | 'rust' | 'as' | 'wat' | 'component';

/** Path of a built guest test program. */
export function guestWasm(lang: GuestLang, name: string): string {
  return join(buildDir, 'guests', lang, `${name}.wasm`);
}

/** Path of a built example app's folder (module, manifest and files side by side). */
export function exampleDir(app: string): string {
  return join(buildDir, 'examples', app);
}

const bytesCache = new Map<string, Uint8Array>();

/** Bytes of a built wasm file; a missing file is a clear error pointing at `npm run guests`. */
export function loadWasm(file: string): Uint8Array {
  let bytes = bytesCache.get(file);
  if (bytes === undefined) {
    if (!existsSync(file)) throw new Error(`${file} is not built: run npm run guests`);
    bytes = new Uint8Array(readFileSync(file));
    bytesCache.set(file, bytes);
  }
  return bytes;
}

const preparedCache = new Map<string, PreparedModule>();

/** A compiled module, cached per file and memory limit so repeated runs skip compilation. */
export function prepared(file: string, memoryLimitBytes?: number): PreparedModule {
  const key = `${file}\0${memoryLimitBytes ?? ''}`;
  let p = preparedCache.get(key);
  if (p === undefined) {
    p = prepareModule(loadWasm(file), memoryLimitBytes);
    preparedCache.set(key, p);
  }
  return p;
}

const scratchDirs: string[] = [];
process.on('exit', () => {
  for (const d of scratchDirs) rmSync(d, { recursive: true, force: true });
});

/** A new empty host directory, removed when the test process exits. */
export function makeScratch(prefix = 'nv-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(d);
  return d;
}

export interface RunGuestOptions extends Omit<VmOptions, 'args' | 'mounts'> {
  /** Arguments after argv[0] (and after the scratch name when there is one). */
  args?: readonly string[];
  /** argv[0]; default: the program's name. */
  argv0?: string;
  /**
   * Mount a fresh writable scratch directory and pass its guest name as argv[1]. `true` uses the
   * guest name `scratch`; a string chooses the guest name (relative or absolute).
   */
  scratch?: boolean | string;
  /** Use this host directory as the scratch directory instead of a fresh one. */
  scratchHostPath?: string;
  /** Further mounts. */
  mounts?: readonly Mount[];
}

export interface GuestRun extends RunResult {
  /** stdout as text. */
  out: string;
  /** stderr as text. */
  err: string;
  /** Host path of the scratch directory, when one was mounted. */
  scratchHost?: string;
}

const decoder = new TextDecoder();

/** Runs a wasm file with the kernel's runner; defaults: 10 s time limit, no env, empty stdin. */
export async function runFile(file: string, name: string, opts: RunGuestOptions = {}): Promise<GuestRun> {
  const { args = [], argv0 = name, scratch, scratchHostPath, mounts = [], ...vm } = opts;
  const guestName = scratch === true ? 'scratch' : typeof scratch === 'string' ? scratch : undefined;
  const scratchHost = guestName === undefined ? undefined : (scratchHostPath ?? makeScratch());
  const allMounts: Mount[] = [...mounts];
  if (guestName !== undefined && scratchHost !== undefined) allMounts.unshift({ hostPath: scratchHost, guestPath: guestName, readonly: false });
  const r = await runWasm(prepared(file, vm.memoryLimitBytes), {
    timeoutMs: 10_000,
    ...vm,
    args: [argv0, ...(guestName === undefined ? [] : [guestName]), ...args],
    mounts: allMounts,
  });
  return { ...r, out: decoder.decode(r.stdout), err: decoder.decode(r.stderr), ...(scratchHost === undefined ? {} : { scratchHost }) };
}

/** Runs build/guests/<lang>/<name>.wasm. */
export function runGuest(lang: GuestLang, name: string, opts: RunGuestOptions = {}): Promise<GuestRun> {
  return runFile(guestWasm(lang, name), name, opts);
}

/** Explains a run in an assertion message: outcome, exit code, the failing line and output tails. */
export function describeRun(r: GuestRun): string {
  const tail = (s: string): string => (s.length > 2000 ? `...${s.slice(-2000)}` : s);
  return `outcome=${r.outcome} exit=${r.exitCode}${r.error ? ` ${r.error.code}: ${r.error.message}` : ''}\n--- stderr\n${tail(r.err)}\n--- stdout\n${tail(r.out)}`;
}

/** Asserts a guest test program ran to the end and reported PASS. */
export function assertPassed(r: GuestRun): void {
  assert.equal(r.outcome, 'exit', describeRun(r));
  assert.equal(r.exitCode, 0, describeRun(r));
  assert.match(r.out, /^PASS /m, describeRun(r));
}

/** Runs a C test program with a scratch directory and asserts it passed. */
export async function passes(name: string, opts: RunGuestOptions = {}): Promise<GuestRun> {
  const r = await runGuest('c', name, { scratch: true, ...opts });
  assertPassed(r);
  return r;
}
