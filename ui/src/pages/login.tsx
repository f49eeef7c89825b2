/** Login: the API token, exchanged once for a session cookie; the field is cleared at once. */
import { useState } from 'preact/hooks';
import { login } from '../api.ts';

const REASONS: Record<string, string> = {
  rotated: 'The token was rotated, so every session ended. Log in with the new token from <data>/token (nanovisor token prints it).',
  expired: 'Your session ended (it expired, you logged out elsewhere, or the token was rotated). Log in again.',
};

export function LoginPage() {
  // Looked up by id, not a ref: the field is the page's only one.
  const input = { get current(): HTMLInputElement { return document.getElementById('token') as HTMLInputElement; } };
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const reason = REASONS[new URLSearchParams(location.search).get('reason') ?? ''];
  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    const token = input.current!.value.trim();
    input.current!.value = '';
    setBusy(true);
    try {
      await login(token);
      location.assign('/ui/');
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
      input.current!.focus();
    }
  };
  return (
    <main class="login">
      <h1>nanovisor</h1>
      {reason !== undefined && <p class="notice" role="status" id="login-reason">{reason}</p>}
      <form onSubmit={(e) => void submit(e)} aria-describedby="login-help">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="off" spellcheck={false} required aria-invalid={error !== undefined} aria-describedby={error !== undefined ? 'login-error' : undefined} />
        {error !== undefined && <p class="field-error" id="login-error" role="alert">{error}</p>}
        <p id="login-help" class="muted">The token is in <code>&lt;data&gt;/token</code> on the daemon's machine; <code>nanovisor token</code> prints it. It is sent once, to start a session, and kept nowhere in the browser.</p>
        <button type="submit" disabled={busy}>Log in</button>
      </form>
    </main>
  );
}
