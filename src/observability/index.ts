/**
 * Observability: Prometheus metrics (`GET /metrics`), per-app request logs that keep the
 * guest's stderr with the request id (`GET /v1/apps/{name}/logs`, `nanovisor logs`), and the
 * daemon's structured JSON logs. This file is the folder's whole public surface; see
 * docs/observability.md.
 *
 * @example
 * import { NanovisorMetrics, RequestLog, createLogger } from '../observability/index.ts';
 * const metrics = new NanovisorMetrics({ vmsLive: () => host.live });
 * const logs = new RequestLog({ dir: join(home, 'logs'), secretsOf });
 * const gw = createGateway({ apps, onRequest: (r) => { metrics.recordRequest(r); logs.append(r); } });
 */
export {
  Counter, Gauge, Histogram, Registry, NanovisorMetrics, defaultMetrics, recordRequest, renderMetrics,
  escapeHelp, escapeLabelValue, formatValue, METRICS_CONTENT_TYPE, REQUEST_DURATION_BUCKETS,
  type GaugeSample, type Labels, type MetricsSources,
} from './metrics.ts';
export {
  RequestLog, redact, capUtf8, REDACTED,
  DEFAULT_MAX_ENTRIES, DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_MEMORY_BYTES, DEFAULT_MAX_ROTATED_FILES, DEFAULT_MAX_STDERR_BYTES, DEFAULT_READ_LIMIT,
  type AppendContext, type LogEntry, type RequestLogOptions,
} from './request-log.ts';
export { Logger, createLogger, silentLogger, type LogFields, type LogLevel, type LogSink, type LoggerOptions } from './logger.ts';
export { DEFAULT_SERIES_INTERVAL_MS, DEFAULT_SERIES_POINTS, RESERVOIR_SIZE, TrafficSeries, quantile, type SeriesOptions, type SeriesPoint } from './series.ts';
