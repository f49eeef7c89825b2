// The shard jail on this machine, checked from the host side: a shard process has its own
// namespaces, NoNewPrivs, the seccomp filter, its rlimits, no network but loopback and an
// empty environment; a guest cannot mount a host directory outside the view unless the
// jail grants it. A native probe (test/support/syscall-probe.c, built with gcc) shows that
// denied system calls fail inside the jail and work without the filter, that a call
// through a foreign ABI kills the process, and that a jail as an unprivileged host user
// limits its processes. Fake bwraps and a pretend kernel without user namespaces show that
// a refused layer costs only itself and says why. Skipped where no sandbox can start
// (scripts/install.sh installs bubblewrap).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNanovisorError } from '../../shared/errors.ts';
import { wat } from '../../../test/support/wat.ts';
import { CLOSE_FDS, Jail, jailedPid, probeJail, type JailOptions } from './jail.ts';
import { seccompFilter } from './seccomp.ts';
import { Supervisor, type ShardExitEvent } from './index.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const probe = await probeJail();
const skip = probe.sandbox ? false : `no sandbox on this machine: ${probe.why['net-ns'] ?? ''}`;

/** Prints /d/secret.txt; exits 100 + errno when it cannot open it. */
const READ_SECRET = wat(`(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "secret.txt")
  (func (export "_start") (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 10) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))
    (if (local.get $e) (then (call $exit (i32.add (i32.const 100) (local.get $e)))))
    (i32.store (i32.const 300) (i32.const 1024))
    (i32.store (i32.const 304) (i32.const 1024))
    (drop (call $read (i32.load (i32.const 200)) (i32.const 300) (i32.const 1) (i32.const 400)))
    (i32.store (i32.const 304) (i32.load (i32.const 400)))
    (drop (call $write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 400)))))`);

function limit(pid: number, name: string): string {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith(name));
  assert.ok(line !== undefined, name);
  return line.slice(name.length).trim().split(/\s+/).slice(0, 2).join(' ');
}

test('a jailed shard has its own namespaces, NoNewPrivs, the filter, its rlimits, only loopback and an empty environment', { skip }, async () => {
  process.env['NANOVISOR_JAIL_TEST_SECRET'] = 'must-not-cross';
  const sup = await Supervisor.start({ shards: 1, jail: { limits: { openFiles: 777, processes: 333 } } });
  try {
    const layers = new Map(sup.jail.map((l) => [l.layer, l]));
    for (const l of ['user-ns', 'mount-ns', 'pid-ns', 'net-ns', 'ipc-ns', 'uts-ns', 'no-new-privs', 'filesystem', 'seccomp', 'limit-open-files'] as const) {
      assert.equal(layers.get(l)?.on, true, `${l}: ${layers.get(l)?.why ?? ''}`);
    }
    for (const l of sup.jail) if (!l.on) assert.ok((l.why ?? '').length > 0, `${l.layer} says why it is off`);

    const pid = jailedPid(sup.shards[0]!.pid!);
    assert.notEqual(pid, sup.shards[0]!.pid, 'the shard runs under bwrap');
    assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8'), /worker\.ts/);
    for (const ns of ['user', 'mnt', 'pid', 'net', 'ipc', 'uts']) {
      assert.notEqual(readlinkSync(`/proc/${pid}/ns/${ns}`), readlinkSync(`/proc/self/ns/${ns}`), `${ns} namespace`);
    }
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    assert.match(status, /^NoNewPrivs:\s+1$/m);
    assert.match(status, /^Seccomp:\s+2$/m, 'filter mode');
    assert.match(status, /^CapEff:\s+0+$/m, 'no capabilities');
    assert.match(status, /^CapBnd:\s+0+$/m, 'none to regain either');
    const hostUser = layers.get('host-user')!;
    if (hostUser.on) assert.doesNotMatch(status, /^Uid:\s+0\s/m, 'an unprivileged host user');
    else assert.match(hostUser.why ?? '', process.getuid?.() === 0 ? /cannot|loses/ : /./, 'as root, nobody is tried first');
    assert.equal(limit(pid, 'Max open files'), '777 777');
    assert.equal(limit(pid, 'Max processes'), '333 333');
    assert.equal(limit(pid, 'Max core file size'), '0 0');
    const ifaces = readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter(Boolean);
    assert.deepEqual(ifaces, ['lo']);
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((v) => v.split('=')[0]);
    assert.ok(!env.includes('NANOVISOR_JAIL_TEST_SECRET'), `environment: ${env.join(' ')}`);
    assert.ok(!env.includes('PATH'));

    // Still a shard: it serves.
    const key = await sup.load(wat(`(module (memory (export "memory") 1) (func (export "_start")))`));
    assert.equal((await sup.run(key)).outcome, 'exit');
  } finally {
    delete process.env['NANOVISOR_JAIL_TEST_SECRET'];
    await sup.close();
  }
});

