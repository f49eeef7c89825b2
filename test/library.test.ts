// The embeddable library as a user imports it: `import ... from 'nanovisor'` resolves through
// the package's exports to the built dist/ (npm test builds it first).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as nanovisor from 'nanovisor';
import { compileC, tempDir, writeTree } from '../src/image/testing.ts';

const ECHO_C = `
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  char line[128] = {0};
  fgets(line, sizeof line, stdin);
  printf("argc=%d env=%s stdin=%s", argc, getenv("K") ? getenv("K") : "(none)", line);
  FILE *f = fopen("/etc/passwd", "r");
  printf("\\nhost file visible: %s\\n", f ? "yes" : "no");
  return 0;
}`;

test('the package surface: runWasm with secure defaults, then with grants', async () => {
  using tmp = tempDir('nv-lib-');
  const bytes = compileC(ECHO_C);
  const bare = await nanovisor.runWasm(bytes);
  assert.equal(bare.exitCode, 0);
  assert.equal(new TextDecoder().decode(bare.stdout), 'argc=1 env=(none) stdin=\nhost file visible: no\n');
  const granted = await nanovisor.runWasm(bytes, { args: ['echo', 'x'], env: { K: 'v' }, stdin: 'hi\n' });
  assert.equal(new TextDecoder().decode(granted.stdout), 'argc=2 env=v stdin=hi\n\nhost file visible: no\n');
  void tmp;
});

test('buildImage + runImage through the library', async () => {
  using tmp = tempDir('nv-lib-');
  writeTree(join(tmp.path, 'app'), {
    'echo.wasm': compileC(ECHO_C),
    'nanovisor.json': JSON.stringify({ name: 'echo', module: 'echo.wasm', env: { K: 'from-manifest' } }),
  });
  const store = nanovisor.ImageStore.openHome(join(tmp.path, 'home'));
  const built = nanovisor.buildImage({ dir: join(tmp.path, 'app'), store });
  assert.equal(built.tag, 'echo:latest');
  const r = await nanovisor.runImage('echo', { store, stdin: 'abc\n' });
  assert.equal(new TextDecoder().decode(r.stdout), 'argc=1 env=from-manifest stdin=abc\n\nhost file visible: no\n');
  const a = await nanovisor.runImage(built.digest, { store, async: true, env: { K: 'override' } });
  assert.match(new TextDecoder().decode(a.stdout), /env=override/);
  writeFileSync(join(tmp.path, 'x'), '');
});

test('errors carry stable codes', async () => {
  await assert.rejects(nanovisor.runWasm(new Uint8Array([0, 97, 115, 109, 1])), (e: unknown) => nanovisor.isNanovisorError(e, 'NV_MODULE_MALFORMED'));
});

test('the VmHost from the package: in process and sharded, same answers', async () => {
  const bytes = compileC(ECHO_C);
  for (const host of [new nanovisor.InProcessHost(), await nanovisor.ShardedHost.start({ shards: 1 })]) {
    try {
      const handle = await host.load({ module: bytes, memoryLimitBytes: 64 << 20 });
      const results = await Promise.all([1, 2, 3].map((n) => host.run(handle, { args: ['echo', String(n)], stdin: 'x\n', timeoutMs: 5000 })));
      for (const r of results) assert.equal(new TextDecoder().decode(r.stdout), 'argc=2 env=(none) stdin=x\n\nhost file visible: no\n');
      assert.equal((await host.stats()).runs, 3);
      await host.unload(handle);
    } finally {
      await host.close();
    }
  }
});

test('args is the whole argv for runWasm and runImage alike; runImage appends extraArgs after the image argv', async () => {
  using tmp = tempDir('nv-lib-args-');
  writeTree(join(tmp.path, 'app'), {
    'echo.wasm': compileC(ECHO_C),
    'nanovisor.json': JSON.stringify({ name: 'echo', module: 'echo.wasm', args: ['--from-manifest'] }),
  });
  const store = nanovisor.ImageStore.openHome(join(tmp.path, 'home'));
  nanovisor.buildImage({ dir: join(tmp.path, 'app'), store });
  const argc = (r: { stdout: Uint8Array }): string => /argc=\d+/.exec(new TextDecoder().decode(r.stdout))![0];
  const wasm = await nanovisor.runWasm(compileC(ECHO_C), { args: ['echo', 'a', 'b'] });
  const image = await nanovisor.runImage('echo', { store, args: ['echo', 'a', 'b'] });
  assert.equal(argc(wasm), 'argc=3');
  assert.equal(argc(image), 'argc=3', 'the same args, the same argv');
  assert.equal(argc(await nanovisor.runImage('echo', { store })), 'argc=2', 'the image argv: echo --from-manifest');
  assert.equal(argc(await nanovisor.runImage('echo', { store, extraArgs: ['x'] })), 'argc=3', 'extraArgs come after it');
});
