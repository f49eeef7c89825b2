// The OpenAPI document is kept in step with the router: every route documented, nothing
// documented that the router does not serve; and the API driven in process, without sockets.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ControlPlane, StateDb } from '../control/index.ts';
import { ImageStore } from '../image/index.ts';
import { tempDir } from '../image/testing.ts';
import { OPENAPI } from './openapi.ts';
import { ROUTES, createApi } from './server.ts';

test('every route the router knows is in the OpenAPI document, and only those', () => {
  const paths = OPENAPI.paths as Record<string, Record<string, unknown>>;
  const routed = new Set(ROUTES.map((r) => `${r.method} ${r.path}`));
  for (const r of ROUTES) {
    const op = paths[r.path]?.[r.method.toLowerCase()] as { security?: unknown[] } | undefined;
    assert.ok(op !== undefined, `${r.method} ${r.path} is not documented in src/api/openapi.ts`);
    assert.equal(op.security?.length === 0, !r.auth, `${r.method} ${r.path}: the document and the router disagree on auth`);
  }
  for (const [path, item] of Object.entries(paths)) {
    for (const method of Object.keys(item)) {
      if (method === 'parameters') continue;
      assert.ok(routed.has(`${method.toUpperCase()} ${path}`), `${method.toUpperCase()} ${path} is documented but not routed`);
    }
  }
  // Every $ref resolves.
  const text = JSON.stringify(OPENAPI);
  for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)) {
    assert.ok(m[1]! in OPENAPI.components.schemas, `dangling $ref ${m[1]}`);
  }
});

test('the API in process: request() without sockets', async () => {
  using dir = tempDir('nv-api-');
  const db = StateDb.open(join(dir.path, 'nanovisor.db'));
  const control = ControlPlane.open({ db, store: ImageStore.open(join(dir.path, 'images')), tokenFile: join(dir.path, 'token'), tmpDir: join(dir.path, 'tmp'), version: '9.9.9' });
  const api = createApi({ control });
  try {
    const health = await api.request({ method: 'GET', url: '/healthz' });
    assert.equal(health.status, 200);
    assert.deepEqual(JSON.parse(health.body as string), { status: 'ok', version: '9.9.9' });
    const denied = await api.request({ method: 'POST', url: '/v1/apps', body: '{}' });
    assert.equal(denied.status, 401);
    assert.equal(JSON.parse(denied.body as string).error.requestId, denied.requestId);
    const rotated = control.execute({ kind: 'RotateToken' });
    const auth = { authorization: `Bearer ${rotated.token}` };
    const created = await api.request({ method: 'POST', url: '/v1/apps', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'a', routes: [{ path: '/a' }] }) });
    assert.equal(created.status, 201);
    const big = await api.request({ method: 'POST', url: '/v1/apps', headers: { ...auth, 'content-type': 'application/json' }, body: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(big.status, 413);
    assert.equal(JSON.parse(big.body as string).error.code, 'NV_API_BODY_TOO_LARGE');
    const list = await api.request({ method: 'GET', url: '/v1/apps', headers: auth });
    assert.deepEqual(JSON.parse(list.body as string).map((a: { name: string }) => a.name), ['a']);
    const encoded = await api.request({ method: 'GET', url: '/v1/apps/%E0%A4%A', headers: auth });
    assert.equal(encoded.status, 400);
  } finally {
    api.close();
    db.close();
  }
});
