/**
 * The dashboard's page: the login form, or (with a session) the header, navigation and the
 * page of the current path. Theme: the system's light or dark, or the one picked with the
 * header's button (remembered in localStorage; nothing else is stored in the browser).
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadSession, logout } from './api.ts';
import { AppPage } from './pages/app.tsx';
import { ImagesPage } from './pages/images.tsx';
import { LoginPage } from './pages/login.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { TokenPage } from './pages/token.tsx';
import { VolumePage, VolumesPage } from './pages/volumes.tsx';
import { onLinkClick, usePath } from './router.ts';
import './styles.css';

function applyTheme(theme: string | null): void {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset['theme'] = theme;
  else delete document.documentElement.dataset['theme'];
  document.dispatchEvent(new Event('nv-theme'));
}

function ThemeButton() {
  const [theme, setTheme] = useState(localStorage.getItem('nv-theme'));
  const dark = theme === 'dark' || (theme === null && matchMedia('(prefers-color-scheme: dark)').matches);
  return (
    <button type="button" class="theme" aria-pressed={dark} onClick={() => {
      const next = dark ? 'light' : 'dark';
      localStorage.setItem('nv-theme', next);
      setTheme(next);
      applyTheme(next);
    }}>Dark theme</button>
  );
}

function Page(props: { path: string }) {
  const { path } = props;
  const app = /^\/ui\/apps\/([a-z0-9-]+)$/.exec(path);
  if (app !== null) return <AppPage key={app[1]} name={app[1]!} />;
  const volume = /^\/ui\/volumes\/([a-z0-9-]+)$/.exec(path);
  if (volume !== null) return <VolumePage key={volume[1]} name={volume[1]!} />;
  if (path === '/ui/volumes') return <VolumesPage />;
  if (path === '/ui/images') return <ImagesPage />;
  if (path === '/ui/token') return <TokenPage />;
  return <OverviewPage />;
}

function Shell() {
  const path = usePath();
  const [ready, setReady] = useState(false);
  useEffect(() => {
    void loadSession().then(() => setReady(true), () => {});
  }, []);
  useEffect(() => {
    document.getElementById('main')?.focus();
  }, [path]);
  if (!ready) return <p role="status">Loading…</p>;
  const link = (href: string, label: string) => <a href={href} aria-current={path === href ? 'page' : undefined}>{label}</a>;
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <span class="brand">nanovisor</span>
        <nav aria-label="Main">{link('/ui/', 'Overview')}{link('/ui/images', 'Images')}{link('/ui/volumes', 'Volumes')}{link('/ui/token', 'Token')}</nav>
        <span class="spacer" />
        <ThemeButton />
        <button type="button" id="logout" onClick={() => void logout().then(() => location.assign('/ui/login'))}>Log out</button>
      </header>
      <main id="main" tabIndex={-1}><Page path={path} /></main>
    </>
  );
}

applyTheme(localStorage.getItem('nv-theme'));
document.addEventListener('click', onLinkClick);
const root = document.getElementById('root')!;
render(location.pathname === '/ui/login' ? <LoginPage /> : <Shell />, root);
