// The dashboard in a real browser: Debian's chromium (/usr/bin/chromium) driven by
// playwright-core (which downloads nothing) against a real `nanovisor serve` process. Logs
// in, sees the example apps, deploys a new version by upload, calls the app and sees the
// request in the live log and the charts, rolls back, gets a field error for a bad limit,
// deletes an app, rotates the token and is logged out. Every step waits for a condition on
// the page, never for a time. Screenshots of each page go to build/screenshots/.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { tempDir } from '../src/image/testing.ts';
import { exampleDir, root } from './helpers.ts';
import { wat } from './support/wat.ts';

const CHROMIUM = '/usr/bin/chromium';
const shots = join(root, 'build', 'screenshots');
const tmp = tempDir('nv-ui-browser-');
let daemon: ChildProcess;
let apiUrl = '';
let gatewayUrl = '';
let browser: Browser;
let page: Page;
let token = '';
const bodies: string[] = [];

before(async () => {
  mkdirSync(shots, { recursive: true });
  const data = join(tmp.path, 'data');
  daemon = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'serve', '--data', data, '--api', '127.0.0.1:0', '--listen', '127.0.0.1:0', '--shards', '1', '--grace', '2s'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  daemon.stderr!.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  let out = '';
  await new Promise<void>((resolve, reject) => {
    daemon.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    daemon.stdout!.setEncoding('utf8').on('data', (t: string) => {
      out += t;
      const api = /api:\s+(http:\/\/\S+)/.exec(out);
      const gw = /gateway:\s+(http:\/\/\S+)/.exec(out);
      if (api && gw && out.includes('data dir')) {
        apiUrl = api[1]!;
        gatewayUrl = gw[1]!;
        resolve();
      }
    });
  });
  token = readFileSync(join(data, 'token'), 'utf8').trim();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(60_000);
  page.on('response', (r) => {
    if (r.request().resourceType() === 'eventsource') return;
    void r.text().then((t) => bodies.push(t), () => {});
  });
});

after(async () => {
  await browser?.close();
  if (daemon !== undefined && daemon.exitCode === null) {
    daemon.kill('SIGTERM');
    await new Promise((r) => daemon.once('exit', r));
  }
  tmp[Symbol.dispose]();
});

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

test('no session: the dashboard sends the browser to the login page', async () => {
  await page.goto(`${apiUrl}/ui/`);
  await page.waitForURL(/\/ui\/login$/);
  await page.getByLabel('API token').waitFor();
  await shot('login');
});

test('log in, see the example apps and the shards', async () => {
  await page.getByLabel('API token').fill('nvt_wrong');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#login-error').waitFor();
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(/\/ui\/$/);
  await page.locator('#apps tr[data-app="cgi-echo-c"]').waitFor();
  await page.locator('#apps tr[data-app="cgi-echo-rust"]').waitFor();
  await page.locator('#shards tbody tr td.up', { hasText: /^\d+ (s|min)$/ }).first().waitFor();
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'nv_session')!;
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie), '', 'the page cannot read the session cookie');
  await shot('overview');
});

test('call an app: the request shows in the live log and the charts move', async () => {
  await page.locator('#apps a', { hasText: 'cgi-echo-c' }).click();
  await page.waitForURL(/\/ui\/apps\/cgi-echo-c$/);
  await page.locator('#log-state', { hasText: 'live' }).waitFor();
  const before = Number(await page.locator('#app-requests').getAttribute('data-total'));
  const res = await fetch(`${gatewayUrl}/echo-c/from-the-browser-test`);
  const requestId = res.headers.get('x-request-id')!;
  await res.text();
  await page.locator(`#requests tr[data-request-id="${requestId}"]`).waitFor();
  // Functions, not strings: the page's CSP forbids evaluating strings (no 'unsafe-eval').
  await page.waitForFunction((b) => Number((globalThis as unknown as { document: { querySelector(s: string): { getAttribute(n: string): string | null } | null } }).document.querySelector('#app-requests')?.getAttribute('data-total')) > b, before);
  await shot('app');
});

