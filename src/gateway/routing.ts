/**
 * Gateway routing: validates the apps' routes and builds the table the gateway looks each
 * request up in (host-specific routes first, then any host; longest path prefix wins).
 */
import { LIMIT_MAXIMA } from '../host/index.ts';
import { NanovisorError } from '../shared/errors.ts';
import { parseHostHeader, routeMatches, scriptName } from './cgi.ts';
import type { GatewayApp } from './server.ts';

export interface CompiledRoute {
  readonly app: GatewayApp;
  readonly path: string;
  readonly prefixLength: number;
}

export interface Router {
  /** Routes for a named host, longest prefix first. */
  readonly byHost: Map<string, CompiledRoute[]>;
  /** Routes for any host, longest prefix first. */
  readonly anyHost: CompiledRoute[];
}

const ROUTE_PATH = /^\/[^\s?#]*$/;

function invalid(message: string): never {
  throw new NanovisorError('NV_GATEWAY_CONFIG_INVALID', message);
}

/** Validates apps and builds the routing table. */
export function compileRoutes(apps: readonly GatewayApp[]): Router {
  const names = new Set<string>();
  const seen = new Map<string, string>();
  const byHost = new Map<string, CompiledRoute[]>();
  const anyHost: CompiledRoute[] = [];
  for (const app of apps) {
    if (typeof app.name !== 'string' || app.name === '') invalid('every app needs a non-empty name');
    if (names.has(app.name)) invalid(`two apps are named "${app.name}"`);
    names.add(app.name);
    if (app.routes.length === 0) invalid(`app "${app.name}" has no routes`);
    if (app.maxBodyBytes !== undefined && !(Number.isInteger(app.maxBodyBytes) && app.maxBodyBytes >= 0 && app.maxBodyBytes <= LIMIT_MAXIMA.maxBodyBytes)) {
      invalid(`app "${app.name}": maxBodyBytes must be an integer from 0 to ${LIMIT_MAXIMA.maxBodyBytes}`);
    }
    if (app.concurrency !== undefined && !(Number.isInteger(app.concurrency) && app.concurrency >= 1)) {
      invalid(`app "${app.name}": concurrency must be a positive integer`);
    }
    if (app.queue !== undefined && !(Number.isInteger(app.queue) && app.queue >= 0)) {
      invalid(`app "${app.name}": queue must be a non-negative integer`);
    }
    for (const r of app.routes) {
      if (!ROUTE_PATH.test(r.path)) invalid(`app "${app.name}": route path "${r.path}" must start with "/" and hold no spaces, "?" or "#"`);
      let host = '';
      if (r.host !== undefined) {
        const parsed = parseHostHeader(r.host);
        if (parsed === undefined || parsed.port !== undefined) invalid(`app "${app.name}": route host "${r.host}" must be a host name without a port`);
        host = parsed.name;
      }
      const prefix = scriptName(r.path);
      const key = `${host} ${prefix}`;
      const other = seen.get(key);
      if (other !== undefined) invalid(`route ${host === '' ? '' : `${host} `}${r.path} is claimed by both "${other}" and "${app.name}"`);
      seen.set(key, app.name);
      const compiled: CompiledRoute = { app, path: r.path, prefixLength: prefix.length };
      if (host === '') anyHost.push(compiled);
      else {
        let list = byHost.get(host);
        if (list === undefined) byHost.set(host, (list = []));
        list.push(compiled);
      }
    }
  }
  const longestFirst = (a: CompiledRoute, b: CompiledRoute) => b.prefixLength - a.prefixLength;
  anyHost.sort(longestFirst);
  for (const list of byHost.values()) list.sort(longestFirst);
  return { byHost, anyHost };
}

/**
 * Picks the route for a request: among the routes for the request's host, the longest
 * prefix that matches; failing that, among the routes for any host.
 */
export function matchRoute(router: Router, hostHeader: string | undefined, path: string): CompiledRoute | undefined {
  const host = hostHeader === undefined ? undefined : parseHostHeader(hostHeader)?.name;
  if (host !== undefined) {
    const list = router.byHost.get(host);
    if (list !== undefined) {
      for (const r of list) if (routeMatches(r.path, path)) return r;
    }
  }
  for (const r of router.anyHost) if (routeMatches(r.path, path)) return r;
  return undefined;
}
