/**
 * Versions: `POST /v1/apps/{name}/versions` (deploy: the new version becomes current),
 * `GET /v1/apps/{name}/versions`, `POST /v1/apps/{name}/rollback`. A deploy or rollback
 * answers once the version is served (its image loaded on the host shards); an image that
 * cannot serve is refused before anything changes.
 */
import { deploySchema, rollbackSchema } from '../control/index.ts';
import { json, readJson, type Route } from './http.ts';

export const versionRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/apps/{name}/versions',
    auth: true,
    handler: async (req, ctx) => {
      const { image } = await readJson(req, ctx, deploySchema);
      return json(201, await ctx.control.perform({ kind: 'DeployVersion', app: req.params['name']!, image }));
    },
  },
  { method: 'GET', path: '/v1/apps/{name}/versions', auth: true, handler: (req, ctx) => json(200, ctx.control.execute({ kind: 'ListVersions', app: req.params['name']! })) },
  {
    method: 'POST',
    path: '/v1/apps/{name}/rollback',
    auth: true,
    handler: async (req, ctx) => {
      const { version } = await readJson(req, ctx, rollbackSchema);
      return json(200, await ctx.control.perform({ kind: 'Rollback', app: req.params['name']!, ...(version === undefined ? {} : { version }) }));
    },
  },
];
