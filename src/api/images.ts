/**
 * Images: `POST /v1/images` (an image export tar, as `nanovisor image export` writes),
 * `POST /v1/images/build` (a tar of an app directory, built here), `GET /v1/images`.
 */
import { NanovisorError } from '../shared/errors.ts';
import { json, saveTar, type Route } from './http.ts';

export const imageRoutes: Route[] = [
  {
    method: 'POST',
    path: '/v1/images',
    auth: true,
    // Streamed to a scratch file as it arrives, then imported from there.
    handler: async (req, ctx) => {
      const scratch = ctx.control.scratch('upload-');
      try {
        await saveTar(req, ctx, scratch.file('image.tar'));
        return json(201, ctx.control.execute({ kind: 'UploadImage', file: scratch.file('image.tar') }));
      } finally {
        scratch.remove();
      }
    },
  },
  {
    method: 'POST',
    path: '/v1/images/build',
    auth: true,
    handler: async (req, ctx) => {
      const tag = req.query.get('tag');
      if (tag === '') throw new NanovisorError('NV_API_BAD_REQUEST', 'query: tag: must not be empty');
      const scratch = ctx.control.scratch('upload-');
      try {
        await saveTar(req, ctx, scratch.file('app.tar'));
        return json(201, ctx.control.execute({ kind: 'BuildImage', file: scratch.file('app.tar'), ...(tag === null ? {} : { tag }) }));
      } finally {
        scratch.remove();
      }
    },
  },
  { method: 'GET', path: '/v1/images', auth: true, handler: (_req, ctx) => json(200, ctx.control.execute({ kind: 'ListImages' })) },
];
