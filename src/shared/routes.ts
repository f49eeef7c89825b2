/**
 * The one route schema: what the manifest's `routes[]`, the API's app routes and the
 * gateway's routing table all carry. A route is a path prefix, optionally a host, optionally
 * the HTTP methods it serves (any method without them; HEAD whenever GET is listed).
 */
import * as z from 'zod/v4';

/** A route path: `/` then anything but whitespace, `?` and `#`. */
export const ROUTE_PATH = /^\/[^\s?#]*$/;
const HOST_NAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
/** An HTTP method name as routes list it (letters and "-", e.g. GET, M-SEARCH). */
export const METHOD_NAME = /^[A-Za-z][A-Za-z-]{0,31}$/;

/** One route of an app. */
export interface Route {
  /** Path prefix, starting with `/`; `/api` serves `/api` and `/api/...`, `/` serves every path. */
  path: string;
  /** Host name (no port) this route is for; without one it serves any host. */
  host?: string;
  /**
   * Upper-case HTTP methods this route serves; another method on its path is answered 405
   * with `Allow`. HEAD is served whenever GET is. Without `methods`, every method.
   */
  methods?: string[];
}

/** `methods`: upper-cased, duplicates dropped, at least one. */
export const routeMethodsSchema = z
  .array(z.string().regex(METHOD_NAME, { message: 'must be an HTTP method such as GET' }).transform((m) => m.toUpperCase()))
  .min(1, { message: 'must list at least one method (leave methods out to serve every method)' })
  .max(32, { message: 'at most 32 methods' })
  .transform((ms) => [...new Set(ms)]);

/**
 * The strict route shape; unknown fields are refused by name.
 *
 * @example
 * routeSchema.parse({ path: '/api', host: 'Example.com', methods: ['get', 'POST'] });
 * // { path: '/api', host: 'example.com', methods: ['GET', 'POST'] }
 */
export const routeSchema = z.strictObject({
  path: z.string().regex(ROUTE_PATH, { message: 'must start with "/" and hold no spaces, "?" or "#"' }),
  host: z.string().regex(HOST_NAME, { message: 'must be a host name without a port' }).transform((h) => h.toLowerCase()).optional(),
  methods: routeMethodsSchema.optional(),
});

/** The `Allow` header value of a route's methods: HEAD added when GET is there. */
export function allowedMethods(methods: readonly string[]): string[] {
  const out = [...new Set(methods)];
  if (out.includes('GET') && !out.includes('HEAD')) out.splice(out.indexOf('GET') + 1, 0, 'HEAD');
  return out;
}

/** A route without `undefined` members, as stored and sent (`{ path, host?, methods? }`). */
export function plainRoute(r: Route): Route {
  return { path: r.path, ...(r.host === undefined ? {} : { host: r.host }), ...(r.methods === undefined ? {} : { methods: [...r.methods] }) };
}
