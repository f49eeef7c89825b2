// Docs are tested: every fenced block of README.md and docs/*.md is run here, or carries a
// marker with the reason it cannot be, so an example that stops working fails CI.
//
// The rules (stated here once):
// - Every fence has an info string. `text` is for what is not an example (synopses, layouts,
//   diagrams, sample output); everything else is an example.
// - A line `<!-- not-tested: REASON -->` just before a block skips it; the reason is required.
// - `sh` blocks run with bash (-e -u -o pipefail), in order, in one scratch directory per page,
//   with `nanovisor` on PATH and HOME set to the scratch directory (so ~/.nanovisor is the
//   page's own store and data dir), `build/` of this checkout linked in (the built guests and
//   examples), `hello.wasm` (the C hello world), `cgi-echo.wasm` (the C CGI example) and an
//   empty `data/` beside them; `curl` fails on an HTTP error. JavaScript apps build through
//   this checkout's cache of compiled components (`NANOVISOR_JS_CACHE=build/js-cache`, filled
//   by `npm run guests`, templates included). A block whose first command is
//   `nanovisor serve`, or marked `<!-- doc-test: daemon -->`, talks to a daemon this test
//   starts on free ports for that page (127.0.0.1:7070 and :8080 in the block are rewritten to
//   them; the bundled examples are deployed as on a first start).
// - `ts` blocks are written next to package.json (so `from 'nanovisor'` and `./src/...`
//   resolve as the docs say) and run with this Node, in the page's scratch directory.
// - `json` blocks marked `<!-- doc-test: manifest -->` must pass the manifest schema.
// - Any other block (another language, or json without a marker) must be marked.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseManifestText } from '../src/image/index.ts';
import { buildDir, root } from './helpers.ts';

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  info: string;
  text: string;
  /** `not-tested` with its reason, `doc-test` with its kind, or none. */
  marker?: { kind: 'not-tested' | 'doc-test'; value: string };
}

/** The fenced blocks of a markdown text, with the marker comment just before each. */
export function docBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const out: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,})(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const fence = open[2]!;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !new RegExp(`^\\s*${fence}\\s*$`).test(lines[j]!); j++) body.push(lines[j]!.slice(open[1]!.length));
    let k = i - 1;
    while (k >= 0 && lines[k]!.trim() === '') k--;
    const m = k >= 0 ? /^\s*<!--\s*(not-tested|doc-test):\s*(.*?)\s*-->\s*$/.exec(lines[k]!) : null;
    out.push({ file, line: i + 1, info: open[3]!.trim(), text: body.join('\n'), ...(m === null ? {} : { marker: { kind: m[1] as 'not-tested' | 'doc-test', value: m[2]! } }) });
    i = j;
  }
  return out;
}

const PAGES = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];

