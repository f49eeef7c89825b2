/**
 * Token rotation. The new token is written to <data>/token and never shown here: every
 * dashboard session (this one too) ends, and the next login takes the new token.
 */
import { useState } from 'preact/hooks';
import { call } from '../api.ts';

export function TokenPage() {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const rotate = async (): Promise<void> => {
    try {
      await call('POST', '/ui/api/token/rotate');
      location.assign('/ui/login?reason=rotated');
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <>
      <h1>API token</h1>
      <p>
        Rotating makes a new API token and the old one stops working at once: for the CLI, for scripts,
        and for every dashboard session, this one included. The new token is written to <code>&lt;data&gt;/token</code> on
        the daemon's machine (<code>nanovisor token</code> prints it); it is never shown in the browser.
      </p>
      {error !== undefined && <p class="error" role="alert">{error}</p>}
      {!confirming ? (
        <button type="button" id="rotate" onClick={() => setConfirming(true)}>Rotate the token…</button>
      ) : (
        <div class="confirm" role="group" aria-labelledby="rotate-q">
          <p id="rotate-q"><strong>Rotate now?</strong> Everyone using the old token is logged out.</p>
          <button type="button" class="danger" id="rotate-confirm" onClick={() => void rotate()}>Rotate and log out</button>{' '}
          <button type="button" onClick={() => setConfirming(false)}>Cancel</button>
        </div>
      )}
    </>
  );
}
