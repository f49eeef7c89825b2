/**
 * `nanovisor deploy <dir | file.wasm | image-ref> --name NAME`: ships an app to the daemon and
 * makes it serve. A directory (or .wasm) is packed and built by the daemon; an image of the
 * local store is exported and uploaded as it is (same digest). The app is created when it
 * does not exist, its routes/env/secrets updated when flags say so, then the image is
 * deployed as a new version, atomically.
 */
import { plainRoute, type Route } from '../../shared/routes.ts';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { AppView } from '../../control/index.ts';
import { ImageStore, MANIFEST_FILE, buildImageAsync, parseManifestText, storeHome, type Manifest } from '../../image/index.ts';
import { NanovisorError, isNanovisorError } from '../../shared/errors.ts';
import { parseVolumeFlag } from '../../shared/volumes.ts';
import { parseDestination } from '../../shared/outbound.ts';
import { REMOTE_FLAGS, REMOTE_USAGE, clientFromFlags, gatewayUrl, progressPrinter, routeText, type Health, type UpdateApp } from '../client.ts';
import { runBuildStep } from '../build-step.ts';
import { scriptCacheDir } from '../script-cache.ts';
import type { CliIo, Command } from '../command.ts';
import { flagBool, flagList, flagString, parseFlags, type FlagSpec } from '../flags.ts';
import { formatSize, shortDigest } from './image-format.ts';
import { keyValues, packAppDir, parseRoute } from './remote-format.ts';

const USAGE = `Usage: nanovisor deploy <DIR | FILE.wasm | IMAGE> [--name NAME] [flags]

Ships an app to the daemon and makes it serve. DIR holds nanovisor.json, its module and
files (packed and built by the daemon; the manifest's build step, if any, runs here first
and compiles the module). A JavaScript or TypeScript app ("script") is built here, as by
nanovisor build, and its image uploaded. IMAGE is an image of the local store (NAME[:TAG] or
a digest), uploaded as it is. The app is created if it does not exist; then the image is
deployed as its next version, atomically: requests in flight finish on the old version.

Flags:
  --name NAME            the app (default: the manifest's name)
  --route [HOST]/PATH    a route (repeatable). Default for a new app: the manifest's routes,
                         else /NAME. Given for an existing app, they replace its routes
  --env K=V              an environment variable (repeatable; merged into the app's)
  --secret K=V           a secret (repeatable; write-only: never shown, never logged)
  --volume NAME:/GUEST[:ro]
                         mount a volume of the daemon at GUEST in every VM of the app
                         (repeatable; read-write unless :ro). Given for an existing app,
                         they replace its volumes. The volume must exist (volume create)
  --outbound SCHEME://HOST[:PORT]
                         a destination the app's components may call over HTTP
                         (repeatable; e.g. https://api.example.com, http://*.internal:8080).
                         Given, they replace the app's outbound allowlist (default: the
                         manifest's outbound)
  --progress             show upload progress even when stderr is not a terminal
  --gateway URL          where the app is called, for the printed URL (default
                         $NANOVISOR_GATEWAY, else the API host on port 8080)
  --store DIR            local image store for IMAGE (default $NANOVISOR_HOME or ~/.nanovisor)
  --json                 print {"app","version","digest","urls":[{"url","host"?}]}
${REMOTE_USAGE}

Examples:
  nanovisor deploy ./hello --name hello --route /hello
  nanovisor deploy hello:1.0 --name hello --secret DB_PASSWORD=s3cr3t
  nanovisor deploy ./counter --volume counter:/data`;

const SPECS: FlagSpec[] = [
  ...REMOTE_FLAGS,
  { name: 'name', type: 'string' },
  { name: 'route', type: 'list' },
  { name: 'env', type: 'list' },
  { name: 'secret', type: 'list' },
  { name: 'volume', type: 'list' },
  { name: 'outbound', type: 'list' },
  { name: 'progress', type: 'boolean' },
  { name: 'gateway', type: 'string' },
  { name: 'store', type: 'string' },
  { name: 'json', type: 'boolean' },
];

/** Whether the app directory's manifest names a JavaScript or TypeScript `script`. */
function isScriptApp(dir: string): boolean {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) return false;
  const m = parseManifestText(readFileSync(file, 'utf8'), file);
  return m.driver !== 'linux' && m.script !== undefined;
}