const scratch = mkdtempSync(join(tmpdir(), 'nv-docs-'));
const bin = join(scratch, 'bin');
mkdirSync(bin);
writeFileSync(join(bin, 'nanovisor'), `#!/bin/sh\nexec "${process.execPath}" "${join(root, 'bin', 'nanovisor.js')}" "$@"\n`, { mode: 0o755 });
const daemons: ChildProcess[] = [];
after(async () => {
  for (const d of daemons) {
    if (d.exitCode === null && d.signalCode === null) {
      d.kill('SIGKILL');
      await new Promise((r) => d.once('exit', r));
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

function pageDir(page: string): string {
  const dir = join(scratch, page.replace(/[/.]/g, '_'));
  mkdirSync(dir, { recursive: true });
  try {
    symlinkSync(buildDir, join(dir, 'build'));
    copyFileSync(join(buildDir, 'guests', 'c', 'hello.wasm'), join(dir, 'hello.wasm'));
    copyFileSync(join(buildDir, 'examples', 'cgi-echo-c', 'cgi-echo-c.wasm'), join(dir, 'cgi-echo.wasm'));
    mkdirSync(join(dir, 'data'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  return dir;
}

const PRELUDE = 'set -euo pipefail\ncurl() { command curl -fsS --max-time 60 "$@"; }\n';

interface Daemon { api: string; gateway: string }

async function startDaemon(home: string): Promise<Daemon> {
  const d = spawn(process.execPath, [join(root, 'bin', 'nanovisor.js'), 'serve', '--data', home, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--grace', '2s'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NANOVISOR_HOME: home },
  });
  daemons.push(d);
  let out = '';
  let err = '';
  d.stderr!.setEncoding('utf8').on('data', (t: string) => (err += t));
  return new Promise((resolve, reject) => {
    d.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
    d.stdout!.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      const api = /api:\s+(http:\/\/\S+)/.exec(out);
      const gw = /gateway:\s+(http:\/\/\S+)/.exec(out);
      if (api && gw) resolve({ api: api[1]!, gateway: gw[1]! });
    });
  });
}

function where(b: DocBlock): string {
  return `${b.file}:${b.line}`;
}

function runSh(b: DocBlock, cwd: string, env: NodeJS.ProcessEnv, script: string): void {
  const r = spawnSync('bash', ['-c', PRELUDE + script], { cwd, env, encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `${where(b)}: the sh example failed (exit ${r.status}):\n${script}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
}

for (const page of PAGES) {
  const blocks = docBlocks(page, readFileSync(join(root, page), 'utf8'));
  if (blocks.length === 0) continue;
  test(`${page}: every example runs, or says why it cannot`, async () => {
    const cwd = pageDir(page);
    const home = join(cwd, '.nanovisor');
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}`, HOME: cwd, NANOVISOR_JS_CACHE: join(buildDir, 'js-cache') };
    delete env['NANOVISOR_HOME'];
    delete env['NANOVISOR_SERVER'];
    delete env['NANOVISOR_GATEWAY'];
    delete env['NANOVISOR_TOKEN'];
    let daemon: Daemon | undefined;
    const failures: string[] = [];
    for (const b of blocks) {
      try {
        await check(b);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
    assert.equal(failures.length, 0, failures.join('\n\n'));

    async function check(b: DocBlock): Promise<void> {
      assert.notEqual(b.info, '', `${where(b)}: a fence needs a language (sh, ts, json; text for synopses, layouts and output)`);
      if (b.marker?.kind === 'not-tested') {
        assert.ok(b.marker.value.length >= 10, `${where(b)}: not-tested needs its reason`);
        return;
      }
      if (b.info === 'text') {
        assert.equal(b.marker, undefined, `${where(b)}: a text block is not run; drop its marker`);
        return;
      }
      if (b.info === 'sh') {
        let script = b.text;
        if (/^nanovisor serve\b/.test(script.trimStart()) || (b.marker?.kind === 'doc-test' && b.marker.value === 'daemon')) {
          daemon ??= await startDaemon(home);
          const api = new URL(daemon.api).host;
          const gw = new URL(daemon.gateway).host;
          script = script.replace(/^\s*nanovisor serve\b.*$/m, '')
            .replaceAll('127.0.0.1:7070', api).replaceAll('localhost:7070', api)
            .replaceAll('127.0.0.1:8080', gw).replaceAll('localhost:8080', gw);
          runSh(b, cwd, { ...env, NANOVISOR_SERVER: daemon.api, NANOVISOR_GATEWAY: daemon.gateway }, script);
        } else {
          runSh(b, cwd, env, script);
        }
        return;
      }
      if (b.info === 'ts') {
        const file = join(root, `.docs-example-${process.pid}-${b.line}.ts`);
        writeFileSync(file, b.text);
        try {
          const r = spawnSync(process.execPath, ['--no-warnings', file], { cwd, env, encoding: 'utf8', timeout: 120_000 });
          assert.equal(r.status, 0, `${where(b)}: the ts example failed (exit ${r.status}):\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        } finally {
          rmSync(file, { force: true });
        }
        return;
      }
      if (b.info === 'json' && b.marker?.kind === 'doc-test' && b.marker.value === 'manifest') {
        parseManifestText(b.text, where(b));
        return;
      }
      if (b.marker?.kind === 'doc-test') assert.fail(`${where(b)}: unknown doc-test "${b.marker.value}" for a ${b.info} block (sh: daemon; json: manifest)`);
      assert.fail(`${where(b)}: a \`${b.info}\` block is not run by this test; run it (sh, ts, or json with <!-- doc-test: manifest -->) or mark it <!-- not-tested: why -->`);
    }
  });
}

test('docBlocks: fences, info strings and the marker just before a block', () => {
  const md = 'x\n\n<!-- not-tested: needs a terminal -->\n\n```sh\nnanovisor run\n```\n```text\na\n```\n<!-- doc-test: manifest -->\n```json\n{}\n```\n';
  const b = docBlocks('t.md', md);
  assert.deepEqual(b.map((x) => [x.line, x.info, x.text, x.marker?.kind, x.marker?.value]), [
    [5, 'sh', 'nanovisor run', 'not-tested', 'needs a terminal'],
    [8, 'text', 'a', undefined, undefined],
    [12, 'json', '{}', 'doc-test', 'manifest'],
  ]);
});
