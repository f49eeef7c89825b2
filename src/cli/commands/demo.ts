/**
 * `nanovisor demo`: the main job on an embedded default. Builds the bundled example apps
 * from source, seals each into an image in the store, and boots them as Nano-VMs: hello
 * worlds in four languages, argument/env echo, a file tool on a mounted directory, a CGI
 * request, and a burst of fresh VMs to show the boot time.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NanoVm, type RunResult, type VmOptions } from '../../host/index.ts';
import { ImageStore, buildImage, loadRunnable, storeHome } from '../../image/index.ts';
import { NanovisorError } from '../../shared/errors.ts';
import type { CliIo, Command } from '../command.ts';
import { flagString, parseFlags } from '../flags.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const text = (b: Uint8Array) => new TextDecoder().decode(b);

/** The built example apps (`build/examples/<app>`). */
function builtExamples(): string[] {
  const dir = join(root, 'build', 'examples');
  return existsSync(dir) ? readdirSync(dir).filter((d) => existsSync(join(dir, d, 'nanovisor.json'))).sort() : [];
}

function buildExamples(io: CliIo): string[] {
  // Installed as a dependency, the package ships its examples built (package.json "files"):
  // Node refuses to strip the types of scripts/*.ts under node_modules, and the package's
  // directory is not the user's to write into.
  if (root.split(/[\\/]/).includes('node_modules')) {
    const built = builtExamples();
    if (built.length > 0) {
      io.stderr('using the example apps built into the installed package\n');
      return built;
    }
    throw new NanovisorError('NV_FILE_NOT_FOUND', 'this installed package carries no built example apps (build/examples); run `nanovisor demo` from a checkout of nanovisor');
  }
  const script = join(root, 'scripts', 'build-guests.ts');
  if (!existsSync(script)) throw new NanovisorError('NV_FILE_NOT_FOUND', `the example build script is missing: ${script}`);
  io.stderr('building the example apps from source (C, C++, Rust, AssemblyScript)...\n');
  const r = spawnSync(process.execPath, [script, 'examples/'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    const why = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0] ?? '';
    throw new NanovisorError('NV_USAGE', `could not build the examples (${why}); install the guest toolchains with \`bash scripts/install.sh\``);
  }
  return builtExamples();
}

function show(io: CliIo, title: string, r: RunResult): void {
  io.stdout(`\n$ ${title}\n`);
  const out = text(r.stdout);
  io.stdout(out.endsWith('\n') || out === '' ? out : `${out}\n`);
  const err = text(r.stderr);
  if (err !== '') io.stdout(err.replace(/^/gm, '  stderr: ').replace(/  stderr: $/, ''));
  io.stdout(`  -> exit ${r.exitCode} in ${r.durationMs.toFixed(2)} ms${r.error === undefined ? '' : ` (${r.error.code})`}\n`);
}

export const demoCommand: Command = {
  name: 'demo',
  usage: `Usage: nanovisor demo [--store DIR]

Builds the example apps in examples/ from source, seals each into an image in the store
(default $NANOVISOR_HOME or ~/.nanovisor), then boots them as Nano-VMs and prints what
they did and how long each took.`,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, [{ name: 'store', type: 'string' }], 'demo');
    const apps = buildExamples(io);
    if (apps.length === 0) throw new NanovisorError('NV_FILE_NOT_FOUND', 'no example apps were built (examples/ is empty)');
    const store = ImageStore.openHome(storeHome(flagString(p, 'store'), io.env, io.cwd));
    io.stdout('Sealed images:\n');
    for (const app of apps) {
      const b = buildImage({ dir: join(root, 'build', 'examples', app), store });
      io.stdout(`  ${b.tag.padEnd(22)} ${b.digest.slice(0, 19)}…  ${(b.size / 1024).toFixed(1)} KiB\n`);
    }
    const boot = (ref: string, extra: VmOptions = {}): RunResult => {
      const img = loadRunnable(store, ref);
      return NanoVm.create(img.prepared, {
        ...img.options, ...extra,
        args: [...(img.options.args ?? []), ...(extra.args ?? [])],
        env: { ...img.options.env, ...extra.env },
      }).run();
    };
    const has = (a: string) => apps.includes(a);
    for (const app of apps.filter((a) => a.startsWith('hello-'))) show(io, `nanovisor run ${app}`, boot(app));
    for (const app of apps.filter((a) => a.startsWith('echo-args-'))) {
      show(io, `nanovisor run ${app} --env GREETING=hi -- one two`, boot(app, { args: ['one', 'two'], env: { GREETING: 'hi' } }));
    }
    const fileTool = ['file-tool-c', 'file-tool-rust'].find(has);
    if (fileTool !== undefined) {
      const dir = mkdtempSync(join(tmpdir(), 'nanovisor-demo-'));
      try {
        writeFileSync(join(dir, 'in.txt'), 'nano-vms boot in microseconds\nand are thrown away\n');
        const r = boot(fileTool, { args: ['/data/in.txt', '/data/out.txt'], mounts: [{ hostPath: dir, guestPath: '/data', readonly: false }] });
        show(io, `nanovisor run ${fileTool} --dir ${dir}::/data -- /data/in.txt /data/out.txt`, r);
        if (existsSync(join(dir, 'out.txt'))) io.stdout(`  out.txt on the host: ${JSON.stringify(readFileSync(join(dir, 'out.txt'), 'utf8'))}\n`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    const cgi = ['cgi-echo-c', 'cgi-echo-rust'].find(has);
    if (cgi !== undefined) {
      const body = 'name=nanovisor';
      const env = {
        GATEWAY_INTERFACE: 'CGI/1.1', REQUEST_METHOD: 'POST', PATH_INFO: '/hello', QUERY_STRING: 'lang=en',
        CONTENT_LENGTH: String(body.length), CONTENT_TYPE: 'application/x-www-form-urlencoded', SERVER_PROTOCOL: 'HTTP/1.1',
      };
      show(io, `${cgi}: one CGI request (POST /hello?lang=en) in a fresh VM`, boot(cgi, { env, stdin: body }));
    }
    const hello = ['hello-c', ...apps.filter((a) => a.startsWith('hello-'))].find(has);
    if (hello !== undefined) {
      const img = loadRunnable(store, hello);
      const n = 2000;
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t = process.hrtime.bigint();
        NanoVm.create(img.prepared, { ...img.options, stdout: () => {} }).run();
        times.push(Number(process.hrtime.bigint() - t) / 1000);
      }
      times.sort((a, b) => a - b);
      io.stdout(`\nBooted ${n} fresh Nano-VMs of ${hello}, each to exit: median ${times[n >> 1]!.toFixed(1)} µs, p99 ${times[Math.floor(n * 0.99)]!.toFixed(1)} µs.\n`);
    }
    io.stdout('\nNext: `nanovisor image ls`, `nanovisor run hello-c`, `nanovisor help`.\n');
    return 0;
  },
};
