/** `GET /metrics`: the Prometheus text exposition (src/observability/metrics.ts). */
import { METRICS_CONTENT_TYPE } from '../observability/index.ts';
import type { Route } from './http.ts';

export const metricsRoutes: Route[] = [
  {
    method: 'GET',
    path: '/metrics',
    auth: true,
    handler: async (_req, ctx) => ({ status: 200, headers: { 'content-type': METRICS_CONTENT_TYPE }, body: await ctx.control.perform({ kind: 'GetMetrics' }) }),
  },
];