test('deploy a new version by upload and see it current; roll back', async () => {
  const tar = join(tmp.path, 'cgi-echo-c.tar');
  execFileSync('tar', ['-C', exampleDir('cgi-echo-c'), '-cf', tar, '.']);
  await page.locator('#current-version', { hasText: 'v1' }).waitFor();
  await page.getByLabel('Choose a tar (app directory or image export)').setInputFiles(tar);
  await page.locator('#deploy-status', { hasText: 'v2 is current' }).waitFor();
  await page.locator('#current-version', { hasText: 'v2' }).waitFor();
  await page.locator('#versions tr[data-version="2"].current').waitFor();
  await shot('app-deployed');
  await page.getByRole('button', { name: 'Roll back to v1' }).click();
  await page.locator('#current-version', { hasText: 'v1' }).waitFor();
  await page.locator('#versions tr[data-version="1"].current').waitFor();
});

test('deploy the app directory itself, with upload progress (the upload throttled by the browser); drop an image export', async () => {
  // The example's directory with another version in its manifest (a new image), a file whose
  // path is longer than a tar header holds (the page writes a PAX record), and 2 MiB of assets.
  const dir = join(tmp.path, 'cgi-echo-c-dir');
  mkdirSync(join(dir, 'assets', 'a'.repeat(60)), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(exampleDir('cgi-echo-c'), 'nanovisor.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ ...manifest, version: '2.0-from-a-folder' }));
  writeFileSync(join(dir, 'cgi-echo-c.wasm'), readFileSync(join(exampleDir('cgi-echo-c'), 'cgi-echo-c.wasm')));
  writeFileSync(join(dir, 'assets', 'a'.repeat(60), `${'b'.repeat(60)}.txt`), 'a long path\n');
  writeFileSync(join(dir, 'assets', 'blob.bin'), randomBytes(2 * 1024 * 1024));

  // A folder that is not an app's is refused before anything is sent.
  await page.getByLabel('Choose the app directory').setInputFiles(join(dir, 'assets'));
  await page.locator('#deploy-status', { hasText: 'assets has no nanovisor.json at its top' }).waitFor();
  assert.equal(await page.locator('#deploy-progress').count(), 0);

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 512 * 1024 });
  try {
    await page.getByLabel('Choose the app directory').setInputFiles(dir);
    // Part of the way through: the bar and the status show how far (both seen in one look).
    await page.waitForFunction(() => {
      const d = (globalThis as unknown as { document: { querySelector(s: string): { value: number; textContent: string } | null } }).document;
      const bar = d.querySelector('#deploy-progress');
      const status = d.querySelector('#deploy-status')?.textContent ?? '';
      return bar !== null && bar.value > 0 && bar.value < 1 && /Uploading cgi-echo-c-dir\/ \(4 files, 2 MiB\).* [1-9]\d? %$/.test(status);
    });
    await shot('app-uploading');
  } finally {
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await cdp.detach();
  }
  await page.locator('#deploy-status', { hasText: 'v3 is current' }).waitFor();
  await page.locator('#versions tr[data-version="3"].current', { hasText: '2.0-from-a-folder' }).waitFor();
  await page.locator('#deploy-progress').waitFor({ state: 'detached' });

  // An image export (nanovisor build + image export), dropped on the page.
  const store = join(tmp.path, 'store');
  const cli = (...args: string[]) => execFileSync(process.execPath, [join(root, 'src/cli/main.ts'), ...args], { env: { ...process.env, NANOVISOR_HOME: store }, encoding: 'utf8' });
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ ...manifest, version: '3.0-dropped' }));
  cli('build', dir, '-t', 'cgi-echo-c:dropped');
  const exported = join(tmp.path, 'dropped.tar');
  cli('image', 'export', 'cgi-echo-c:dropped', '-o', exported);
  const transfer = await page.evaluateHandle((b64: string) => {
    const g = globalThis as unknown as { DataTransfer: new () => { items: { add(f: unknown): void } }; File: new (parts: unknown[], name: string, o: { type: string }) => unknown; atob(s: string): string };
    const t = new g.DataTransfer();
    t.items.add(new g.File([Uint8Array.from(g.atob(b64), (c) => c.charCodeAt(0))], 'dropped.tar', { type: 'application/x-tar' }));
    return t;
  }, readFileSync(exported).toString('base64'));
  await page.dispatchEvent('#deploy-drop', 'drop', { dataTransfer: transfer });
  await page.locator('#deploy-status', { hasText: 'v4 is current' }).waitFor();
  await page.locator('#versions tr[data-version="4"].current', { hasText: '3.0-dropped' }).waitFor();

  // The folder itself, dropped as a file manager would drop it (DevTools drag events carry real paths).
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ ...manifest, version: '4.0-dropped-folder' }));
  const box = (await page.locator('#deploy-drop').boundingBox())!;
  const drag = await page.context().newCDPSession(page);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2, data: { items: [], files: [dir], dragOperationsMask: 1 } };
  for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await drag.send('Input.dispatchDragEvent', { type, ...at });
  await drag.detach();
  await page.locator('#deploy-status', { hasText: 'v5 is current' }).waitFor();
  await page.locator('#versions tr[data-version="5"].current', { hasText: '4.0-dropped-folder' }).waitFor();

  await page.getByRole('button', { name: 'Roll back to v1' }).click();
  await page.locator('#versions tr[data-version="1"].current').waitFor();
});

