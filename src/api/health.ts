/** `GET /healthz`: liveness, without a token. */
import { json, type Route } from './http.ts';

export const healthRoutes: Route[] = [
  { method: 'GET', path: '/healthz', auth: false, handler: (_req, ctx) => json(200, ctx.control.execute({ kind: 'GetHealth' })) },
];
