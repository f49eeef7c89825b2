/** Re-reads something every few seconds while the page shows it (the live parts of the pages). */
import { useEffect, useState } from 'preact/hooks';

export function usePoll<T>(load: () => Promise<T>, everyMs: number, deps: unknown[] = []): { value: T | undefined; error: Error | undefined; reload: () => void } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [n, setN] = useState(0);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const v = await load();
        if (!stopped) {
          setValue(v);
          setError(undefined);
        }
      } catch (e) {
        if (!stopped) setError(e as Error);
      }
      if (!stopped) timer = setTimeout(run, everyMs);
    };
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [...deps, n]);
  return { value, error, reload: () => setN((x) => x + 1) };
}