test('a bad limit is refused by the API and shown at its field', async () => {
  const field = page.getByLabel('Time limit (ms)');
  await field.fill('99999999');
  await page.getByRole('button', { name: 'Save settings' }).click();
  const error = page.locator('[id="f-limits.timeoutMs-error"]');
  await error.waitFor();
  assert.match((await error.textContent())!, /limits\.timeoutMs: must be at most 900000/);
  assert.equal(await field.getAttribute('aria-invalid'), 'true');
  await shot('app-field-error');
  await field.fill('5000');
  await page.getByRole('button', { name: 'Save settings' }).click();
  // Saved: the error goes, and the API has the new limit (polled: the save may still be on its way).
  await error.waitFor({ state: 'detached' });
  for (;;) {
    const app = await (await fetch(`${apiUrl}/v1/apps/cgi-echo-c`, { headers: { authorization: `Bearer ${token}` } })).json() as { limits: { timeoutMs?: number } };
    if (app.limits.timeoutMs === 5000) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  // The save is a new version of the same image: the versions say what changed, and show its config.
  const v3 = page.locator('#versions tr[data-version="6"]');
  await v3.locator('td.changes', { hasText: 'limits.timeoutMs: default -> 5000' }).waitFor();
  assert.ok((await v3.locator('td.changes li').allTextContents()).every((c) => !c.startsWith('limits.') || c === 'limits.timeoutMs: default -> 5000'), 'the limits left alone stay defaults');
  await v3.getByText('Config of v6').click();
  await v3.locator('dl.config', { hasText: 'timeoutMs=5000' }).waitFor();
  await shot('app-versions');
});

test('images page; readable at 390 px and in the dark theme', async () => {
  await page.getByRole('link', { name: 'Images' }).click();
  await page.locator('#images tbody tr').first().waitFor();
  await shot('images');
  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, storageState: await page.context().storageState() });
  await phone.goto(`${apiUrl}/ui/`);
  await phone.locator('#apps tr[data-app="cgi-echo-c"]').waitFor();
  assert.ok(await phone.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth <= 391), 'no page-wide horizontal scroll at 390 px');
  await shot('overview-390', phone);
  await phone.getByRole('button', { name: 'Dark theme' }).click();
  await phone.waitForFunction(() => (globalThis as unknown as { document: { documentElement: { dataset: Record<string, string> } } }).document.documentElement.dataset['theme'] === 'dark');
  await shot('overview-390-dark', phone);
  await phone.close();
});

