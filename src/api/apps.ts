/**
 * Apps: `POST /v1/apps`, `GET /v1/apps`, `GET|PATCH|DELETE /v1/apps/{name}`. Handlers only
 * parse and validate into an action (src/control/actions.ts).
 */
import { createAppSchema, updateAppSchema } from '../control/index.ts';
import { json, readJson, type Route } from './http.ts';

export const appRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/apps',
    auth: true,
    handler: async (req, ctx) => json(201, ctx.control.execute({ kind: 'CreateApp', input: await readJson(req, ctx, createAppSchema) })),
  },
  { method: 'GET', path: '/v1/apps', auth: true, handler: (_req, ctx) => json(200, ctx.control.execute({ kind: 'ListApps' })) },
  { method: 'GET', path: '/v1/apps/{name}', auth: true, handler: (req, ctx) => json(200, ctx.control.execute({ kind: 'GetApp', name: req.params['name']! })) },
  {
    method: 'PATCH',
    path: '/v1/apps/{name}',
    auth: true,
    handler: async (req, ctx) => json(200, await ctx.control.perform({ kind: 'UpdateApp', name: req.params['name']!, input: await readJson(req, ctx, updateAppSchema) })),
  },
  {
    method: 'DELETE',
    path: '/v1/apps/{name}',
    auth: true,
    handler: async (req, ctx) => {
      await ctx.control.perform({ kind: 'DeleteApp', name: req.params['name']! });
      return { status: 204 };
    },
  },
];
