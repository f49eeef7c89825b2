/**
 * The dashboard: the browser console of `nanovisor serve`, under /ui/ on the API listener
 * (docs/dashboard.md). Server side here (sessions, CSRF, CSP, overview, live log); the page
 * itself is in ui/, bundled by esbuild into dist/ui at `npm run build`.
 */
export { CSP, DEFAULT_ASSETS_DIR, createDashboard } from './server.ts';
export type { Dashboard, DashboardOptions, DashboardSources, ShardRow } from './server.ts';
export { MAX_SESSIONS, SESSION_COOKIE, SESSION_IDLE_MS, SESSION_LIFETIME_MS, Sessions } from './sessions.ts';