test('volumes: use against the quotas; take a snapshot (a bad name shown at the field), restore it into a new volume and over the volume, delete it', async () => {
  const auth = { authorization: `Bearer ${token}` };
  const made = await fetch(`${apiUrl}/v1/volumes`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'notes', quotaBytes: 1024 * 1024, quotaFiles: 100 }) });
  assert.equal(made.status, 201, await made.text());
  const dir = join(tmp.path, 'notes');
  mkdirSync(dir);
  writeFileSync(join(dir, 'hello.txt'), 'x'.repeat(1000));
  const tar = join(tmp.path, 'notes.tar');
  execFileSync('tar', ['--format=ustar', '-C', dir, '-cf', tar, 'hello.txt']);
  const imported = await fetch(`${apiUrl}/v1/volumes/notes/import`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-tar' }, body: readFileSync(tar) });
  assert.equal(imported.status, 200, await imported.text());

  await page.getByRole('link', { name: 'Volumes' }).click();
  const row = page.locator('#volumes tr[data-volume="notes"]');
  await row.waitFor();
  await row.locator('[id="notes-bytes"]', { hasText: '1,000 B of 1 MiB' }).waitFor();
  await row.locator('[id="notes-files"]', { hasText: '1 of 100' }).waitFor();
  assert.equal(await row.getByRole('meter', { name: 'notes: bytes used of the quota' }).getAttribute('value'), '1000');
  await shot('volumes');

  await row.getByRole('link', { name: 'notes' }).click();
  await page.waitForURL(/\/ui\/volumes\/notes$/);
  await page.locator('#volume-bytes', { hasText: '1,000 B of 1 MiB' }).waitFor();
  const name = page.getByLabel(/Snapshot name/);
  await name.fill('Not A Name');
  await page.getByRole('button', { name: 'Take a snapshot' }).click();
  await page.locator('#snapshot-name-error', { hasText: 'name:' }).waitFor();
  assert.equal(await name.getAttribute('aria-invalid'), 'true');
  await name.fill('before');
  await page.getByRole('button', { name: 'Take a snapshot' }).click();
  const snap = page.locator('#snapshots tr[data-snapshot="before"]');
  await snap.waitFor();
  await page.locator('#snapshot-status', { hasText: 'Snapshot before taken: 1,000 B, 1 entries.' }).waitFor();
  assert.equal(await page.locator('#snapshot-name-error').count(), 0);

  await snap.getByRole('button', { name: 'Restore into a new volume…' }).click();
  await page.getByLabel('Name of the new volume').fill('notes-copy');
  await page.getByRole('button', { name: 'Restore into it' }).click();
  await page.locator('#snapshots-status', { hasText: 'restored into the new volume notes-copy' }).waitFor();
  const copy = await (await fetch(`${apiUrl}/v1/volumes/notes-copy`, { headers: auth })).json() as { usedBytes: number; quotaBytes: number };
  assert.deepEqual([copy.usedBytes, copy.quotaBytes], [1000, 1024 * 1024]);

  await snap.getByRole('button', { name: 'Restore before…' }).click();
  await page.getByRole('button', { name: 'Replace notes with before' }).click();
  await page.locator('#snapshots-status', { hasText: 'notes holds snapshot before again.' }).waitFor();
  await shot('volume');
  await snap.getByRole('button', { name: 'Delete snapshot before' }).click();
  await snap.waitFor({ state: 'detached' });
  const left = await (await fetch(`${apiUrl}/v1/volumes/notes/snapshots`, { headers: auth })).json() as unknown[];
  assert.equal(left.length, 0);
});

/** The page's form controls, buttons and links that have no accessible name (label, aria-label, text). */
function unlabelled(p: Page): Promise<string[]> {
  return p.evaluate(() => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const d = (globalThis as any).document;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const named = (el: any): boolean => (el.getAttribute('aria-label') ?? '').trim() !== '' || el.getAttribute('aria-labelledby') !== null
      || (el.id !== '' && d.querySelector(`label[for="${el.id.replace(/"/g, '\\"')}"]`) !== null) || el.closest('label') !== null;
    const bad: string[] = [];
    for (const el of d.querySelectorAll('input, textarea, select')) if (!named(el)) bad.push(el.outerHTML.slice(0, 120));
    for (const el of d.querySelectorAll('button, a[href]')) if ((el.textContent ?? '').trim() === '' && !named(el)) bad.push(el.outerHTML.slice(0, 120));
    return bad;
  });
}