test('a jailed Node killed inside its jail is reported by its signal, and the shard comes back', { skip }, async () => {
  const exits: ShardExitEvent[] = [];
  const onExit = (m: unknown) => exits.push(m as ShardExitEvent);
  subscribe('nanovisor:host:shard-exit', onExit);
  const sup = await Supervisor.start({ shards: 1 });
  try {
    const first = sup.shards[0]!.pid!;
    process.kill(jailedPid(first), 'SIGKILL');
    const end = Date.now() + 15_000;
    while (!(sup.shards[0]!.state === 'ready' && sup.shards[0]!.pid !== first)) {
      if (Date.now() > end) throw new Error('the shard did not come back');
      await new Promise((r) => setTimeout(r, 10));
    }
    const exit = exits.find((e) => e.pid === first);
    assert.equal(exit?.signal, 'SIGKILL');
    assert.equal(exit?.code, null);
    const key = await sup.load(wat(`(module (memory (export "memory") 1) (func (export "_start")))`));
    assert.equal((await sup.run(key)).outcome, 'exit');
  } finally {
    unsubscribe('nanovisor:host:shard-exit', onExit);
    await sup.close();
  }
});

test('descriptors the daemon inherited without close-on-exec do not reach its shards', { skip }, () => {
  // A daemon started by a shell that left a file open on fd 33 (not close-on-exec).
  const dir = mkdtempSync(join(tmpdir(), 'nv-jail-fd-'));
  const marker = join(dir, 'inherited');
  writeFileSync(marker, '');
  const index = new URL('./index.ts', import.meta.url).href;
  const script = `
    import { readdirSync, readlinkSync } from 'node:fs';
    import { Supervisor, jailedPid } from ${JSON.stringify(index)};
    const links = (pid) => readdirSync('/proc/' + pid + '/fd').map((fd) => { try { return readlinkSync('/proc/' + pid + '/fd/' + fd); } catch { return ''; } });
    const sup = await Supervisor.start({ shards: 1 });
    const pid = jailedPid(sup.shards[0].pid);
    console.log(JSON.stringify({ daemon: links('self'), shard: links(pid) }));
    await sup.close();`;
  try {
    const r = spawnSync('bash', ['-c', 'exec 33<"$1"; exec "$2" --input-type=module -e "$3"', 'bash', marker, process.execPath, script], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { daemon: string[]; shard: string[] };
    assert.ok(out.daemon.includes(marker), 'the daemon holds the file');
    assert.ok(!out.shard.includes(marker), `the shard does not: ${out.shard.join(' ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a guest cannot mount a host directory outside the view; granted through the jail, it can', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nv-jail-'));
  writeFileSync(join(dir, 'secret.txt'), 'the secret\n');
  const mounts = [{ hostPath: dir, guestPath: '/d' }];
  try {
    const plain = await Supervisor.start({ shards: 1, jail: false });
    try {
      const r = await plain.run(await plain.load(READ_SECRET), { mounts });
      assert.equal(new TextDecoder().decode(r.stdout), 'the secret\n', 'the guest reads it without a jail');
    } finally {
      await plain.close();
    }

    const jailed = await Supervisor.start({ shards: 1 });
    try {
      const key = await jailed.load(READ_SECRET);
      const r = await jailed.run(key, { mounts }).catch((e: unknown) => e);
      const error = r instanceof Error ? r : (r as { error?: Error }).error;
      assert.ok(isNanovisorError(error, 'NV_MOUNT_INVALID'), `the mount fails inside the jail: ${String(error)}`);
    } finally {
      await jailed.close();
    }

    const granted = await Supervisor.start({ shards: 1, jail: { readOnly: [dir] } });
    try {
      if (process.getuid?.() === 0) {
        const hostUser = granted.jail.find((l) => l.layer === 'host-user')!;
        assert.equal(hostUser.on, false, 'the grant is a 0700 directory of root: the shard stays root to read it');
        assert.match(hostUser.why ?? '', new RegExp(`uid 65534 cannot read ${dir}`));
      }
      const r = await granted.run(await granted.load(READ_SECRET), { mounts });
      assert.equal(r.outcome, 'exit', String(r.error));
      assert.equal(new TextDecoder().decode(r.stdout), 'the secret\n');
      // Read-only at the OS level too, whatever the guest's mount says.
      const w = await granted.run(await granted.load(WRITE_FILE), { mounts: [{ ...mounts[0]!, readonly: false }] });
      assert.equal(w.exitCode, 100 + 69, 'EROFS'); // WASI errno 69: ROFS
    } finally {
      await granted.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('granted directories keep their own mode, a writable one inside a read-only one too', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nv-jail-grants-'));
  const rw = join(dir, 'rw');
  mkdirSync(rw);
  try {
    const jail = await Jail.create({ readWrite: [rw], readOnly: [dir] }, WORKER);
    const write = (p: string) => `try { require("fs").writeFileSync(${JSON.stringify(p)}, "x"); console.log("ok"); } catch (e) { console.log(e.code); }`;
    const r = await inJailWith(jail, [process.execPath, '-e', `${write(join(rw, 'a'))}; ${write(join(dir, 'b'))}; ${write('/tmp/c')}; ${write('/d')}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['ok', 'EROFS', 'ok', 'EROFS'], 'rw grant, ro grant, private /tmp, the read-only root');
    assert.equal(readFileSync(join(rw, 'a'), 'utf8'), 'x');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Creates /d/new.txt; exits 100 + errno when it cannot. */
const WRITE_FILE = wat(`(module
  (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "new.txt")
  (func (export "_start") (local $e i32)
    (local.set $e (call $open (i32.const 3) (i32.const 0) (i32.const 100) (i32.const 7) (i32.const 1) (i64.const 64) (i64.const 0) (i32.const 0) (i32.const 200)))
    (call $exit (select (i32.add (i32.const 100) (local.get $e)) (i32.const 0) (local.get $e)))))`);

/** test/support/syscall-probe.c built into a directory the jails are granted; undefined without gcc. */
function buildProbe(): { dir: string; bin: string } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'nv-jail-probe-'));
  chmodSync(dir, 0o755);
  const bin = join(dir, 'probe');
  const src = fileURLToPath(new URL('../../../test/support/syscall-probe.c', import.meta.url));
  const r = spawnSync('gcc', ['-O1', '-o', bin, src], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return { dir, bin };
}

async function inJail(options: JailOptions, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return inJailWith(await Jail.create(options, WORKER), argv);
}

function results(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
}

const built = skip === false ? buildProbe() : undefined;
const noProbe = skip !== false ? skip : built === undefined ? 'gcc is not installed' : false;

test('denied system calls fail inside the jail and work without the filter', { skip: noProbe }, async () => {
  const { dir, bin } = built!;
  const filtered = await inJail({ readOnly: [dir] }, [bin, 'calls']);
  assert.equal(filtered.code, 0, filtered.stderr);
  const on = results(filtered.stdout);
  const off = results((await inJail({ readOnly: [dir], seccomp: false }, [bin, 'calls'])).stdout);
  assert.equal(on['getpid'], 'ok');
  assert.equal(on['fork'], 'ok', 'plain fork (clone without namespace flags) passes');
  for (const call of ['ptrace', 'personality', 'keyctl']) {
    assert.equal(off[call], 'ok', `${call} works in the jail without the filter`);
    assert.equal(on[call], 'EPERM', `${call} is denied by the filter`);
  }
  assert.equal(on['io_uring_setup'], 'ENOSYS');
  assert.notEqual(on['unshare'], 'ok');
  assert.notEqual(off['unshare'], 'ok', 'no new user namespaces inside (bwrap --disable-userns) even without the filter');
});

test('a system call through a foreign ABI kills the process', { skip: noProbe !== false ? noProbe : process.arch !== 'x64' ? 'x86-64 only' : false }, async () => {
  const { dir, bin } = built!;
  for (const abi of ['x32', 'i386']) {
    const r = await inJail({ readOnly: [dir] }, [bin, abi]);
    assert.ok(!r.stdout.includes('returned'), `${abi}: ${r.stdout}`);
    assert.equal(r.code, 128 + 31, `${abi}: killed by SIGSYS, reported by bwrap as 128 + 31`);
    const open = await inJail({ readOnly: [dir], seccomp: false }, [bin, abi]);
    assert.ok(open.stdout.includes('returned'), `${abi} without the filter: ${open.stderr}`);
  }
});

test('as an unprivileged host user, the jail caps its processes', { skip: noProbe !== false ? noProbe : process.getuid?.() !== 0 ? 'needs root to pick a user' : false }, async () => {
  const { dir, bin } = built!;
  // A uid of its own: RLIMIT_NPROC counts every task of the user on the host.
  const user = { uid: 60000 + (process.pid % 1000), gid: 60000 + (process.pid % 1000) };
  const jail = await Jail.create({ user, readOnly: [dir], limits: { processes: 8 } }, WORKER);
  const layers = new Map(jail.layers.map((l) => [l.layer, l.on]));
  assert.equal(layers.get('host-user'), true);
  assert.equal(layers.get('limit-processes'), true);
  const r = await inJail({ user, readOnly: [dir], limits: { processes: 8 } }, [bin, 'fork', '50']);
  assert.equal(r.code, 0, r.stderr);
  const forked = Number(/forked (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(forked < 8, `forked ${forked} children under a limit of 8 processes`);

  const sup = await Supervisor.start({ shards: 1, jail: { user } });
  try {
    const pid = jailedPid(sup.shards[0]!.pid!);
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), new RegExp(`^Uid:\\s+${user.uid}\\s+${user.uid}\\s+${user.uid}\\s+${user.uid}$`, 'm'));
    const key = await sup.load(wat(`(module (memory (export "memory") 1) (func (export "_start")))`));
    assert.equal((await sup.run(key)).outcome, 'exit');
  } finally {
    await sup.close();
  }
});

test('without bubblewrap, shards still start, with the layers that are left and why the others are off', async () => {
  const jail = await Jail.create({}, WORKER, { bwrap: '/nonexistent/bwrap' });
  const layers = new Map(jail.layers.map((l) => [l.layer, l]));
  assert.equal(layers.get('net-ns')?.on, false);
  assert.match(layers.get('net-ns')?.why ?? '', /bubblewrap/);
  assert.equal(layers.get('clean-env')?.on, true);
  const r = await inJailWith(jail, [process.execPath, '-e', 'console.log(Object.keys(process.env).join(","))']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split(',').filter((v) => v !== '' && v !== CLOSE_FDS), [], 'an empty environment (but the descriptors to close)');
});

async function inJailWith(jail: Jail, argv: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { file, args, options } = jail.command(argv);
  const child = spawn(file, args, options);
  jail.started(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
  return { code, stdout, stderr };
}

test('a bwrap that refuses the filter, or predates --disable-userns, costs only that layer', { skip: skip !== false ? skip : probe.bwrap === undefined ? 'no bwrap' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'nv-jail-fake-'));
  try {
    const noFilter = join(dir, 'bwrap-no-seccomp');
    writeFileSync(noFilter, `#!/bin/sh\nfor a in "$@"; do [ "$a" = --seccomp ] && { echo "bwrap: seccomp: not here" >&2; exit 1; }; done\nexec ${probe.bwrap} "$@"\n`, { mode: 0o755 });
    const old = join(dir, 'bwrap-0.6');
    writeFileSync(old, `#!/bin/sh\n[ "$1" = --help ] && { ${probe.bwrap} --help | grep -v -- --disable-userns; exit 0; }\nexec ${probe.bwrap} "$@"\n`, { mode: 0o755 });

    const a = await Jail.create({}, WORKER, { bwrap: noFilter });
    const la = new Map(a.layers.map((l) => [l.layer, l]));
    assert.equal(la.get('seccomp')?.on, false);
    assert.match(la.get('seccomp')?.why ?? '', /refused the filter: bwrap: seccomp: not here/);
    for (const l of ['user-ns', 'net-ns', 'filesystem', 'no-capabilities'] as const) assert.equal(la.get(l)?.on, true, l);
    const ra = await inJailWith(a, [process.execPath, '-e', 'console.log(require("fs").readFileSync("/proc/self/status", "utf8"))']);
    assert.match(ra.stdout, /^Seccomp:\s+0$/m);
    assert.match(ra.stdout, /^NoNewPrivs:\s+1$/m);

    const b = await Jail.create({}, WORKER, { bwrap: old });
    const lb = new Map(b.layers.map((l) => [l.layer, l]));
    for (const l of ['user-ns', 'seccomp', 'no-capabilities'] as const) assert.equal(lb.get(l)?.on, true, `${l}: the filter forbids new user namespaces instead`);
    const rb = await inJailWith(b, [process.execPath, '-e', '0']);
    assert.equal(rb.code, 0, rb.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('without user namespaces, the jail still has the other namespaces, no capabilities and the filter', { skip: skip !== false ? skip : process.getuid?.() !== 0 ? 'bwrap needs root without user namespaces' : false }, async () => {
  const jail = await Jail.create({}, WORKER, { noUserNs: true });
  const layers = new Map(jail.layers.map((l) => [l.layer, l]));
  assert.equal(layers.get('user-ns')?.on, false);
  assert.match(layers.get('user-ns')?.why ?? '', /no user namespace/);
  for (const l of ['net-ns', 'pid-ns', 'filesystem', 'seccomp', 'no-new-privs', 'no-capabilities'] as const) assert.equal(layers.get(l)?.on, true, l);
  const show = 'const fs = require("fs"); console.log(fs.readFileSync("/proc/self/status", "utf8")); console.log("net " + fs.readlinkSync("/proc/self/ns/net"))';
  const r = await inJailWith(jail, [process.execPath, '-e', show]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^CapEff:\s+0+$/m, 'bwrap as root keeps every capability unless told to drop them');
  assert.match(r.stdout, /^NoNewPrivs:\s+1$/m);
  assert.match(r.stdout, /^Seccomp:\s+2$/m);
  assert.notEqual(/^net (.*)$/m.exec(r.stdout)?.[1], readlinkSync('/proc/self/ns/net'), 'own network namespace');
});

test('the filter is 8 bytes per instruction and checks the architecture first', () => {
  const bpf = seccompFilter('x64')!;
  assert.equal(bpf.length % 8, 0);
  const view = new DataView(bpf.buffer);
  assert.equal(view.getUint16(0, true), 0x20, 'load');
  assert.equal(view.getUint32(4, true), 4, 'seccomp_data.arch');
  assert.equal(view.getUint32(12, true), 0xc000003e, 'AUDIT_ARCH_X86_64');
  assert.equal(seccompFilter('arm64')!.length % 8, 0);
  assert.equal(seccompFilter('riscv64'), undefined);
  assert.ok(bpf.length / 8 < 256, 'jumps fit in 8 bits');
});

test.after(() => {
  if (built !== undefined) rmSync(built.dir, { recursive: true, force: true });
});
