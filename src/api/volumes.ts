/**
 * Volumes (the storage switch, docs/volumes.md): `POST /v1/volumes`, `GET /v1/volumes`,
 * `GET|PATCH|DELETE /v1/volumes/{name}`. Handlers only parse and validate into an action
 * (src/control/actions.ts). `DELETE ...?deleteData=true` is the only way a data-directory
 * volume's files are deleted.
 */
import { createVolumeSchema, restoreSchema, snapshotSchema, updateVolumeSchema } from '../control/index.ts';
import { volumeName } from '../shared/volumes.ts';
import { NanovisorError } from '../shared/errors.ts';
import { json, readJson, readTar, type ApiRequest, type Route } from './http.ts';

/** `deleteData`: absent, true/1 or false/0; anything else is refused by name. */
function deleteData(req: ApiRequest): boolean {
  const v = req.query.get('deleteData');
  if (v === null || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new NanovisorError('NV_API_BAD_REQUEST', `deleteData: must be true or false, not ${JSON.stringify(v)}`, {
    details: { problems: [{ field: 'deleteData', message: 'must be true or false' }] },
  });
}

/** `?snapshot=NAME`, checked as a name. */
function snapshotParam(req: ApiRequest): string | undefined {
  const v = req.query.get('snapshot');
  if (v === null) return undefined;
  if (!volumeName.safeParse(v).success) {
    throw new NanovisorError('NV_API_BAD_REQUEST', `query: snapshot: ${JSON.stringify(v)} is not a snapshot name`, { details: { problems: [{ field: 'snapshot', message: 'not a snapshot name' }] } });
  }
  return v;
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
  {
    method: 'POST',
    path: '/v1/volumes/{name}/snapshots',
    auth: true,
    handler: async (req, ctx) => {
      const { name } = await readJson(req, ctx, snapshotSchema);
      return json(201, await ctx.control.perform({ kind: 'SnapshotVolume', name: req.params['name']!, ...(name === undefined ? {} : { snapshot: name }) }));
    },
  },
  { method: 'GET', path: '/v1/volumes/{name}/snapshots', auth: true, handler: (req, ctx) => json(200, ctx.control.execute({ kind: 'ListSnapshots', name: req.params['name']! })) },
  {
    method: 'DELETE',
    path: '/v1/volumes/{name}/snapshots/{snapshot}',
    auth: true,
    handler: (req, ctx) => json(200, ctx.control.execute({ kind: 'DeleteSnapshot', name: req.params['name']!, snapshot: req.params['snapshot']! })),
  },
  {
    method: 'POST',
    path: '/v1/volumes/{name}/restore',
    auth: true,
    handler: async (req, ctx) => {
      const { snapshot, into } = await readJson(req, ctx, restoreSchema);
      return json(200, await ctx.control.perform({ kind: 'RestoreVolume', name: req.params['name']!, snapshot, ...(into === undefined ? {} : { into }) }));
    },
  },
  {
    method: 'GET',
    path: '/v1/volumes/{name}/export',
    auth: true,
    handler: async (req, ctx) => {
      const snapshot = snapshotParam(req);
      const tar = await ctx.control.perform({ kind: 'ExportVolume', name: req.params['name']!, ...(snapshot === undefined ? {} : { snapshot }) });
      return { status: 200, headers: { 'content-type': 'application/x-tar' }, body: tar };
    },
  },
  {
    method: 'POST',
    path: '/v1/volumes/{name}/import',
    auth: true,
    handler: async (req, ctx) => json(200, await ctx.control.perform({ kind: 'ImportVolume', name: req.params['name']!, tar: await readTar(req, ctx) })),
  },
];
