// End to end: the real daemon (`nanovisor serve` in a child process, free ports, a throw-away
// data directory) driven by the CLI: deploy an app directory, call it through the gateway
// with a real HTTP client, deploy a second version, versions, rollback, logs (with the guest's
// stderr, secrets redacted) and logs -f, metrics, rm, token rotation, clean shutdown.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient, resolveClientConfig } from '../src/cli/client.ts';
import { runCli } from '../src/cli/main.ts';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';
import { startServeProcess, type ServeProcess } from './support/serve-process.ts';

const SECRET = 'sk-live-0123456789abcdef';

// A CGI guest that answers with its MARK and, on stderr, prints its secret (which the request
// log must redact).
const GUEST = `#include <stdio.h>
#include <stdlib.h>
int main(void) {
  const char *mark = getenv("MARK");
  const char *key = getenv("API_KEY");
  fprintf(stderr, "serving %s with key %s\\n", mark ? mark : "none", key ? key : "none");
  printf("Content-Type: text/plain\\n\\nmark=%s\\n", mark ? mark : "none");
  return 0;
}
`;

let tmp: { path: string } & Disposable;
let serve: ServeProcess;
let apiUrl = '';
let gatewayUrl = '';
let data = '';

before(async () => {
  tmp = tempDir('nv-cli-e2e-');
  data = join(tmp.path, 'data');
  const wasm = compileC(GUEST);
  for (const mark of ['v1', 'v2']) {
    writeTree(join(tmp.path, `app-${mark}`), {
      'mark.wasm': wasm,
      'nanovisor.json': JSON.stringify({ name: 'mark', version: mark, module: 'mark.wasm', env: { MARK: mark } }),
    });
  }
  serve = await startServeProcess(data);
  apiUrl = serve.apiUrl;
  gatewayUrl = serve.gatewayUrl;
});

after(async () => {
  await serve.stop();
  tmp[Symbol.dispose]();
});

interface Out { code: number; stdout: string; stderr: string }

async function nv(...args: string[]): Promise<Out> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: tmp.path,
    env: { NANOVISOR_HOME: data, NANOVISOR_SERVER: apiUrl, NANOVISOR_GATEWAY: gatewayUrl },
  });
  return { code, stdout, stderr };
}

