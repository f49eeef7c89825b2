/**
 * Volumes (the storage switch, docs/volumes.md): `POST /v1/volumes`, `GET /v1/volumes`,
 * `GET|PATCH|DELETE /v1/volumes/{name}`. Handlers only parse and validate into an action
 * (src/control/actions.ts). `DELETE ...?deleteData=true` is the only way a data-directory
 * volume's files are deleted.
 */
import { createVolumeSchema, updateVolumeSchema } from '../control/index.ts';
import { NanovisorError } from '../shared/errors.ts';
import { json, readJson, type ApiRequest, type Route } from './http.ts';

/** `deleteData`: absent, true/1 or false/0; anything else is refused by name. */
function deleteData(req: ApiRequest): boolean {
  const v = req.query.get('deleteData');
  if (v === null || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new NanovisorError('NV_API_BAD_REQUEST', `deleteData: must be true or false, not ${JSON.stringify(v)}`, {
    details: { problems: [{ field: 'deleteData', message: 'must be true or false' }] },
  });
}

export const volumeRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/volumes',
    auth: true,
    handler: async (req, ctx) => json(201, ctx.control.execute({ kind: 'CreateVolume', input: await readJson(req, ctx, createVolumeSchema) })),
  },
  { method: 'GET', path: '/v1/volumes', auth: true, handler: (_req, ctx) => json(200, ctx.control.execute({ kind: 'ListVolumes' })) },
  { method: 'GET', path: '/v1/volumes/{name}', auth: true, handler: (req, ctx) => json(200, ctx.control.execute({ kind: 'GetVolume', name: req.params['name']! })) },
  {
    method: 'PATCH',
    path: '/v1/volumes/{name}',
    auth: true,
    handler: async (req, ctx) => json(200, await ctx.control.perform({ kind: 'UpdateVolume', name: req.params['name']!, input: await readJson(req, ctx, updateVolumeSchema) })),
  },
  {
    method: 'DELETE',
    path: '/v1/volumes/{name}',
    auth: true,
    handler: (req, ctx) => json(200, ctx.control.execute({ kind: 'DeleteVolume', name: req.params['name']!, deleteData: deleteData(req) })),
  },
];
