/**
 * Shared by the commands that talk to the daemon (deploy, apps, app, versions, rollback, rm,
 * logs, token): positional checks, `K=V` flags, durations, log lines, and the tar of an app
 * directory that `deploy` uploads.
 */
import { lstatSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { LogEntry } from '../../control/index.ts';
import { nameFromFile } from '../../image/build.ts';
import { MANIFEST_FILE, parseManifestText, type Manifest } from '../../image/index.ts';
import { writeTar, type TarEntry } from '../../image/tar.ts';
import { NanovisorError } from '../../shared/errors.ts';

/** Throws NV_USAGE unless exactly `n` positionals were given. */
export function wantArgs(args: readonly string[], n: number, usage: string): void {
  if (args.length !== n) throw new NanovisorError('NV_USAGE', `usage: nanovisor ${usage}`);
}

/** `K=V` flags into a record (`--env`, `--secret`); the value may hold `=`. */
export function keyValues(list: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new NanovisorError('NV_USAGE', `--${flag} "${flag === 'secret' ? item.slice(0, Math.max(0, eq)) || '...' : item}": expected NAME=VALUE`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** `--route /path` or `--route host/path` into an API route. */
export function parseRoute(text: string): { path: string; host?: string } {
  if (text.startsWith('/')) return { path: text };
  const slash = text.indexOf('/');
  if (slash <= 0) throw new NanovisorError('NV_USAGE', `--route "${text}": expected /PATH or HOST/PATH (e.g. /echo, api.example.com/v1)`);
  return { host: text.slice(0, slash), path: text.slice(slash) };
}

/** `850µs`, `12.3ms`, `2.41s`. */
export function formatDuration(ms: number): string {
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : Math.round(ms)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/**
 * One request-log entry for humans: `time requestId status duration method url`, then the
 * error and the guest's stderr indented below it.
 */
export function formatLogEntry(e: LogEntry): string {
  const lines = [`${e.time}  ${e.requestId}  ${e.status}  ${formatDuration(e.durationMs).padStart(7)}  ${e.method} ${e.url}${e.version === undefined ? '' : `  v${e.version}`}`];
  if (e.errorCode !== undefined) lines.push(`    ${e.errorCode}: ${e.errorMessage ?? ''}`);
  if (e.stderr !== undefined && e.stderr !== '') {
    for (const l of e.stderr.replace(/\n$/, '').split('\n')) lines.push(`    | ${l}`);
  }
  if (e.stderrTruncated !== undefined) lines.push(`    | ... (${e.stderrTruncated} more bytes of stderr dropped)`);
  return `${lines.join('\n')}\n`;
}

/** An app directory (or a bare .wasm) packed for `POST /v1/images/build`. */
export interface AppTar {
  tar: Uint8Array;
  manifest: Manifest;
  /** Files in the tar (not counting directories). */
  files: number;
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Packs what a build needs — `nanovisor.json`, the module it names, and the files it lists —
 * into a deterministic tar (sorted, zero times). Symlinks are followed but must stay inside
 * the directory; the daemon accepts only files and directories. A `.wasm` file is packed
 * with a made-up manifest, as `nanovisor build app.wasm` would use.
 */
export function packAppDir(target: string): AppTar {
  const st = statSync(target);
  const entries = new Map<string, TarEntry>();
  const enc = new TextEncoder();
  let manifest: Manifest;
  let root: string;
  if (st.isFile()) {
    root = realpathSync(dirname(target));
    const text = JSON.stringify({ name: nameFromFile(target), module: basename(target) }, null, 2);
    manifest = parseManifestText(text, target);
    entries.set(MANIFEST_FILE, { path: MANIFEST_FILE, kind: 'file', mode: 0o644, data: enc.encode(`${text}\n`) });
  } else {
    root = realpathSync(target);
    const manifestPath = join(root, MANIFEST_FILE);
    let text: string;
    try {
      text = readFileSync(manifestPath, 'utf8');
    } catch {
      throw new NanovisorError('NV_FILE_NOT_FOUND', `no ${MANIFEST_FILE} in ${target} (write one, see docs/manifest.md, or deploy a .wasm file)`);
    }
    manifest = parseManifestText(text, manifestPath);
    entries.set(MANIFEST_FILE, { path: MANIFEST_FILE, kind: 'file', mode: 0o644, data: enc.encode(text) });
  }
  const addPath = (hostPath: string, what: string): void => {
    let real: string;
    try {
      real = realpathSync(hostPath);
    } catch {
      throw new NanovisorError('NV_FILE_NOT_FOUND', `${what}: no such file or directory: ${hostPath}`);
    }
    if (!inside(root, real)) throw new NanovisorError('NV_IMAGE_FILES_INVALID', `${what}: ${hostPath} leads outside the app directory`);
    const rel = relative(root, hostPath).split(sep).join('/');
    const s = statSync(real);
    if (s.isDirectory()) {
      if (rel !== '') entries.set(rel, { path: rel, kind: 'dir', mode: 0o755 });
      for (const name of readdirSync(hostPath).sort()) addPath(join(hostPath, name), what);
    } else if (s.isFile()) {
      entries.set(rel, { path: rel, kind: 'file', mode: (s.mode & 0o111) !== 0 ? 0o755 : 0o644, data: new Uint8Array(readFileSync(real)) });
    } else {
      throw new NanovisorError('NV_IMAGE_FILES_INVALID', `${what}: ${hostPath} is not a regular file or directory`);
    }
  };
  if (manifest.module !== undefined) addPath(resolve(root, manifest.module), `module "${manifest.module}"`);
  for (const from of [manifest.rootfs?.dir, manifest.rootfs?.binary]) if (from !== undefined) addPath(resolve(root, from), `rootfs "${from}"`);
  for (const f of manifest.files) {
    const host = resolve(root, f.from);
    if (lstatSync(host, { throwIfNoEntry: false }) === undefined) throw new NanovisorError('NV_FILE_NOT_FOUND', `files: no such file or directory: ${f.from}`);
    addPath(host, `files "${f.from}"`);
  }
  // Parent directories of nested files, so the tar stands alone.
  for (const path of [...entries.keys()]) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!entries.has(dir)) entries.set(dir, { path: dir, kind: 'dir', mode: 0o755 });
    }
  }
  const list = [...entries.values()];
  return { tar: writeTar(list), manifest, files: list.filter((e) => e.kind === 'file').length };
}
