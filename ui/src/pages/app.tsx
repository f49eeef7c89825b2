/**
 * One app: its current version and charts, the versions (deploy by upload, roll back), its
 * settings (routes, env, limits and concurrency, validated by the API with each problem shown
 * at its field), secret names, the recent requests and live log (server-sent events), and
 * delete with confirmation.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, call, upload, type App, type LogEntry, type Point, type Version } from '../api.ts';
import { bytes, ms, short, when } from '../format.ts';
import { usePoll } from '../poll.ts';
import { navigate } from '../router.ts';
import { filesOfEntry, filesOfInput, tarKind, writeTar, type DirFile } from '../tar.ts';
import { Charts } from './overview.tsx';

const LIMITS = [
  { key: 'memoryBytes', label: 'Memory (bytes)' },
  { key: 'timeoutMs', label: 'Time limit (ms)' },
  { key: 'maxBodyBytes', label: 'Largest request body (bytes)' },
  { key: 'concurrency', label: 'Concurrency (VMs at once)' },
  { key: 'queue', label: 'Queue (requests waiting)' },
] as const;

type Errors = Record<string, string>;

/** Which form field an API problem belongs to (`limits.timeoutMs`, `routes[0].path` -> routes). */
function fieldOf(problem: string): string {
  if (problem.startsWith('limits.')) return problem.split(/[.[]/).slice(0, 2).join('.');
  if (problem.startsWith('routes')) return 'routes';
  if (problem.startsWith('env')) return 'env';
  return 'form';
}

function Field(props: { id: string; label: string; error: string | undefined; children: (attrs: Record<string, unknown>) => preact.ComponentChildren; hint?: string }) {
  const errId = `${props.id}-error`;
  const hintId = `${props.id}-hint`;
  const describedBy = [props.hint === undefined ? '' : hintId, props.error === undefined ? '' : errId].filter((x) => x !== '').join(' ');
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children({ id: props.id, 'aria-invalid': props.error !== undefined, ...(describedBy === '' ? {} : { 'aria-describedby': describedBy }) })}
      {props.hint !== undefined && <p class="muted hint" id={hintId}>{props.hint}</p>}
      {props.error !== undefined && <p class="field-error" id={errId}>{props.error}</p>}
    </div>
  );
}

/**
 * The form is keyed by the app's `updated` (a save shows the saved values); its status line
 * lives in the page (`status`, `setStatus`), so "Saved." outlives that remount.
 */
function Settings(props: { app: App; onSaved: (a: App) => void; status: string; setStatus: (s: string) => void }) {
  const { app } = props;
  const [routes, setRoutes] = useState(JSON.stringify(app.routes, null, 1));
  const [env, setEnv] = useState(Object.entries(app.env).map(([k, v]) => `${k}=${v}`).join('\n'));
  const initialLimits: Record<string, string> = Object.fromEntries(LIMITS.map((l) => [l.key, app.limits[l.key] === undefined ? '' : String(app.limits[l.key])]));
  const [limits, setLimits] = useState<Record<string, string>>(initialLimits);
  const [errors, setErrors] = useState<Errors>({});
  const { status, setStatus } = props;

  const save = async (e: Event): Promise<void> => {
    e.preventDefault();
    const errs: Errors = {};
    let parsedRoutes: unknown;
    try {
      parsedRoutes = JSON.parse(routes);
    } catch {
      errs['routes'] = 'not valid JSON: a list such as [{"path": "/hello"}]';
    }
    const parsedEnv: Record<string, string> = {};
    env.split('\n').map((l) => l.trim()).filter((l) => l !== '').forEach((l, i) => {
      const eq = l.indexOf('=');
      if (eq <= 0) errs['env'] = `line ${i + 1}: write NAME=value`;
      else parsedEnv[l.slice(0, eq)] = l.slice(eq + 1);
    });
    const parsedLimits: Record<string, unknown> = {};
    for (const l of LIMITS) {
      const text = limits[l.key]!.trim();
      // Only the limits edited here: the API merges them by key, and an untouched one (shown
      // with its default) must stay a default rather than become a pinned value.
      if (text === initialLimits[l.key]) continue;
      // Sent as typed (a number when it is one): the API's validation is the one that counts.
      parsedLimits[l.key] = text === '' ? null : /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    }
    setErrors(errs);
    if (Object.keys(errs).length > 0) {
      setStatus('Not saved: fix the fields marked.');
      return;
    }
    setStatus('Saving…');
    try {
      const saved = await call<App>('PATCH', `/v1/apps/${app.name}`, { routes: parsedRoutes, env: parsedEnv, limits: parsedLimits });
      setStatus('Saved.');
      props.onSaved(saved);
    } catch (err) {
      const out: Errors = {};
      if (err instanceof ApiError && err.problems.length > 0) {
        for (const p of err.problems) {
          const f = fieldOf(p.field);
          out[f] = out[f] === undefined ? `${p.field}: ${p.message}` : `${out[f]}; ${p.field}: ${p.message}`;
        }
      } else out['form'] = (err as Error).message;
      setErrors(out);
      setStatus('Not saved: fix the fields marked.');
    }
  };

  return (
    <form id="settings" onSubmit={(e) => void save(e)} noValidate>
      <Field id="f-routes" label="Routes (JSON)" error={errors['routes']} hint='e.g. [{"path": "/hello", "methods": ["GET"]}]'>
        {(a) => <textarea {...a} rows={3} value={routes} onInput={(e) => setRoutes(e.currentTarget.value)} spellcheck={false} />}
      </Field>
      <Field id="f-env" label="Environment (NAME=value, one per line)" error={errors['env']}>
        {(a) => <textarea {...a} rows={3} value={env} onInput={(e) => setEnv(e.currentTarget.value)} spellcheck={false} />}
      </Field>
      <fieldset>
        <legend>Limits <span class="muted">(empty: the default)</span></legend>
        <div class="limits">
          {LIMITS.map((l) => (
            <Field key={l.key} id={`f-limits.${l.key}`} label={l.label} error={errors[`limits.${l.key}`]}>
              {(a) => <input {...a} type="text" inputMode="numeric" value={limits[l.key]} onInput={(e) => setLimits({ ...limits, [l.key]: e.currentTarget.value })} />}
            </Field>
          ))}
        </div>
      </fieldset>
      {errors['form'] !== undefined && <p class="field-error" role="alert">{errors['form']}</p>}
      <button type="submit">Save settings</button> <span role="status" id="settings-status">{status}</span>
    </form>
  );
}