test('every control of every page is labelled; an app is reached and a limit saved with the keyboard only; every page reads at 390 px', async () => {
  const pages: Array<[string, string]> = [['/ui/', '#apps tr[data-app="cgi-echo-c"]'], ['/ui/apps/cgi-echo-c', '#versions tbody tr'], ['/ui/images', '#images tbody tr'], ['/ui/volumes', '#volumes tbody tr'], ['/ui/volumes/notes', '#take-snapshot'], ['/ui/token', '#rotate']];
  for (const [path, ready] of pages) {
    await page.goto(`${apiUrl}${path}`);
    await page.locator(ready).first().waitFor();
    assert.deepEqual(await unlabelled(page), [], path);
  }

  // Some traffic, a few of it server errors, for the overview's picture.
  for (let i = 0; i < 40; i++) await (await fetch(`${gatewayUrl}/echo-c/${i % 8 === 7 ? 'status/500' : `n${i}`}`)).text();
  await page.goto(`${apiUrl}/ui/`);
  await page.locator('#apps tr[data-app="cgi-echo-c"] td.errors', { hasText: /^[1-9][\d.]* %$/ }).waitFor();
  await shot('overview-traffic');
  const focused = (): Promise<string> => page.evaluate(() => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const el = (globalThis as any).document.activeElement;
    return `${el?.tagName ?? ''}|${el?.id ?? ''}|${(el?.textContent ?? '').trim().slice(0, 40)}`;
  });
  const tabTo = async (want: (f: string) => boolean): Promise<void> => {
    for (let i = 0; i < 80; i++) {
      if (want(await focused())) return;
      await page.keyboard.press('Tab');
    }
    assert.fail(`never focused; last: ${await focused()}`);
  };
  await tabTo((f) => f === 'A||cgi-echo-c');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/ui\/apps\/cgi-echo-c$/);
  await page.waitForFunction(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id === 'main');
  await page.locator('#versions tbody tr').first().waitFor();
  await tabTo((f) => f === 'INPUT|f-limits.timeoutMs|');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.type('4000');
  await page.keyboard.press('Enter');
  await page.locator('#settings-status', { hasText: 'Saved.' }).waitFor();
  for (;;) {
    const app = await (await fetch(`${apiUrl}/v1/apps/cgi-echo-c`, { headers: { authorization: `Bearer ${token}` } })).json() as { limits: { timeoutMs?: number } };
    if (app.limits.timeoutMs === 4000) break;
    await new Promise((r) => setTimeout(r, 50));
  }

  const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, storageState: await page.context().storageState() });
  for (const [path, ready] of pages) {
    await phone.goto(`${apiUrl}${path}`);
    await phone.locator(ready).first().waitFor();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const wide = await phone.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const g = globalThis as any;
      if (g.document.documentElement.scrollWidth <= 391) return [];
      // What sticks out, for the message: elements past the edge that no scrolling or clipping box holds.
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const clipped = (e: any): boolean => { for (let p = e.parentElement; p !== null; p = p.parentElement) if (g.getComputedStyle(p).overflowX !== 'visible') return true; return false; };
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      return [...g.document.querySelectorAll('body *')].filter((e: any) => e.getBoundingClientRect().right > 391 && !clipped(e)).map((e: any) => `${e.tagName}.${e.className}#${e.id} ${Math.round(e.getBoundingClientRect().right)}`).slice(0, 8);
    });
    assert.deepEqual(wide, [], `no page-wide horizontal scroll at 390 px: ${path}`);
  }
  await phone.goto(`${apiUrl}/ui/apps/cgi-echo-c`);
  await phone.locator('#versions tbody tr').first().waitFor();
  await shot('app-390', phone);
  await phone.close();
});