function ok(r: Out): string {
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

async function call(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gatewayUrl}${path}`);
  return { status: res.status, text: await res.text() };
}

test('deploy, call, redeploy, versions, rollback, logs, logs -f, metrics, rm, token rotation against nanovisor serve', async () => {
  // Deploy a directory: built by the daemon, app created, version 1 serving.
  const first = ok(await nv('deploy', 'app-v1', '--name', 'mark', '--route', '/mark', '--secret', `API_KEY=${SECRET}`));
  assert.match(first, new RegExp(`^deployed mark version 1 \\([0-9a-f]{12}\\)\\n  call it: curl ${gatewayUrl}/mark\\n$`));
  assert.deepEqual(await call('/mark'), { status: 200, text: 'mark=v1\n' });

  // A second version.
  assert.match(ok(await nv('deploy', 'app-v2', '--name', 'mark')), /^deployed mark version 2 /);
  assert.deepEqual(await call('/mark/x'), { status: 200, text: 'mark=v2\n' });

  const apps = ok(await nv('apps'));
  assert.match(apps, /^mark\s+2\s+\/mark\s+[0-9a-f]{12}$/m);
  const detail = ok(await nv('app', 'mark'));
  assert.match(detail, /^secrets:  API_KEY \(values are never shown\)$/m);
  assert.ok(!detail.includes(SECRET));
  assert.ok(!ok(await nv('app', 'mark', '--json')).includes(SECRET));

  const versions = ok(await nv('versions', 'mark')).split('\n');
  assert.match(versions[1]!, /^\* 2\s+[0-9a-f]{12}\s+mark:v2\s/);
  assert.match(versions[2]!, /^ {2}1\s+[0-9a-f]{12}\s+mark:v1\s/);

  // Roll back: version 1 serves again.
  assert.match(ok(await nv('rollback', 'mark')), /^mark is serving version 1 /);
  assert.deepEqual(await call('/mark'), { status: 200, text: 'mark=v1\n' });
  assert.match(ok(await nv('rollback', 'mark', '--to', '2')), /^mark is serving version 2 /);
  assert.match(ok(await nv('rollback', 'mark', '--to', '1')), /^mark is serving version 1 /);

  // Logs: one entry per request, the guest's stderr kept with its request id, the secret redacted.
  const entries = ok(await nv('logs', 'mark', '--json')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(entries.length, 3);
  assert.deepEqual(entries.map((e) => e['seq']), [1, 2, 3]);
  assert.equal(entries[0]!['stderr'], 'serving v1 with key [redacted]\n');
  assert.equal(entries[1]!['stderr'], 'serving v2 with key [redacted]\n');
  assert.match(String(entries[0]!['requestId']), /^[0-9a-f]+-[0-9a-z]+$/);
  const human = ok(await nv('logs', 'mark', '--since', '2'));
  assert.match(human, /^\S+Z {2}\S+ {2}200 +\S+ {2}GET \/mark\n {4}\| serving v1 with key \[redacted\]\n$/);

  // logs -f: a request made while following shows up.
  const api = new ApiClient(resolveClientConfig({ server: apiUrl }, { NANOVISOR_HOME: data }, tmp.path));
  const ac = new AbortController();
  const followed: Record<string, unknown>[] = [];
  const following = (async () => {
    for await (const e of api.logs('mark', { since: 3, follow: true, signal: ac.signal })) {
      followed.push(e as unknown as Record<string, unknown>);
      if (followed.length === 1) ac.abort();
    }
  })();
  await new Promise((r) => setTimeout(r, 100));
  const live = await fetch(`${gatewayUrl}/mark/live`);
  await live.text();
  await following.catch((e: unknown) => {
    if ((e as Error).name !== 'AbortError') throw e;
  });
  assert.equal(followed.length, 1);
  assert.equal(followed[0]!['seq'], 4);
  assert.equal(followed[0]!['requestId'], live.headers.get('x-request-id'), 'the request id the client saw');

  // Metrics count what happened.
  const metrics = await api.metrics();
  assert.match(metrics, /^nanovisor_requests_total\{app="mark",status="200"\} 4$/m);
  assert.match(metrics, /^nanovisor_deploys_total\{app="mark"\} [45]$/m);
  assert.match(metrics, /^nanovisor_vms_live 0$/m, 'no request in flight while scraping');
  assert.match(metrics, /^nanovisor_pool_idle_instances [1-9]\d*$/m, 'served apps keep reset instances');
  assert.match(metrics, /^# TYPE nanovisor_request_duration_seconds histogram$/m);

  // rm: the route stops serving.
  assert.equal(ok(await nv('rm', 'mark')), 'removed mark\n');
  assert.equal((await call('/mark')).status, 404);
  const gone = await nv('app', 'mark');
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^nanovisor: error NV_APP_NOT_FOUND: .*mark.* \(request id \S+\)\n/);

  // Token rotation: the old token stops working, the new one (now in the file) works.
  const old = ok(await nv('token')).trim();
  const fresh = ok(await nv('token', '--rotate')).trim();
  assert.notEqual(fresh, old);
  assert.equal(ok(await nv('token')).trim(), fresh);
  const refused = await runCli(['apps', '--token', old], {
    stdout: () => {}, stderr: (t) => assert.match(t, /NV_API_UNAUTHORIZED: GET \/v1\/apps: the server refused the token from the --token flag/),
    cwd: tmp.path, env: { NANOVISOR_SERVER: apiUrl },
  });
  assert.equal(refused, 1);
  assert.equal(ok(await nv('apps')), 'NAME   VERSION   ROUTES   IMAGE\n');

  // Clean shutdown; the daemon's own JSON logs never held the tokens or the secret.
  serve.child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => serve.child.once('exit', (c) => r(c)));
  assert.equal(code, 0, serve.stderr());
  for (const line of serve.stderr().trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
  assert.ok(!serve.stderr().includes(old) && !serve.stderr().includes(fresh) && !serve.stderr().includes(SECRET));
});

test('a CLI pointed at a stopped daemon says so', async () => {
  if (serve.child.exitCode === null) return;
  const r = await nv('apps');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^nanovisor: error NV_API_UNREACHABLE: cannot reach the nanovisor API at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED\n  Is nanovisor serve running\?/);
});
