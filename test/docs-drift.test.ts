// Docs that drifted from the code (issue 11), each pinned at its cause: links and page names
// that lead nowhere, manifest fields the manifest page calls reserved or leaves out, the
// CLI's default addresses, and `nanovisor token` finding its token as the remote commands do.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { DEFAULT_GATEWAY_PORT, DEFAULT_SERVER } from '../src/cli/client.ts';
import { DEFAULT_API, DEFAULT_LISTEN } from '../src/cli/commands/serve.ts';
import { runCli } from '../src/cli/main.ts';
import { ManifestSchema } from '../src/image/manifest.ts';
import { tempDir, writeTree } from '../src/image/testing.ts';
import { root } from './helpers.ts';

const PAGES = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

function anchors(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) => slug(m[1]!)));
}

test('every relative link and every page named in README.md and docs/ exists, anchors included', () => {
  const broken: string[] = [];
  for (const page of PAGES) {
    const text = readFileSync(join(root, page), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1]!;
      if (/^[a-z]+:/.test(target)) continue;
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const file = path === '' ? join(root, page) : resolve(dirname(join(root, page)), path);
      if (!existsSync(file)) broken.push(`${page}: link to ${target}: no such file`);
      else if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor)) broken.push(`${page}: link to ${target}: no such heading`);
    }
    // A page named in backticks (`boot.md`) is one of ours: docs/ or the repository root.
    for (const m of text.matchAll(/`([A-Za-z0-9_-]+\.md)`/g)) {
      const name = m[1]!;
      if (!existsSync(join(root, 'docs', name)) && !existsSync(join(root, name))) broken.push(`${page}: names ${name}, which is not a page here`);
    }
  }
  assert.deepEqual(broken, []);
});

test('docs/manifest.md has a row for every manifest field, and calls none of them reserved', () => {
  const text = readFileSync(join(root, 'docs', 'manifest.md'), 'utf8');
  const fields = text.slice(text.indexOf('## Fields'), text.indexOf('### `files`'));
  for (const key of Object.keys(ManifestSchema.shape)) {
    const row = fields.split('\n').find((l) => l.startsWith(`| \`${key}\` |`));
    assert.ok(row !== undefined, `manifest.md's Fields table has no row for "${key}"`);
    assert.doesNotMatch(row, /reserved/i, `manifest.md calls "${key}" reserved, but the schema accepts it`);
  }
  assert.match(text, /\[boot\.md\]\(boot\.md#at-build-time-the-snapshot-layer\)/, 'snapshot points at its page');
});

test('docs/cli.md gives the defaults the code uses', () => {
  const text = readFileSync(join(root, 'docs', 'cli.md'), 'utf8');
  assert.equal(DEFAULT_SERVER, `http://${DEFAULT_API}`, "the CLI's default server is serve's default --api");
  assert.equal(DEFAULT_LISTEN.split(':')[1], String(DEFAULT_GATEWAY_PORT), "the CLI's gateway port is serve's default --listen");
  assert.match(text, new RegExp(`\\| \`--server URL\` \\| \`NANOVISOR_SERVER\` \\| \`${DEFAULT_SERVER.replace(/\./g, '\\.')}\` \\(serve's default \`--api\`\\) \\|`));
  assert.match(text, new RegExp(`server's\\s+host on port ${DEFAULT_GATEWAY_PORT} \\(serve's default \`--listen\`\\)`));
});

test('nanovisor token prints the token the remote commands would send: --token, else NANOVISOR_TOKEN, else the token file', async () => {
  using tmp = tempDir('nv-token-');
  writeTree(tmp.path, { token: 'nvt_fromfile\n' });
  const token = async (args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runCli(['token', ...args], { stdout: (t) => (out += t), stderr: (t) => (err += t), cwd: tmp.path, env: { NANOVISOR_HOME: tmp.path, ...env } });
    return { code, out, err };
  };
  assert.equal((await token([], {})).out, 'nvt_fromfile\n');
  assert.equal((await token([], { NANOVISOR_TOKEN: 'nvt_fromenv' })).out, 'nvt_fromenv\n');
  assert.equal((await token(['--token', 'nvt_fromflag'], { NANOVISOR_TOKEN: 'nvt_fromenv' })).out, 'nvt_fromflag\n');
  const none = await token([], { NANOVISOR_HOME: join(tmp.path, 'nowhere') });
  assert.equal(none.code, 1);
  assert.match(none.err, /NV_FILE_NOT_FOUND: no token file at /);
});
