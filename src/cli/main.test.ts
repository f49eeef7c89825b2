// The CLI's dispatch: a typo'd verb is a usage error that names the nearest verb, while a
// file or an image of that name still runs (`run` is the default verb).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImageStore, buildImage, storeHome } from '../image/index.ts';
import { compileC, tempDir, writeTree } from '../image/testing.ts';
import { editDistance, nearestVerb, runCli } from './main.ts';

async function cli(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(argv, { stdout: () => {}, stderr: (t) => (stderr += t), cwd, env });
  return { code, stderr };
}

test('nearestVerb: transpositions and one-letter slips of verbs; ordinary names are not verbs', () => {
  assert.equal(editDistance('bulid', 'build'), 1);
  assert.equal(nearestVerb('bulid'), 'build');
  assert.equal(nearestVerb('deplyo'), 'deploy');
  assert.equal(nearestVerb('serv'), 'serve');
  assert.equal(nearestVerb('Imag'), 'image');
  assert.equal(nearestVerb('rollbak'), 'rollback');
  assert.equal(nearestVerb('hello'), undefined);
  assert.equal(nearestVerb('greeter'), undefined);
  assert.equal(nearestVerb('cgi-echo'), undefined);
});

test('a typo\'d verb exits 2 naming the nearest verb and its --help, instead of being run as an image', async () => {
  using dir = tempDir('nv-cli-typo-');
  const env = { NANOVISOR_HOME: join(dir.path, 'home') };
  const r = await cli(['bulid', 'examples/hello-c'], dir.path, env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^nanovisor: error NV_USAGE: unknown command "bulid"; did you mean "build"\? \(nanovisor build --help\)\n/);
  assert.doesNotMatch(r.stderr, /NV_IMAGE/);
  // A file of that name is what the user meant: it goes to `run` (and fails there as a module).
  writeFileSync(join(dir.path, 'bulid'), 'not wasm');
  const asFile = await cli(['bulid'], dir.path, env);
  assert.doesNotMatch(asFile.stderr, /did you mean/);
  // So is an image of that name in the store: it runs.
  writeTree(join(dir.path, 'app'), { 'app.wasm': compileC('int main(void) { return 0; }'), 'nanovisor.json': JSON.stringify({ name: 'serv', module: 'app.wasm' }) });
  buildImage({ dir: join(dir.path, 'app'), store: ImageStore.openHome(storeHome(undefined, env)) });
  const asImage = await cli(['serv'], dir.path, env);
  assert.equal(asImage.code, 0, asImage.stderr);
  assert.equal((await cli(['serf'], dir.path, env)).code, 2, 'a typo of serve with no image of its name');
  // A word near no verb is still taken as an image name.
  assert.doesNotMatch((await cli(['zzzzzz'], dir.path, env)).stderr, /did you mean/);
});

test('a typo\'d flag names the nearest flag of that command, and the hint names the command\'s own --help', async () => {
  using dir = tempDir('nv-cli-flag-typo-');
  const env = { NANOVISOR_HOME: join(dir.path, 'home') };
  const build = await cli(['build', '--tga', 'x:1', '.'], dir.path, env);
  assert.equal(build.code, 2);
  assert.equal(build.stderr, 'nanovisor: error NV_USAGE: build: unknown flag --tga; did you mean --tag?\n  Run `nanovisor build --help` for its usage and flags.\n');
  const run = await cli(['run', '--evn', 'K=V', 'app.wasm'], dir.path, env);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /^nanovisor: error NV_USAGE: run: unknown flag --evn; did you mean --env\?\n  Run `nanovisor run --help` for its usage and flags\.\n$/);
  const deploy = await cli(['deploy', '--rotue=/x', 'app'], dir.path, env);
  assert.match(deploy.stderr, /deploy: unknown flag --rotue; did you mean --route\?\n  Run `nanovisor deploy --help`/);
  // Nothing near: no guess, but still the command's own help.
  const far = await cli(['image', '--zzzzzz'], dir.path, env);
  assert.equal(far.stderr, 'nanovisor: error NV_USAGE: image: unknown flag --zzzzzz\n  Run `nanovisor image --help` for its usage and flags.\n');
  // Other usage errors of a command point at its help too.
  const extra = await cli(['build', 'a', 'b'], dir.path, env);
  assert.match(extra.stderr, /\n  Run `nanovisor build --help` for its usage and flags\.\n$/);
  // Global flags before any verb.
  const global = await cli(['--verison'], dir.path, env);
  assert.equal(global.code, 2);
  assert.match(global.stderr, /^nanovisor: error NV_USAGE: unknown flag --verison; did you mean --version\?\n/);
});
