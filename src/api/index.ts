/**
 * The REST API of the control plane: one file per resource, each handler only parsing and
 * validating a request into a control-plane action. Public surface of src/api; see
 * docs/serve.md and the OpenAPI document (`GET /openapi.json`, src/api/openapi.ts).
 */
export { DEFAULT_MAX_JSON_BYTES, DEFAULT_MAX_UPLOAD_BYTES, ROUTES, createApi } from './server.ts';
export type { Api, ApiInput, ApiOptions } from './server.ts';
export type { ApiContext, ApiRequest, ApiResponse, Route } from './http.ts';
export { OPENAPI } from './openapi.ts';
export { AUTH_FAILURE_BURST, AUTH_FAILURE_REFILL_MS, AUTH_THROTTLE_ADDRESSES, AuthThrottle } from './auth-throttle.ts';
