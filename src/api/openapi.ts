/**
 * The OpenAPI 3.1 document served at `GET /openapi.json`, written by hand as data. A test
 * checks that every route the router knows is documented here (and nothing else); when an
 * endpoint or a shape changes, change it here in the same commit (docs/api-change-runbook.md).
 */
import { LIMIT_MAXIMA } from '../host/options.ts';
import { VOLUME_QUOTAS } from '../control/schemas.ts';

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const jsonBody = (schema: unknown, description: string) => ({ description, content: { 'application/json': { schema } } });
const err = (description: string) => jsonBody(ref('Error'), description);
const nameParam = { name: 'name', in: 'path', required: true, description: 'The app name.', schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } };
const authErrors = { 401: err('Missing or wrong token.'), 429: err('Too many wrong tokens from this address (NV_API_THROTTLED): retry after Retry-After seconds.') };
const appErrors = { ...authErrors, 404: err('No app with this name.') };
const volumeParam = { name: 'name', in: 'path', required: true, description: 'The volume name.', schema: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } };
const volumeErrors = { ...authErrors, 404: err('No volume with this name.') };
const quotaProps = {
  quotaBytes: { type: 'integer', minimum: 1, maximum: VOLUME_QUOTAS.maxBytes, description: `Most bytes the volume may hold (default ${VOLUME_QUOTAS.defaultBytes}, 1 GiB; at most 1 PiB).` },
  quotaFiles: { type: 'integer', minimum: 1, maximum: VOLUME_QUOTAS.maxFiles, description: `Most entries (files, directories, symlinks) it may hold (default ${VOLUME_QUOTAS.defaultFiles}).` },
  access: { type: 'string', enum: ['shared', 'exclusive'], description: 'shared (default): VMs mount it at once. exclusive: VMs that mount it are admitted one at a time (docs/volumes.md).' },
};
const appVolumes = {
  type: 'array', maxItems: 16, description: 'Volumes every VM of the app mounts; they win over the image manifest\'s mounts[].volume at the same guest path. An unknown volume is 400 NV_VOLUME_UNKNOWN.',
  items: {
    type: 'object', additionalProperties: false, required: ['volume', 'guest'],
    properties: {
      volume: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
      guest: { type: 'string', description: 'Absolute guest path, not "/".' },
      readonly: { type: 'boolean', description: 'Default false.' },
    },
  },
};

