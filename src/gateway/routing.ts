/**
 * Gateway routing: validates the apps' routes and builds the table the gateway looks each
 * request up in (host-specific routes first, then any host; longest path prefix wins). The
 * route found decides alone: a method it does not list is a 405 there, never a fall-through
 * to a shorter prefix.
 */
import { LIMIT_MAXIMA } from '../host/index.ts';
import { NanovisorError } from '../shared/errors.ts';
import { METHOD_NAME, ROUTE_PATH, allowedMethods } from '../shared/routes.ts';
import { parseHostHeader, routeMatches, scriptName } from './cgi.ts';
import type { GatewayApp } from './server.ts';

export interface CompiledRoute {
  readonly app: GatewayApp;
  readonly path: string;
  readonly prefixLength: number;
  /** Methods served (HEAD included when GET is); undefined: every method. */
  readonly methods?: ReadonlySet<string>;
  /** The `Allow` header of a 405, when `methods` is set. */
  readonly allow?: string;
}

export interface Router {
  /** Routes for a named host, longest prefix first. */
  readonly byHost: Map<string, CompiledRoute[]>;
  /** Routes for any host, longest prefix first. */
  readonly anyHost: CompiledRoute[];
}


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
      let methods: string[] | undefined;
      if (r.methods !== undefined) {
        if (!Array.isArray(r.methods) || r.methods.length === 0 || !r.methods.every((m) => typeof m === 'string' && METHOD_NAME.test(m) && m === m.toUpperCase())) {
          invalid(`app "${app.name}": route ${r.path} methods must be a non-empty list of upper-case HTTP methods such as GET`);
        }
        methods = allowedMethods(r.methods);
      }
      const compiled: CompiledRoute = methods === undefined
        ? { app, path: r.path, prefixLength: prefix.length }
        : { app, path: r.path, prefixLength: prefix.length, methods: new Set(methods), allow: methods.join(', ') };
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
