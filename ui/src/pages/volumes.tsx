/**
 * Volumes: each one's use against its quotas (bytes and entries) and the apps that mount it;
 * one volume's page adds its snapshots — take one (named or not), restore one over the
 * volume (after a confirmation) or into a new volume, delete one. Everything goes through
 * /v1/volumes (docs/volumes.md); the API's field problems are shown at the field.
 */
import { useState } from 'preact/hooks';
import { ApiError, call, type Snapshot, type Volume } from '../api.ts';
import { bytes, num, pct, when } from '../format.ts';
import { usePoll } from '../poll.ts';

/** `used` of `quota` as a meter and words; high (over 90 %) shows as a warning. */
export function Usage(props: { id: string; used: number; quota: number; format: (n: number) => string; label: string }) {
  const { used, quota } = props;
  const share = quota > 0 ? used / quota : 0;
  return (
    <span class="meter" id={props.id} data-used={used} data-quota={quota}>
      <meter min={0} max={quota} value={used} high={quota * 0.9} optimum={0} aria-label={props.label} />
      <span>{props.format(used)} of {props.format(quota)} <span class="muted">({pct(share)})</span></span>
    </span>
  );
}

const entries = (n: number): string => num(n, 0);

export function VolumesPage() {
  const { value: volumes, error } = usePoll(() => call<Volume[]>('GET', '/v1/volumes'), 5000);
  return (
    <>
      <h1>Volumes</h1>
      <p class="muted">What apps keep between requests, mounted in every VM of the apps that ask for it. Create them with <code>nanovisor volume create</code>.</p>
      {error !== undefined && <p class="error" role="alert">{error.message}</p>}
      {volumes === undefined ? <p role="status">Loading…</p> : (
        <div class="scroll">
          <table id="volumes">
            <thead><tr><th scope="col">Volume</th><th scope="col">Bytes</th><th scope="col">Entries</th><th scope="col">Access</th><th scope="col">Apps</th><th scope="col">Where</th></tr></thead>
            <tbody>
              {volumes.length === 0 && <tr><td colSpan={6}>No volumes yet.</td></tr>}
              {volumes.map((v) => (
                <tr key={v.name} data-volume={v.name}>
                  <th scope="row"><a href={`/ui/volumes/${v.name}`}>{v.name}</a></th>
                  <td><Usage id={`${v.name}-bytes`} used={v.usedBytes} quota={v.quotaBytes} format={bytes} label={`${v.name}: bytes used of the quota`} /></td>
                  <td><Usage id={`${v.name}-files`} used={v.usedFiles} quota={v.quotaFiles} format={entries} label={`${v.name}: entries used of the quota`} /></td>
                  <td>{v.access}</td>
                  <td>{v.apps.length === 0 ? <span class="muted">none</span> : v.apps.map((a) => <a key={a} href={`/ui/apps/${a}`}>{a} </a>)}</td>
                  <td>{v.location === 'host' ? <code>{v.hostPath}</code> : 'data directory'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** The API's problems of one field, or its message. */
function problemAt(err: unknown, field: string): string {
  if (err instanceof ApiError) {
    const p = err.problems.filter((x) => x.field === field).map((x) => `${x.field}: ${x.message}`);
    if (p.length > 0) return p.join('; ');
  }
  return (err as Error).message;
}

function TakeSnapshot(props: { volume: string; onTaken: () => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState('');
  const take = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    setStatus('Taking a snapshot…');
    try {
      const s = await call<Snapshot>('POST', `/v1/volumes/${props.volume}/snapshots`, name.trim() === '' ? {} : { name: name.trim() });
      setStatus(`Snapshot ${s.name} taken: ${bytes(s.bytes)}, ${entries(s.files)} entries.`);
      setName('');
      props.onTaken();
    } catch (err) {
      setError(problemAt(err, 'name'));
      setStatus('');
    }
  };
  return (
    <form id="take-snapshot" onSubmit={(e) => void take(e)} noValidate>
      <div class="field">
        <label for="snapshot-name">Snapshot name <span class="muted">(empty: from the time)</span></label>
        <input id="snapshot-name" value={name} onInput={(e) => setName(e.currentTarget.value)} autoComplete="off" spellcheck={false}
          aria-invalid={error !== undefined} {...(error === undefined ? {} : { 'aria-describedby': 'snapshot-name-error' })} />
        {error !== undefined && <p class="field-error" id="snapshot-name-error">{error}</p>}
      </div>
      <button type="submit">Take a snapshot</button> <span role="status" id="snapshot-status">{status}</span>
    </form>
  );
}

function SnapshotRow(props: { volume: string; snapshot: Snapshot; onChanged: () => void; setStatus: (s: string) => void }) {
  const { volume, snapshot: s } = props;
  const [mode, setMode] = useState<'idle' | 'restore' | 'into'>('idle');
  const [into, setInto] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const run = async (what: () => Promise<string>): Promise<void> => {
    setError(undefined);
    try {
      props.setStatus(await what());
      setMode('idle');
      props.onChanged();
    } catch (err) {
      setError(problemAt(err, 'into'));
    }
  };
  const restore = () => run(async () => {
    await call('POST', `/v1/volumes/${volume}/restore`, { snapshot: s.name });
    return `${volume} holds snapshot ${s.name} again.`;
  });
  const restoreInto = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const v = await call<Volume>('POST', `/v1/volumes/${volume}/restore`, { snapshot: s.name, into: into.trim() });
      return `Snapshot ${s.name} restored into the new volume ${v.name}.`;
    });
  };
  const remove = () => run(async () => {
    await call('DELETE', `/v1/volumes/${volume}/snapshots/${s.name}`);
    return `Snapshot ${s.name} deleted.`;
  });
  return (
    <tr data-snapshot={s.name}>
      <th scope="row">{s.name}</th>
      <td class="num">{bytes(s.bytes)}</td>
      <td class="num">{entries(s.files)}</td>
      <td>{when(s.created)}</td>
      <td>
        {mode === 'idle' && (
          <>
            <button type="button" onClick={() => setMode('restore')}>Restore {s.name}…</button>{' '}
            <button type="button" onClick={() => setMode('into')}>Restore into a new volume…</button>{' '}
            <button type="button" class="danger" onClick={() => void remove()} aria-label={`Delete snapshot ${s.name}`}>Delete</button>
          </>
        )}
        {mode === 'restore' && (
          <div class="confirm" role="group" aria-labelledby={`restore-${s.name}-q`}>
            <p id={`restore-${s.name}-q`}><strong>Restore {s.name} over {volume}?</strong> What {volume} holds now is replaced (take a snapshot first to keep it).</p>
            <button type="button" class="danger" onClick={() => void restore()}>Replace {volume} with {s.name}</button>{' '}
            <button type="button" onClick={() => setMode('idle')}>Cancel</button>
          </div>
        )}
        {mode === 'into' && (
          <form class="confirm" onSubmit={restoreInto} noValidate>
            <label for={`into-${s.name}`}>Name of the new volume</label>
            <input id={`into-${s.name}`} value={into} onInput={(e) => setInto(e.currentTarget.value)} autoComplete="off" spellcheck={false}
              aria-invalid={error !== undefined} {...(error === undefined ? {} : { 'aria-describedby': `into-${s.name}-error` })} />
            {error !== undefined && <p class="field-error" id={`into-${s.name}-error`}>{error}</p>}
            <button type="submit">Restore into it</button>{' '}
            <button type="button" onClick={() => setMode('idle')}>Cancel</button>
          </form>
        )}
        {mode !== 'into' && error !== undefined && <p class="field-error" role="alert">{error}</p>}
      </td>
    </tr>
  );
}

export function VolumePage(props: { name: string }) {
  const { name } = props;
  const [n, setN] = useState(0);
  const [status, setStatus] = useState('');
  const data = usePoll(async () => {
    const [volume, snapshots] = await Promise.all([call<Volume>('GET', `/v1/volumes/${name}`), call<Snapshot[]>('GET', `/v1/volumes/${name}/snapshots`)]);
    return { volume, snapshots };
  }, 5000, [name, n]);
  const reload = (): void => setN((x) => x + 1);
  if (data.value === undefined) {
    return <p role="status">{data.error === undefined ? 'Loading…' : data.error instanceof ApiError && data.error.status === 404 ? `No volume named ${name}.` : data.error.message}</p>;
  }
  const { volume: v, snapshots } = data.value;
  return (
    <>
      <h1>{v.name} <span class="muted">volume, {v.access}</span></h1>
      <dl class="stats wide" aria-label="Use against the quotas">
        <div><dt>Bytes</dt><dd><Usage id="volume-bytes" used={v.usedBytes} quota={v.quotaBytes} format={bytes} label="Bytes used of the quota" /></dd></div>
        <div><dt>Entries</dt><dd><Usage id="volume-files" used={v.usedFiles} quota={v.quotaFiles} format={entries} label="Entries used of the quota" /></dd></div>
      </dl>
      <p>Mounted by: {v.apps.length === 0 ? 'no app' : v.apps.map((a) => <a key={a} href={`/ui/apps/${a}`}>{a} </a>)}. Lives in {v.location === 'host' ? <code>{v.hostPath}</code> : 'the data directory'}. Created {when(v.created)}.</p>
      <h2>Snapshots</h2>
      <p class="muted">Point-in-time copies (an exclusive volume's between two writers), kept when the volume is deleted.</p>
      <TakeSnapshot volume={v.name} onTaken={reload} />
      <div class="scroll">
        <table id="snapshots">
          <thead><tr><th scope="col">Snapshot</th><th scope="col">Bytes</th><th scope="col">Entries</th><th scope="col">Taken</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {snapshots.length === 0 && <tr><td colSpan={5}>No snapshots yet.</td></tr>}
            {snapshots.map((s) => <SnapshotRow key={s.name} volume={v.name} snapshot={s} onChanged={reload} setStatus={setStatus} />)}
          </tbody>
        </table>
      </div>
      <p role="status" id="snapshots-status">{status}</p>
      <p><a href="/ui/volumes">All volumes</a></p>
    </>
  );
}