const limitProps = {
  memoryBytes: { type: 'integer', minimum: 1, maximum: LIMIT_MAXIMA.memoryBytes, description: 'Guest memory limit (default: the image manifest\'s; at most 4 GiB).' },
  timeoutMs: { type: 'integer', minimum: 1, maximum: LIMIT_MAXIMA.timeoutMs, description: 'Wall-clock limit per request (default: the image manifest\'s; at most 15 min); 504 beyond it.' },
  concurrency: { type: 'integer', minimum: 1, maximum: LIMIT_MAXIMA.concurrency, description: 'Requests whose VMs run at once (default 64).' },
  queue: { type: 'integer', minimum: 0, maximum: LIMIT_MAXIMA.queue, description: 'Requests that may wait for a slot (default 256); beyond it 503 with Retry-After.' },
  maxBodyBytes: { type: 'integer', minimum: 0, maximum: LIMIT_MAXIMA.maxBodyBytes, description: 'Largest request body (default 1 MiB; at most 256 MiB); 413 beyond it.' },
};
const nullable = (s: Record<string, unknown>) => ({ ...s, type: [s['type'], 'null'] });

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'nanovisor control plane',
    version: '1',
    description: 'Apps, versions, images, volumes and tokens of a `nanovisor serve` daemon. Every endpoint but /healthz and /openapi.json needs `Authorization: Bearer <token>` (the token is in <data>/token). Errors are `{ "error": { "code", "message", "requestId" } }`; see docs/serve.md and docs/errors.md.',
  },
  components: {
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message', 'requestId'],
            properties: {
              code: { type: 'string', description: 'Stable NV_* code (docs/errors.md).' },
              message: { type: 'string' },
              requestId: { type: 'string' },
              problems: { type: 'array', description: 'For 400: one entry per bad field.', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
            },
          },
        },
      },
      Route: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: {
          path: { type: 'string', pattern: '^/[^\\s?#]*$', description: 'Path prefix: /api serves /api and /api/...' },
          host: { type: 'string', description: 'Host name without port; without it, any host.' },
          methods: {
            type: 'array', minItems: 1, maxItems: 32, uniqueItems: true,
            items: { type: 'string', pattern: '^[A-Za-z][A-Za-z-]{0,31}$' },
            description: 'HTTP methods the route serves, upper-cased (HEAD whenever GET is); another method gets 405 with Allow. Without it, every method.',
          },
        },
      },
      Env: { type: 'object', additionalProperties: { type: 'string' }, propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' } },
      Limits: { type: 'object', additionalProperties: false, properties: limitProps },
      AppCreate: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'routes'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
          routes: { type: 'array', minItems: 1, maxItems: 64, items: ref('Route') },
          env: ref('Env'),
          secrets: { ...ref('Env'), description: 'Write-only: given to the guest as env, never returned.' },
          limits: ref('Limits'),
          volumes: appVolumes,
          outbound: ref('Outbound'),
        },
      },
      Outbound: {
        type: 'object',
        additionalProperties: false,
        description: 'Who the app may call over HTTP, overriding its manifest (docs/manifest.md#outbound).',
        properties: {
          allow: { type: 'array', maxItems: 64, items: { type: 'string', description: 'SCHEME://HOST[:PORT], e.g. https://api.example.com, http://*.internal:8080' } },
          maxCalls: { type: 'integer', minimum: 1, maximum: 1000 },
          maxBytes: { type: 'integer', minimum: 1, maximum: 1073741824 },
        },
      },
      AppUpdate: {
        type: 'object',
        additionalProperties: false,
        description: 'routes and env replace the old ones; secrets and limits merge by key, null removes a secret or resets a limit.',
        properties: {
          routes: { type: 'array', minItems: 1, maxItems: 64, items: ref('Route') },
          env: ref('Env'),
          volumes: appVolumes,
          outbound: { oneOf: [ref('Outbound'), { type: 'null' }], description: "Replaces the app's outbound; null: back to the manifest's." },
          secrets: { type: 'object', additionalProperties: { type: ['string', 'null'] } },
          limits: {
            type: 'object',
            additionalProperties: false,
            properties: Object.fromEntries(Object.entries(limitProps).map(([k, v]) => [k, nullable(v)])),
          },
        },
      },
      App: {
        type: 'object',
        required: ['name', 'routes', 'env', 'secrets', 'limits', 'volumes', 'status', 'currentVersion', 'currentDigest', 'created', 'updated'],
        properties: {
          name: { type: 'string' },
          routes: { type: 'array', items: ref('Route') },
          env: ref('Env'),
          secrets: { type: 'array', items: { type: 'string' }, description: 'Names only.' },
          limits: ref('Limits'),
          volumes: appVolumes,
          outbound: {
            type: ['object', 'null'],
            description: "The app's own outbound HTTP policy, overriding its manifest's (null: the manifest's). Set with POST/PATCH `outbound`; PATCH `outbound: null` goes back to the manifest's.",
            properties: { allow: { type: 'array', items: { type: 'string' }, description: 'SCHEME://HOST[:PORT] patterns (docs/manifest.md#outbound)' }, maxCalls: { type: 'integer' }, maxBytes: { type: 'integer' } },
          },
          status: { enum: ['serving', 'broken', 'undeployed'], description: 'broken: the current version\'s image was found missing or corrupt; its routes answer 503 NV_APP_BROKEN (see problem).' },
          problem: { type: 'string', description: 'Why a broken app cannot serve, and how to repair it.' },
          instance: {
            type: 'object', description: 'A server app\'s instance (manifest `server`); with `server.idleTimeoutMs` it sleeps when idle and wakes on the next request.',
            required: ['state', 'sleeps', 'wakes', 'lastWakeMs', 'buffered', 'lastRequest'],
            properties: {
              state: { enum: ['awake', 'sleeping', 'asleep', 'waking'] },
              sleeps: { type: 'integer' }, wakes: { type: 'integer' },
              lastWakeMs: { type: ['number', 'null'], description: 'From the request that woke it to the instance accepting it.' },
              buffered: { type: 'integer', description: 'Requests waiting for the wake now.' },
              lastRequest: { type: ['string', 'null'], format: 'date-time' },
            },
          },
          currentVersion: { type: ['integer', 'null'] },
          currentDigest: { type: ['string', 'null'] },
          created: { type: 'string', format: 'date-time' },
          updated: { type: 'string', format: 'date-time' },
        },
      },
      Deploy: { type: 'object', additionalProperties: false, required: ['image'], properties: { image: { type: 'string', description: 'Digest, 6+ hex digits of one, or NAME[:TAG].' } } },
      Deployed: {
        type: 'object',
        required: ['app', 'version', 'digest'],
        properties: { app: { type: 'string' }, version: { type: 'integer' }, digest: { type: 'string' } },
      },
      Rollback: { type: 'object', additionalProperties: false, properties: { version: { type: 'integer', minimum: 1, description: 'Default: the version before the current one.' } } },
      Version: {
        type: 'object',
        description: 'A version is an image and its config: a rollback restores both.',
        required: ['app', 'version', 'digest', 'created', 'current', 'image', 'config', 'changes'],
        properties: {
          app: { type: 'string' },
          version: { type: 'integer' },
          digest: { type: 'string' },
          created: { type: 'string', format: 'date-time' },
          current: { type: 'boolean' },
          image: { type: 'object', properties: { name: { type: 'string' }, version: { type: 'string' } } },
          config: {
            type: 'object',
            description: 'The config this version serves with; secrets by name only.',
            properties: {
              routes: { type: 'array', items: { type: 'object' } },
              env: { type: 'object', additionalProperties: { type: 'string' } },
              secrets: { type: 'array', items: { type: 'string' } },
              limits: { type: 'object', additionalProperties: { type: 'integer' } },
              volumes: { type: 'array', items: { type: 'object' } },
              outbound: { type: ['object', 'null'], description: "The app's own outbound policy ({ allow, maxCalls, maxBytes }); null: the manifest's." },
            },
          },
          changes: { type: 'array', items: { type: 'string' }, description: 'What changed from the version before: image, routes, env.NAME (with values), secrets.NAME (never values), limits.NAME, volumes. Empty for the first.' },
          configFromMigration: { const: true, description: 'The config was filled in by the schema upgrade from the app\'s config of then (the version was deployed before versions recorded their config).' },
        },
      },
      Image: {
        type: 'object',
        required: ['digest', 'name', 'tags', 'size', 'created'],
        properties: { digest: { type: 'string' }, name: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } }, size: { type: 'integer' }, created: { type: 'string' } },
      },
      VolumeCreate: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
          ...quotaProps,
          hostPath: { type: 'string', description: 'An operator directory (made if missing, its parent must exist) inside a root the daemon allows (serve --volume-root); default <data>/volumes/<name>.' },
        },
      },
      VolumeUpdate: { type: 'object', additionalProperties: false, properties: quotaProps, description: 'Resize (quotas) or change the access mode; fields left out stay.' },
      Volume: {
        type: 'object',
        required: ['name', 'access', 'quotaBytes', 'quotaFiles', 'location', 'usedBytes', 'usedFiles', 'apps', 'created', 'updated'],
        properties: {
          name: { type: 'string' },
          ...quotaProps,
          location: { type: 'string', enum: ['data', 'host'] },
          hostPath: { type: 'string', description: 'Only for location host.' },
          usedBytes: { type: 'integer' },
          usedFiles: { type: 'integer' },
          apps: { type: 'array', items: { type: 'string' }, description: 'Apps that mount it (config or current version\'s manifest).' },
          created: { type: 'string', format: 'date-time' },
          updated: { type: 'string', format: 'date-time' },
        },
      },
      Snapshot: {
        type: 'object',
        required: ['volume', 'name', 'bytes', 'files', 'created'],
        properties: { volume: { type: 'string' }, name: { type: 'string' }, bytes: { type: 'integer' }, files: { type: 'integer' }, created: { type: 'string', format: 'date-time' } },
      },
      LogEntry: {
        type: 'object',
        required: ['seq', 'time', 'app', 'requestId', 'method', 'url', 'status', 'durationMs'],
        properties: {
          seq: { type: 'integer' }, time: { type: 'string' }, app: { type: 'string' }, requestId: { type: 'string' }, method: { type: 'string' }, url: { type: 'string' },
          status: { type: 'integer' }, durationMs: { type: 'number' }, vmMs: { type: 'number' }, outcome: { type: 'string' }, exitCode: { type: 'integer' },
          errorCode: { type: 'string' }, errorMessage: { type: 'string' }, stderr: { type: 'string' }, stderrTruncated: { type: 'integer' },
          outbound: {
            type: 'array',
            description: "The guest's outbound HTTP calls through the switch, in order (docs/components.md#outbound-http).",
            items: {
              type: 'object',
              required: ['destination', 'host', 'method', 'status', 'bytesOut', 'bytesIn', 'ms'],
              properties: {
                destination: { type: 'string' }, host: { type: 'string' }, method: { type: 'string' },
                status: { oneOf: [{ type: 'integer' }, { type: 'string' }], description: 'the response status, or the wasi:http error-code of a refused or failed call' },
                address: { type: 'string' }, reason: { type: 'string' }, bytesOut: { type: 'integer' }, bytesIn: { type: 'integer' }, ms: { type: 'number' },
              },
            },
          },
        },
      },
    },
  },
  security: [{ bearer: [] }],
  paths: {
    '/healthz': {
      get: {
        summary: 'Liveness (no token).',
        security: [],
        responses: { 200: jsonBody({ type: 'object', properties: { status: { const: 'ok' }, version: { type: 'string' }, gateway: { type: 'string', description: 'URL the gateway listens on' } } }, 'Up.') },
      },
    },
    '/openapi.json': {
      get: { summary: 'This document (no token).', security: [], responses: { 200: jsonBody({ type: 'object' }, 'The OpenAPI document.') } },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics (text format 0.0.4): requests by app and status, latency histograms, VM boots, live VMs, pool use, queue depth, deploys.',
        responses: { 200: { description: 'Metrics.', content: { 'text/plain': { schema: { type: 'string' } } } }, ...authErrors },
      },
    },
    '/v1/apps': {
      get: { summary: 'List apps.', responses: { 200: jsonBody({ type: 'array', items: ref('App') }, 'Apps by name.'), ...authErrors } },
      post: {
        summary: 'Create an app (not served until a version is deployed).',
        requestBody: { required: true, content: { 'application/json': { schema: ref('AppCreate') } } },
        responses: { 201: jsonBody(ref('App'), 'Created.'), 400: err('Malformed body; the message names each field.'), ...authErrors, 409: err('Name taken or route already served by another app.') },
      },
    },
    '/v1/apps/{name}': {
      parameters: [nameParam],
      get: { summary: 'One app.', responses: { 200: jsonBody(ref('App'), 'The app.'), ...appErrors } },
      patch: {
        summary: 'Change routes, env, secrets or limits; served at once.',
        requestBody: { required: true, content: { 'application/json': { schema: ref('AppUpdate') } } },
        responses: { 200: jsonBody(ref('App'), 'Updated.'), 400: err('Malformed body.'), ...appErrors, 409: err('Route conflict.') },
      },
      delete: { summary: 'Delete an app, its versions and secrets.', responses: { 204: { description: 'Deleted.' }, ...appErrors } },
    },
    '/v1/apps/{name}/versions': {
      parameters: [nameParam],
      get: { summary: 'The app\'s versions, newest first.', responses: { 200: jsonBody({ type: 'array', items: ref('Version') }, 'Versions.'), ...appErrors } },
      post: {
        summary: 'Deploy an image as the next version and make it current (atomic; requests in flight finish on their version).',
        requestBody: { required: true, content: { 'application/json': { schema: ref('Deploy') } } },
        responses: { 201: jsonBody(ref('Deployed'), 'Deployed.'), 400: err('Malformed body, or the image cannot serve.'), ...appErrors },
      },
    },
    '/v1/apps/{name}/rollback': {
      parameters: [nameParam],
      post: {
        summary: 'Make an earlier version current (default: the one before the current).',
        requestBody: { required: false, content: { 'application/json': { schema: ref('Rollback') } } },
        responses: { 200: jsonBody(ref('Deployed'), 'Rolled back.'), 400: err('Malformed body.'), ...appErrors, 409: err('No earlier version.') },
      },
    },
    '/v1/apps/{name}/logs': {
      parameters: [
        nameParam,
        { name: 'since', in: 'query', description: 'Entries after this seq (default: the newest 1000).', schema: { type: 'integer', minimum: 0 } },
        { name: 'follow', in: 'query', description: '1: keep the answer open and stream new entries.', schema: { type: 'string', enum: ['1', 'true', 'yes', '0'] } },
      ],
      get: {
        summary: 'Request log as NDJSON: one LogEntry per line (the guest\'s stderr with the request id).',
        responses: { 200: { description: 'Entries.', content: { 'application/x-ndjson': { schema: ref('LogEntry') } } }, ...appErrors },
      },
    },
    '/v1/images': {
      get: { summary: 'List images.', responses: { 200: jsonBody({ type: 'array', items: ref('Image') }, 'Images, newest first.'), ...authErrors } },
      post: {
        summary: 'Upload an image export (the tar `nanovisor image export` writes); every digest is verified.',
        requestBody: { required: true, content: { 'application/x-tar': { schema: { type: 'string', contentMediaType: 'application/x-tar' } } } },
        responses: {
          201: jsonBody({ type: 'object', properties: { digest: { type: 'string' }, tags: { type: 'array', items: { type: 'string' } } } }, 'Stored.'),
          400: err('Not a valid image export.'), ...authErrors, 413: err('Too large.'), 415: err('Not application/x-tar.'),
        },
      },
    },
    '/v1/images/build': {
      post: {
        summary: 'Build an image from a tar of an app directory (nanovisor.json, module, files at its top level).',
        parameters: [{ name: 'tag', in: 'query', description: 'NAME[:TAG] instead of the manifest\'s name:version.', schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/x-tar': { schema: { type: 'string', contentMediaType: 'application/x-tar' } } } },
        responses: {
          201: jsonBody({ type: 'object', properties: { digest: { type: 'string' }, name: { type: 'string' }, tag: { type: 'string' } } }, 'Built.'),
          400: err('Bad tar, manifest or module.'), ...authErrors, 413: err('Too large.'), 415: err('Not application/x-tar.'),
        },
      },
    },
    '/v1/volumes': {
      get: { summary: 'List volumes.', responses: { 200: jsonBody({ type: 'array', items: ref('Volume') }, 'Volumes by name.'), ...authErrors } },
      post: {
        summary: 'Create a volume (in the data directory, or at an operator hostPath).',
        requestBody: { required: true, content: { 'application/json': { schema: ref('VolumeCreate') } } },
        responses: { 201: jsonBody(ref('Volume'), 'Created.'), 400: err('Malformed body or hostPath (the message names the field).'), ...authErrors, 409: err('Name taken.') },
      },
    },
    '/v1/volumes/{name}': {
      parameters: [volumeParam],
      get: { summary: 'One volume, with what it holds and the apps that mount it.', responses: { 200: jsonBody(ref('Volume'), 'The volume.'), ...volumeErrors } },
      patch: {
        summary: 'Resize (quotas) or change the access mode; served at once.',
        requestBody: { required: true, content: { 'application/json': { schema: ref('VolumeUpdate') } } },
        responses: { 200: jsonBody(ref('Volume'), 'Updated.'), 400: err('Malformed body.'), ...volumeErrors },
      },
      delete: {
        summary: 'Delete a volume no app mounts. A data-directory volume holding files needs deleteData=true; an operator hostPath keeps its files.',
        parameters: [{ name: 'deleteData', in: 'query', description: 'true: delete the files of a data-directory volume with it.', schema: { type: 'string', enum: ['true', 'false', '1', '0'] } }],
        responses: {
          200: jsonBody({ type: 'object', required: ['deleted', 'dataDeleted'], properties: { deleted: { type: 'string' }, dataDeleted: { type: 'boolean' }, keptAt: { type: 'string' } } }, 'Deleted.'),
          400: err('Bad deleteData.'), ...volumeErrors, 409: err('Mounted by apps (named), or holds files and deleteData is not true.'),
        },
      },
    },
    '/v1/volumes/{name}/snapshots': {
      parameters: [volumeParam],
      get: { summary: 'The volume\'s snapshots, oldest first.', responses: { 200: jsonBody({ type: 'array', items: ref('Snapshot') }, 'Snapshots.'), ...authErrors } },
      post: {
        summary: 'Take a point-in-time copy (reflinks where the filesystem can, a copy otherwise); an exclusive volume\'s is taken between two of its VMs.',
        requestBody: { required: false, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$', description: 'Default: from the time, s<YYYYMMDDhhmmssmmm>.' } } } } } },
        responses: { 201: jsonBody(ref('Snapshot'), 'Taken.'), 400: err('Malformed body.'), ...volumeErrors, 409: err('A snapshot of that name exists.') },
      },
    },
    '/v1/volumes/{name}/snapshots/{snapshot}': {
      parameters: [volumeParam, { name: 'snapshot', in: 'path', required: true, schema: { type: 'string' } }],
      delete: { summary: 'Delete a snapshot.', responses: { 200: jsonBody({ type: 'object', properties: { deleted: { type: 'string' } } }, 'Deleted.'), ...volumeErrors } },
    },
    '/v1/volumes/{name}/restore': {
      parameters: [volumeParam],
      post: {
        summary: 'Restore a snapshot of the volume: over it (its directory swapped at once), or into a new volume `into` (same quotas and access).',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', additionalProperties: false, required: ['snapshot'], properties: { snapshot: { type: 'string' }, into: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' } } } } } },
        responses: { 200: jsonBody(ref('Volume'), 'The restored volume.'), 400: err('Malformed body.'), ...volumeErrors, 409: err('`into` exists.') },
      },
    },
    '/v1/volumes/{name}/export': {
      parameters: [volumeParam, { name: 'snapshot', in: 'query', description: 'Export this snapshot instead of the volume as it is now.', schema: { type: 'string' } }],
      get: { summary: 'The volume (or a snapshot) as a tar: files, directories, symlinks.', responses: { 200: { description: 'The tar.', content: { 'application/x-tar': { schema: { type: 'string', contentMediaType: 'application/x-tar' } } } }, ...volumeErrors } },
    },
    '/v1/volumes/{name}/import': {
      parameters: [volumeParam],
      post: {
        summary: 'Fill an empty volume from a tar as export writes it (read strictly; within its quotas).',
        requestBody: { required: true, content: { 'application/x-tar': { schema: { type: 'string', contentMediaType: 'application/x-tar' } } } },
        responses: { 200: jsonBody(ref('Volume'), 'Imported.'), 400: err('Not a volume export, or over the quotas.'), ...volumeErrors, 409: err('The volume holds files.'), 413: err('Too large.'), 415: err('Not application/x-tar.') },
      },
    },
    '/v1/tokens/rotate': {
      post: {
        summary: 'Replace the API token; the old one stops working at once. <data>/token is rewritten.',
        responses: { 200: jsonBody({ type: 'object', properties: { token: { type: 'string' } } }, 'The new token (shown once).'), ...authErrors },
      },
    },
  },
} as const;