test("the live log tails the guest's stderr as requests finish", async () => {
  // A CGI guest that answers "ok" and writes a line to its stderr.
  const WASI = '"wasi_snapshot_preview1"';
  const out = 'Status: 200 OK\nContent-Type: text/plain\n\nok\n';
  const err = 'disk almost full (said the guest)\n';
  const dir = join(tmp.path, 'noisy');
  mkdirSync(dir);
  writeFileSync(join(dir, 'noisy.wasm'), wat(`(module
    (import ${WASI} "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
    (memory (export "memory") 1)
    (data (i32.const 64) ${JSON.stringify(out)})
    (data (i32.const 256) ${JSON.stringify(err)})
    (func (export "_start")
      (i32.store (i32.const 0) (i32.const 64)) (i32.store (i32.const 4) (i32.const ${out.length}))
      (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
      (i32.store (i32.const 0) (i32.const 256)) (i32.store (i32.const 4) (i32.const ${err.length}))
      (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16)))))`));
  writeFileSync(join(dir, 'nanovisor.json'), JSON.stringify({ name: 'noisy', version: '1', module: 'noisy.wasm' }));
  const tar = join(tmp.path, 'noisy.tar');
  execFileSync('tar', ['-C', dir, '-cf', tar, '.']);
  const auth = { authorization: `Bearer ${token}` };
  const built = await (await fetch(`${apiUrl}/v1/images/build`, { method: 'POST', headers: { ...auth, 'content-type': 'application/x-tar' }, body: readFileSync(tar) })).json() as { digest: string };
  const app = await fetch(`${apiUrl}/v1/apps`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'noisy', routes: [{ path: '/noisy' }] }) });
  assert.equal(app.status, 201, await app.text());
  const deployed = await fetch(`${apiUrl}/v1/apps/noisy/versions`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ image: built.digest }) });
  assert.equal(deployed.status, 201, await deployed.text());

  await page.goto(`${apiUrl}/ui/apps/noisy`);
  await page.locator('#log-state', { hasText: 'live' }).waitFor();
  await page.locator('#log-tail', { hasText: 'Nothing written to stderr yet.' }).waitFor();
  const res = await fetch(`${gatewayUrl}/noisy/please`);
  assert.equal(await res.text(), 'ok\n');
  const requestId = res.headers.get('x-request-id')!;
  await page.locator('#log-tail', { hasText: `${requestId} 200` }).waitFor();
  await page.locator('#log-tail', { hasText: 'disk almost full (said the guest)' }).waitFor();
  await page.locator(`#requests tr[data-request-id="${requestId}"]`).waitFor();
  await shot('app-live-log');
});

test('delete an app with confirmation', async () => {
  await page.goto(`${apiUrl}/ui/apps/cgi-echo-rust`);
  await page.getByRole('button', { name: 'Delete app…' }).click();
  const confirm = page.locator('#delete-confirm');
  assert.equal(await confirm.isDisabled(), true);
  await page.getByLabel("Type the app's name to confirm").fill('cgi-echo-rust');
  await confirm.click();
  await page.waitForURL(/\/ui\/$/);
  await page.locator('#apps tr[data-app="cgi-echo-c"]').waitFor();
  assert.equal(await page.locator('#apps tr[data-app="cgi-echo-rust"]').count(), 0);
});

test('rotate the token: logged out, the old token and session refused', async () => {
  await page.getByRole('link', { name: 'Token' }).click();
  await shot('token');
  await page.getByRole('button', { name: 'Rotate the token…' }).click();
  await page.locator('#rotate-confirm').click();
  await page.waitForURL(/\/ui\/login\?reason=rotated$/);
  await page.locator('#login-reason').waitFor();
  await page.goto(`${apiUrl}/ui/`);
  await page.waitForURL(/\/ui\/login$/);
  const old = await fetch(`${apiUrl}/v1/apps`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(old.status, 401);
});

test('the token was in no answer the browser received', () => {
  assert.ok(bodies.length > 10);
  for (const b of bodies) assert.ok(!b.includes(token));
  assert.ok(existsSync(join(shots, 'overview.png')));
});