function Deploy(props: { app: string; onDeployed: () => void }) {
  const [progress, setProgress] = useState<number | undefined>(undefined);
  const [status, setStatus] = useState('');
  const [dragging, setDragging] = useState(false);

  /** Uploads `body` (an app directory's tar, built by the daemon, or an image export), then deploys it. */
  const send = async (body: Blob, kind: 'app' | 'image', label: string): Promise<void> => {
    setProgress(0);
    setStatus(`Uploading ${label} (${kind === 'app' ? 'app directory: the daemon builds it' : 'image export'})…`);
    const res = await upload<{ digest: string }>(kind === 'app' ? '/v1/images/build' : '/v1/images', body, setProgress);
    setStatus(`Uploaded ${short(res.digest)}; deploying…`);
    const v = await call<{ version: number }>('POST', `/v1/apps/${props.app}/versions`, { image: res.digest });
    setStatus(`Deployed: v${v.version} is current.`);
    props.onDeployed();
  };

  const attempt = async (what: () => Promise<void>): Promise<void> => {
    try {
      await what();
    } catch (e) {
      setStatus(`Deploy failed: ${(e as Error).message}`);
    } finally {
      setProgress(undefined);
      for (const id of ['deploy-file', 'deploy-dir']) {
        const input = document.getElementById(id) as HTMLInputElement | null;
        if (input !== null) input.value = '';
      }
    }
  };

  const deployFile = (file: File): Promise<void> => attempt(async () => {
    setStatus(`Reading ${file.name}…`);
    const kind = await tarKind(file);
    if (kind === undefined) {
      setStatus(`${file.name} is neither an app directory tar (nanovisor.json at the top) nor an image export (nanovisor image export).`);
      return;
    }
    await send(file, kind, file.name);
  });

  const deployDir = (name: string, files: DirFile[]): Promise<void> => attempt(async () => {
    if (!files.some((f) => f.path === 'nanovisor.json')) {
      setStatus(`${name} has no nanovisor.json at its top: choose the app's own directory.`);
      return;
    }
    const size = files.reduce((n, f) => n + f.file.size, 0);
    await send(writeTar(files), 'app', `${name}/ (${files.length} files, ${bytes(size)})`);
  });

  const onDrop = (e: DragEvent): void => {
    e.preventDefault();
    setDragging(false);
    // Entries must be taken while the drop event runs: the list is emptied after it.
    const entry = e.dataTransfer?.items[0]?.webkitGetAsEntry?.() ?? null;
    const file = e.dataTransfer?.files[0];
    if (entry !== null && entry.isDirectory) void attempt(async () => {
      setStatus(`Reading ${entry.name}/…`);
      await deployDir(entry.name, await filesOfEntry(entry as FileSystemDirectoryEntry));
    });
    else if (file !== undefined) void deployFile(file);
  };

  return (
    <div
      class={`drop${dragging ? ' dragging' : ''}`}
      id="deploy-drop"
      onDragOver={(e) => {
        e.preventDefault();
        if (e.dataTransfer !== null) e.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={onDrop}
    >
      <p><strong>Deploy a new version:</strong> drop the app's directory, a tar of it or an image export here, or choose one.</p>
      <div class="pickers">
        <div>
          <label for="deploy-dir">Choose the app directory</label>
          <input id="deploy-dir" type="file" {...{ webkitdirectory: true }} onChange={(e) => {
            const list = e.currentTarget.files;
            if (list !== null && list.length > 0) void deployDir(list[0]!.webkitRelativePath.split('/')[0]!, filesOfInput(list));
          }} />
        </div>
        <div>
          <label for="deploy-file">Choose a tar (app directory or image export)</label>
          <input id="deploy-file" type="file" accept=".tar,application/x-tar" onChange={(e) => { const f = e.currentTarget.files?.[0]; if (f !== undefined) void deployFile(f); }} />
        </div>
      </div>
      {progress !== undefined && <progress id="deploy-progress" max={1} value={progress} aria-label="Upload progress">{Math.round(progress * 100)} %</progress>}
      <p role="status" id="deploy-status">{status}{progress !== undefined && progress < 1 ? ` ${Math.round(progress * 100)} %` : ''}</p>
    </div>
  );
}

/** What a version serves with, as the API records it (a rollback restores it). */
function VersionConfig(props: { config: Version['config'] }) {
  const { routes, env, secrets, limits, volumes } = props.config;
  const list = (items: string[]) => (items.length === 0 ? <span class="muted">none</span> : items.map((t) => <code key={t}>{t} </code>));
  return (
    <dl class="config">
      <dt>Routes</dt><dd>{list(routes.map((r) => `${r.host ?? ''}${r.path}${r.methods === undefined ? '' : ` [${r.methods.join(',')}]`}`))}</dd>
      <dt>Env</dt><dd>{list(Object.entries(env).map(([k, v]) => `${k}=${v}`))}</dd>
      <dt>Secrets</dt><dd>{list(secrets)}</dd>
      <dt>Limits</dt><dd>{list(Object.entries(limits).map(([k, v]) => `${k}=${v}`))}</dd>
      <dt>Volumes</dt><dd>{list(volumes.map((m) => `${m.volume}:${m.guest}${m.readonly === true ? ':ro' : ''}`))}</dd>
    </dl>
  );
}

function Versions(props: { app: App; versions: Version[]; onChanged: () => void }) {
  const [status, setStatus] = useState('');
  const rollback = async (version: number): Promise<void> => {
    setStatus(`Rolling back to v${version}…`);
    try {
      await call('POST', `/v1/apps/${props.app.name}/rollback`, { version });
      setStatus(`v${version} is current.`);
      props.onChanged();
    } catch (e) {
      setStatus(`Rollback failed: ${(e as Error).message}`);
    }
  };
  const vs = props.versions;
  return (
    <>
      <div class="scroll">
        <table id="versions">
          <thead><tr><th scope="col">Version</th><th scope="col">Image</th><th scope="col">Digest</th><th scope="col">Deployed</th><th scope="col">Changed</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {vs.length === 0 && <tr><td colSpan={6}>No version yet: deploy one.</td></tr>}
            {vs.map((v, i) => (
              <tr key={v.version} data-version={v.version} class={v.current ? 'current' : ''}>
                <th scope="row">v{v.version}{v.current && <span class="badge"> current</span>}</th>
                <td>{v.image.name}{v.image.version === undefined ? '' : ` ${v.image.version}`}</td>
                <td><code title={v.digest}>{short(v.digest)}</code></td>
                <td>{when(v.created)}</td>
                <td class="changes">
                  {i === vs.length - 1 && v.changes.length === 0 ? 'first version' : v.changes.length === 0 ? 'nothing' : (
                    <ul>{v.changes.map((c) => <li key={c}><code>{c}</code></li>)}</ul>
                  )}
                  <details>
                    <summary>Config of v{v.version}</summary>
                    <VersionConfig config={v.config} />
                  </details>
                </td>
                <td>{!v.current && <button type="button" onClick={() => void rollback(v.version)} aria-label={`Roll back to v${v.version}`}>Roll back to v{v.version}</button>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p role="status" id="versions-status">{status}</p>
    </>
  );
}

function Requests(props: { app: string }) {
  const [entries, setEntries] = useState<LogEntry[]>([]);
  const [state, setState] = useState('connecting');
  useEffect(() => {
    const es = new EventSource(`/ui/api/apps/${props.app}/logs`);
    es.addEventListener('request', (ev) => {
      const e = JSON.parse((ev as MessageEvent<string>).data) as LogEntry;
      setEntries((old) => [e, ...old.filter((o) => o.seq !== e.seq)].slice(0, 100));
    });
    es.addEventListener('ready', () => setState('live'));
    es.onerror = () => setState(es.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    return () => es.close();
  }, [props.app]);
  const logLines = entries.filter((e) => e.stderr !== undefined && e.stderr !== '').slice(0, 50);
  return (
    <>
      <h2>Recent requests <span class={`live ${state}`} id="log-state">{state}</span></h2>
      <div class="scroll">
        <table id="requests" aria-live="polite">
          <thead><tr><th scope="col">Time</th><th scope="col">Request</th><th scope="col">Status</th><th scope="col">Latency</th><th scope="col">Request id</th></tr></thead>
          <tbody>
            {entries.length === 0 && <tr><td colSpan={5}>No requests yet.</td></tr>}
            {entries.slice(0, 30).map((e) => (
              <tr key={e.seq} data-request-id={e.requestId}>
                <td>{when(e.time)}</td>
                <td><code>{e.method} {e.url}</code></td>
                <td class={e.status >= 500 ? 'bad' : e.status >= 400 ? 'warn' : ''}>{e.status}{e.errorCode === undefined ? '' : ` ${e.errorCode}`}</td>
                <td class="num">{ms(e.durationMs)}</td>
                <td><code>{e.requestId}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>Live log <span class="muted">(the guests' stderr)</span></h2>
      <pre id="log-tail" class="log" tabIndex={0} aria-label="Live log">
        {logLines.length === 0 ? 'Nothing written to stderr yet.' : logLines.map((e) => `${e.time} ${e.requestId} ${e.status}\n${e.stderr!.trimEnd()}\n`).join('')}
      </pre>
    </>
  );
}

function Delete(props: { app: string }) {
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const remove = async (e: Event): Promise<void> => {
    e.preventDefault();
    try {
      await call('DELETE', `/v1/apps/${props.app}`);
      navigate('/ui/');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (!open) return <button type="button" class="danger" id="delete" onClick={() => setOpen(true)}>Delete app…</button>;
  return (
    <form class="confirm" onSubmit={(e) => void remove(e)}>
      <p><strong>Delete {props.app}?</strong> Its routes stop answering and its versions are dropped. This cannot be undone.</p>
      <label for="delete-name">Type the app's name to confirm</label>
      <input id="delete-name" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" />
      {error !== undefined && <p class="field-error" role="alert">{error}</p>}
      <button type="submit" class="danger" id="delete-confirm" disabled={typed !== props.app}>Delete {props.app}</button>{' '}
      <button type="button" onClick={() => { setOpen(false); setTyped(''); }}>Cancel</button>
    </form>
  );
}

export function AppPage(props: { name: string }) {
  const { name } = props;
  const [n, setN] = useState(0);
  const data = usePoll(async () => {
    const [app, versions] = await Promise.all([call<App>('GET', `/v1/apps/${name}`), call<Version[]>('GET', `/v1/apps/${name}/versions`)]);
    return { app, versions };
  }, 5000, [name, n]);
  const series = usePoll(() => call<{ intervalMs: number; points: Point[] }>('GET', `/ui/api/apps/${name}/series`), 2000, [name]);
  const [settingsStatus, setSettingsStatus] = useState('');
  const reload = (): void => setN((x) => x + 1);
  if (data.value === undefined) {
    return <p role="status">{data.error === undefined ? 'Loading…' : data.error instanceof ApiError && data.error.status === 404 ? `No app named ${name}.` : data.error.message}</p>;
  }
  const { app, versions } = data.value;
  return (
    <>
      <h1>{app.name} <span class="muted" id="current-version">{app.currentVersion === null ? 'no version' : `v${app.currentVersion}`}</span></h1>
      <p>Routes: {app.routes.map((r) => <code key={r.path}>{r.host ?? ''}{r.path}{r.methods === undefined ? '' : ` (${r.methods.join(', ')})`} </code>)}</p>
      {series.value !== undefined && <Charts points={series.value.points} intervalMs={series.value.intervalMs} prefix="app" />}
      <h2>Versions</h2>
      <Deploy app={app.name} onDeployed={reload} />
      <Versions app={app} versions={versions} onChanged={reload} />
      <h2>Settings</h2>
      <Settings key={app.updated} app={app} onSaved={reload} status={settingsStatus} setStatus={setSettingsStatus} />
      <h3>Secrets</h3>
      <p id="secrets">{app.secrets.length === 0 ? 'None.' : app.secrets.map((s) => <code key={s}>{s} </code>)} <span class="muted">Names only: values are write-only (set them with the API or <code>nanovisor deploy</code>).</span></p>
      <Requests app={app.name} />
      <h2>Danger zone</h2>
      <Delete app={app.name} />
    </>
  );
}