export const deployCommand: Command = {
  name: 'deploy',
  usage: USAGE,
  async run(argv: string[], io: CliIo): Promise<number> {
    const p = parseFlags(argv, SPECS, 'deploy');
    if (p.positionals.length !== 1 || p.rest.length > 0) throw new NanovisorError('NV_USAGE', 'usage: nanovisor deploy <DIR | FILE.wasm | IMAGE> [--name NAME]');
    const source = p.positionals[0]!;
    const api = clientFromFlags(p, io);
    const json = flagBool(p, 'json');
    const showProgress = flagBool(p, 'progress') || io.stderrIsTTY === true;
    const env = keyValues(flagList(p, 'env'), 'env');
    const secrets = keyValues(flagList(p, 'secret'), 'secret');
    const routes = flagList(p, 'route').map(parseRoute);
    const volumes = flagList(p, 'volume').map((v) => {
      const m = parseVolumeFlag(v);
      if (m === undefined) throw new NanovisorError('NV_USAGE', `--volume "${v}": expected NAME:/GUEST[:ro], e.g. counter:/data`);
      return m;
    });
    const outbound = flagList(p, 'outbound');
    for (const o of outbound) {
      const r = parseDestination(o);
      if (typeof r === 'string') throw new NanovisorError('NV_USAGE', `--outbound "${o}": ${r}`);
    }
    const note = (t: string): void => {
      if (!json) io.stderr(`${t}\n`);
    };

    // 1. The image: built by the daemon from a directory, or uploaded from the local store.
    const path = resolve(io.cwd, source);
    const home = storeHome(flagString(p, 'store'), io.env, io.cwd);
    /** Uploads an image of the local store as it is (same digest). */
    const upload = async (ref: string): Promise<{ digest: string; manifest: Manifest; label: string }> => {
      const store = ImageStore.openHome(home);
      let details;
      try {
        details = store.inspect(ref);
      } catch (e) {
        if (isNanovisorError(e, 'NV_IMAGE_NOT_FOUND') || isNanovisorError(e, 'NV_IMAGE_REF_INVALID')) {
          throw new NanovisorError('NV_IMAGE_NOT_FOUND', `"${ref}" is neither a directory, a file nor an image of the local store (${store.root})`);
        }
        throw e;
      }
      const tmp = mkdtempSync(join(tmpdir(), 'nanovisor-deploy-'));
      try {
        const file = join(tmp, 'image.tar');
        store.export(details.digest, file);
        const tar = new Uint8Array(readFileSync(file));
        const progress = showProgress ? progressPrinter(io.stderr, 'uploading', io.stderrIsTTY === true) : undefined;
        const up = await api.uploadImage(tar, progress);
        progress?.done();
        note(`uploaded ${details.tags[0] ?? shortDigest(details.digest)} ${shortDigest(up.digest)} (${formatSize(tar.length)})`);
        return { digest: up.digest, manifest: details.manifest, label: details.tags[0] ?? shortDigest(details.digest) };
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    };
    let shipped: { digest: string; manifest: Manifest };
    if (existsSync(path) && statSync(path).isDirectory() && isScriptApp(path)) {
      // A JavaScript or TypeScript app is compiled here (the daemon runs no componentize-js),
      // into the local store, then uploaded as an image.
      runBuildStep(path, io);
      const built = await buildImageAsync({ dir: path, store: ImageStore.openHome(home), scriptCache: scriptCacheDir(home, io.env, io.cwd) });
      note(`built ${built.tag} ${shortDigest(built.digest)} here${built.scriptCached === true ? ' (component from the cache)' : ''}`);
      shipped = await upload(built.digest);
    } else if (existsSync(path)) {
      if (statSync(path).isDirectory()) runBuildStep(path, io);
      const packed = packAppDir(path);
      note(`packed ${source}: ${packed.files} files, ${formatSize(packed.tar.length)}`);
      const progress = showProgress ? progressPrinter(io.stderr, 'uploading', io.stderrIsTTY === true) : undefined;
      const built = await api.buildImage(packed.tar, progress === undefined ? {} : { onProgress: progress });
      progress?.done();
      note(`built ${built.tag} ${shortDigest(built.digest)}`);
      shipped = { digest: built.digest, manifest: packed.manifest };
    } else {
      shipped = await upload(source);
    }
    const digest = shipped.digest;
    const manifestName = shipped.manifest.name;
    const manifestRoutes: Route[] = shipped.manifest.routes.map(plainRoute);

    // 2. The app: created, or updated where flags say so.
    const name = flagString(p, 'name') ?? manifestName;
    let app: AppView | undefined;
    try {
      app = await api.getApp(name);
    } catch (e) {
      if (!isNanovisorError(e, 'NV_APP_NOT_FOUND')) throw e;
    }
    if (app === undefined) {
      const appRoutes = routes.length > 0 ? routes : manifestRoutes.length > 0 ? manifestRoutes : [{ path: `/${name}` }];
      app = await api.createApp({
        name,
        routes: appRoutes,
        ...(Object.keys(env).length > 0 ? { env } : {}),
        ...(Object.keys(secrets).length > 0 ? { secrets } : {}),
        ...(volumes.length > 0 ? { volumes } : {}),
        ...(outbound.length > 0 ? { outbound: { allow: outbound } } : {}),
      });
      note(`created app ${name} (routes ${app.routes.map(routeText).join(', ')})`);
    } else {
      const patch: UpdateApp = {};
      if (routes.length > 0) patch.routes = routes;
      if (Object.keys(env).length > 0) patch.env = { ...app.env, ...env };
      if (Object.keys(secrets).length > 0) patch.secrets = secrets;
      if (volumes.length > 0) patch.volumes = volumes;
      if (outbound.length > 0) patch.outbound = { ...(app.outbound ?? {}), allow: outbound };
      if (Object.keys(patch).length > 0) {
        app = await api.updateApp(name, patch);
        note(`updated app ${name}`);
      }
    }

    // 3. The version.
    const deployed = await api.deploy(name, digest);
    let health: Health | undefined;
    try {
      health = await api.health();
    } catch {
      // Only for the printed URL.
    }
    const base = gatewayUrl(flagString(p, 'gateway'), io.env, api.server, health);
    const urls = app.routes.map((r) => ({ url: `${base}${r.path}`, ...(r.host === undefined ? {} : { host: r.host }) }));
    if (json) {
      io.stdout(`${JSON.stringify({ app: name, version: deployed.version, digest: deployed.digest, urls })}\n`);
    } else {
      io.stdout(`deployed ${name} version ${deployed.version} (${shortDigest(deployed.digest)})\n`);
      for (const u of urls) io.stdout(`  call it: curl ${u.host === undefined ? '' : `-H 'Host: ${u.host}' `}${u.url}\n`);
    }
    return 0;
  },
};
