/**
 * The gateway: HTTP ingress that serves each request with a fresh Nano-VM over CGI 1.1.
 * Public surface of src/gateway.
 */
export {
  GATEWAY_INTERFACE, SERVER_SOFTWARE, cgiEnv, parseCgiResponse, parseHostHeader, routeMatches, scriptName, splitTarget,
} from './cgi.ts';
export type { CgiRequest, CgiResponse, ParseOptions } from './cgi.ts';
export { Admission, defaultAdmission, defaultApiAdmission, resolveAdmission } from './admission.ts';
export type { AdmissionLimits, AdmissionOptions, AdmissionStats, BodyReservation, RefusalReason } from './admission.ts';
export { AppSlots } from './concurrency.ts';
export { DEFAULT_MAX_BODY, DEFAULT_REQUEST_TIMEOUT_MS, compileRoutes, createGateway, matchRoute } from './server.ts';
export type { Gateway, GatewayApp, GatewayOptions, GatewayRoute, RequestRecord } from './server.ts';
export { AppLoader, gatewayApp } from './app-loader.ts';
export type { AppLoaderOptions, AppSpec, LoadedInstance, ServerConfig } from './app-loader.ts';
export type { Upstream } from './proxy.ts';
