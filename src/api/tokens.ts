/** Tokens: `POST /v1/tokens/rotate` -> `{ token }`; the old token stops working at once. */
import { json, type Route } from './http.ts';

export const tokenRoutes: Route[] = [
  { method: 'POST', path: '/v1/tokens/rotate', auth: true, session: false, handler: (_req, ctx) => json(200, ctx.control.execute({ kind: 'RotateToken' })) },
];
