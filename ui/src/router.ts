/**
 * The page's routes: paths under /ui/, moved between with the History API so links are real
 * links (open in a new tab, keyboard, back button) and the server answers each path with
 * the page (src/dashboard/server.ts PAGES).
 */
import { useEffect, useState } from 'preact/hooks';

export function navigate(path: string): void {
  if (location.pathname === path) return;
  history.pushState(null, '', path);
  dispatchEvent(new Event('nv-navigate'));
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const on = (): void => setPath(location.pathname);
    addEventListener('popstate', on);
    addEventListener('nv-navigate', on);
    return () => {
      removeEventListener('popstate', on);
      removeEventListener('nv-navigate', on);
    };
  }, []);
  return path;
}

/** Same-origin links go through `navigate` (plain clicks only; modified clicks open tabs). */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as Element | null)?.closest('a');
  if (a === null || a === undefined || a.target !== '' || a.origin !== location.origin || !a.pathname.startsWith('/ui/')) return;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.pathname);
}
