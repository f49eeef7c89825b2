/**
 * Errors with stable codes. Callers match on `code`, never on `instanceof`.
 * Every code is listed here once, with its class and a hint that says what to do;
 * `docs/errors.md` documents each one (a test keeps the two in step).
 */

/** `user`: the input or the guest was at fault. `system`: the host or its environment was. */
export type ErrorClass = 'user' | 'system';

interface CodeInfo {
  readonly class: ErrorClass;
  /** Shown after the message at the CLI: what the user can do about it. */
  readonly hint: string;
}

export const ERROR_CODES = {
  NV_USAGE: { class: 'user', hint: 'Run `nanovisor help` for the commands and flags.' },
  NV_FILE_NOT_FOUND: { class: 'user', hint: 'Check the path.' },
  NV_MODULE_MALFORMED: { class: 'user', hint: 'The file is not a valid WebAssembly module; rebuild it for wasm32-wasi.' },
  NV_MODULE_NO_ENTRY: { class: 'user', hint: 'Export the entry function (`_start` for commands) or set `entry` in the manifest.' },
  NV_MODULE_UNKNOWN_IMPORTS: { class: 'user', hint: 'The module imports functions the nanovisor kernel does not provide; target wasm32-wasi (WASI preview1).' },
  NV_COMPONENT_UNKNOWN_IMPORTS: { class: 'user', hint: 'The component imports WASI 0.2 interfaces the nanovisor kernel does not provide (docs/components.md lists those it does).' },
  NV_COMPONENT_NO_WORLD: { class: 'user', hint: 'Build the component for the wasi:cli/command world (export wasi:cli/run) or the wasi:http/proxy world (export wasi:http/incoming-handler).' },
  NV_COMPONENT_MALFORMED: { class: 'user', hint: 'The file is not a valid WebAssembly component; rebuild it (docs/components.md).' },
  NV_MODULE_BAD_MEMORY: { class: 'user', hint: 'The module must define or import exactly one 32-bit memory.' },
  NV_APP_BROKEN: { class: 'system', hint: 'The app\'s current version cannot serve (its image is missing or corrupt in the store); the operator uploads that image again (same digest), or rolls back or deploys another version.' },
  NV_MODULE_INVALID: { class: 'user', hint: 'The module is valid WebAssembly but can never start: a data or element segment lies outside its memory or table; fix how it is built (linker flags, initial memory).' },
  NV_MANIFEST_INVALID: { class: 'user', hint: 'Fix the named field in the manifest; see docs/manifest.md.' },
  NV_BUILD_TOOL_MISSING: { class: 'user', hint: 'Install the compiler the message names (a nanovisor checkout installs them all with `bash scripts/install.sh`); see docs/getting-started.md.' },
  NV_SCRIPT_BUILD_FAILED: { class: 'user', hint: 'The JavaScript or TypeScript app did not build; the message points at the file and line (docs/javascript.md).' },
  NV_SCRIPT_NOT_COMPILED: { class: 'user', hint: 'Build JavaScript and TypeScript apps with the CLI (nanovisor build DIR or nanovisor deploy DIR); the daemon does not compile them.' },
  NV_BUILD_STEP_FAILED: { class: 'user', hint: 'The app\'s build step (build.command in nanovisor.json) failed; fix the error its output shows above.' },
  NV_IMAGE_NOT_FOUND: { class: 'user', hint: 'List images with `nanovisor image ls`.' },
  NV_IMAGE_AMBIGUOUS: { class: 'user', hint: 'Give more characters of the digest, or the full name.' },
  NV_IMAGE_DIGEST_MISMATCH: { class: 'user', hint: 'The image or blob is corrupt or was tampered with; rebuild or re-import it.' },
  NV_IMAGE_MALFORMED: { class: 'user', hint: 'The image is not a nanovisor OCI image; rebuild it with `nanovisor build`.' },
  NV_IMAGE_IN_USE: { class: 'user', hint: 'Remove the tags that refer to it first, or pass --force.' },
  NV_IMAGE_TAG_RESERVED: { class: 'user', hint: 'Tags under nanovisor.app. are the version pins of nanovisor serve; tag the image with another name.' },
  NV_IMAGE_PINNED: { class: 'user', hint: 'A deployed version runs on this image; delete the app (or remove only your own tag) first.' },
  NV_IMAGE_FILES_INVALID: { class: 'user', hint: 'Image files must be regular files or directories inside the app directory.' },
  NV_IMAGE_REF_INVALID: { class: 'user', hint: 'Name images NAME[:TAG], NAME in lower case ([a-z0-9][a-z0-9-_.]*); refer to them by that, a sha256: digest or 6+ hex digits of it.' },
  NV_MOUNT_INVALID: { class: 'user', hint: 'Use --dir HOST[::GUEST][:ro]; the host directory must exist.' },
  NV_NET_LISTEN: { class: 'user', hint: 'Pick a free address and port for --tcplisten (127.0.0.1:0 picks any free port).' },
  NV_GUEST_TIMEOUT: { class: 'user', hint: 'The guest ran past its wall-clock limit; raise --timeout or fix the guest.' },
  NV_GUEST_TRAP: { class: 'user', hint: 'The guest crashed (a WebAssembly trap); this is a bug in the guest program.' },
  NV_GUEST_OUTPUT_LIMIT: { class: 'user', hint: 'The guest wrote more output than allowed; raise --max-output.' },
  NV_GUEST_MEMORY_LIMIT: { class: 'user', hint: 'The module needs more memory at start than its limit; raise --memory (run) or limits.memoryBytes (manifest, app).' },
  NV_LIMIT_INVALID: { class: 'user', hint: 'Give limits as positive numbers within their maxima (docs/run.md lists them).' },
  NV_CGI_REQUEST_INVALID: { class: 'user', hint: 'The request path is not valid for the route (bad percent-encoding or a NUL byte); fix the URL.' },
  NV_CGI_RESPONSE_INVALID: { class: 'user', hint: 'The guest must print CGI headers ("Content-Type: text/plain", optional "Status: 404 Not Found"), an empty line, then the body; see docs/gateway.md.' },
  NV_GATEWAY_CONFIG_INVALID: { class: 'user', hint: 'Fix the named app or route in the gateway configuration; see docs/gateway.md.' },
  NV_GATEWAY_METHOD_NOT_ALLOWED: { class: 'user', hint: 'The route serves other HTTP methods only (the Allow header lists them); change the method or the route\'s methods.' },
  NV_GATEWAY_BAD_REQUEST: { class: 'user', hint: 'The request is not valid HTTP/1.1 (no version, two Host headers, no Host, or unparsable); fix the client.' },
  NV_GATEWAY_REQUEST_TIMEOUT: { class: 'user', hint: 'The client did not send its whole request in time (headersTimeoutMs / requestTimeoutMs, docs/gateway.md).' },
  NV_GATEWAY_HEADERS_TOO_LARGE: { class: 'user', hint: 'The request line and headers are over the gateway\'s maxHeaderBytes; send smaller headers.' },
  NV_GATEWAY_NO_ROUTE: { class: 'user', hint: 'No app is routed for this host and path; check the app\'s routes.' },
  NV_GATEWAY_BODY_TOO_LARGE: { class: 'user', hint: 'Send a smaller request body, or raise the app\'s body limit.' },
  NV_GUEST_EXIT: { class: 'user', hint: 'The guest exited with a non-zero code; its stderr (in the request log) says why.' },
  NV_HOST_FAULT: { class: 'system', hint: 'An internal error in the nanovisor host; rerun with --debug and report it.' },
  NV_HOST_CAPACITY: { class: 'system', hint: 'Every host shard is full (or hit its process limit of WebAssembly memories); release VMs, add shards or raise maxVmsPerShard.' },
  NV_HOST_SHARD_CRASHED: { class: 'system', hint: 'The host process running this VM died (killed, out of memory, or a host bug); it is restarted automatically; retry the request.' },
  NV_HOST_NO_JSPI: { class: 'system', hint: 'The asynchronous path (runWasmAsync, createAsync, serve) needs WebAssembly JS Promise Integration: run on Node 24 or newer.' },
  NV_GATEWAY_UPSTREAM: { class: 'user', hint: 'The app\'s server instance did not accept the connection or broke it (crashed, not listening on its declared port); see its logs.' },
  NV_INSTANCE_UNAVAILABLE: { class: 'system', hint: 'The app\'s server instance could not be started or made ready (see the daemon log); redeploy once it is fixed.' },
  NV_LINUX_UNAVAILABLE: { class: 'system', hint: 'runsc (gVisor) cannot run sandboxes on this host (the daemon logs why at start): install runsc (apt-get install runsc) and run the daemon as root.' },
  NV_HOST_CLOSED: { class: 'user', hint: 'The supervisor was closed; start a new one.' },
  NV_STORE_IO: { class: 'system', hint: 'The image store could not be read or written; check disk space and permissions.' },
  NV_GATEWAY_OVERLOADED: { class: 'system', hint: 'The app is at its concurrency limit and its queue is full; retry after the Retry-After delay, or raise limits.concurrency / limits.queue.' },
  NV_SERVE_DATA_DIR_IN_USE: { class: 'user', hint: 'Another nanovisor serve runs on this data directory; stop it (the message names its pid), or start this one with another --data.' },
  NV_GATEWAY_BUSY: { class: 'system', hint: 'The gateway holds as many request bodies as its budget allows; retry after the Retry-After delay, or raise its maxBufferedBodyBytes (docs/gateway.md, admission).' },
  NV_STATE_IO: { class: 'system', hint: 'The control-plane database could not be read or written; check disk space and permissions of the data directory.' },
  NV_SERVE_DATA_DIR_UNWRITABLE: { class: 'user', hint: 'serve keeps its state in the data directory; give --data (or NANOVISOR_HOME) a directory this user can create and write, or fix the permissions the message names.' },
  NV_SERVE_UNSAFE_MODE: { class: 'user', hint: 'A data directory or token file that every user may write is refused; check its contents, then chmod it as the message says.' },
  NV_STATE_DAMAGED: { class: 'system', hint: 'The state database <data>/nanovisor.db is empty, not a database or damaged; restore it from a backup, or move it aside to start with no apps.' },
  NV_API_UNAUTHORIZED: { class: 'user', hint: 'Send the token as "Authorization: Bearer <token>"; it is in <data>/token (or run `nanovisor token`).' },
  NV_API_THROTTLED: { class: 'user', hint: 'Too many wrong tokens came from this address; wait for the Retry-After delay, then use the token in <data>/token (`nanovisor token`).' },
  NV_UI_CSRF: { class: 'user', hint: 'A change made with a dashboard session must come from the dashboard itself (same origin, with its X-CSRF-Token); reload the page, or use the API token.' },
  NV_UI_NOT_BUILT: { class: 'system', hint: 'The dashboard assets are missing from dist/ui; run `npm run build` (npm install does it).' },
  NV_API_BAD_REQUEST: { class: 'user', hint: 'Fix the named field of the request; see docs/serve.md or GET /openapi.json.' },
  NV_API_NOT_FOUND: { class: 'user', hint: 'No such endpoint; GET /openapi.json lists them.' },
  NV_API_METHOD_NOT_ALLOWED: { class: 'user', hint: 'The endpoint exists but not for this method; GET /openapi.json lists the methods.' },
  NV_API_MEDIA_TYPE: { class: 'user', hint: 'Send JSON bodies as application/json and tar uploads as application/x-tar.' },
  NV_API_BODY_TOO_LARGE: { class: 'user', hint: 'The request body is larger than the API accepts; send a smaller image or raise the daemon\'s upload limit.' },
  NV_APP_NOT_FOUND: { class: 'user', hint: 'List apps with `nanovisor apps` (GET /v1/apps).' },
  NV_APP_EXISTS: { class: 'user', hint: 'Pick another name, or update the existing app (PATCH /v1/apps/{name}).' },
  NV_ROUTE_CONFLICT: { class: 'user', hint: 'Another app already serves this host and path; change one of the routes.' },
  NV_VERSION_NOT_FOUND: { class: 'user', hint: 'List the app\'s versions with `nanovisor versions <app>`.' },
  NV_APP_NO_VERSION: { class: 'user', hint: 'Deploy a version first (`nanovisor deploy`), or name a version that exists.' },
  NV_VOLUME_NOT_FOUND: { class: 'user', hint: 'List volumes with `nanovisor volume ls` (GET /v1/volumes).' },
  NV_VOLUME_EXISTS: { class: 'user', hint: 'Pick another name, or change the existing volume (`nanovisor volume resize`, PATCH /v1/volumes/{name}).' },
  NV_VOLUME_IN_USE: { class: 'user', hint: 'Apps still mount this volume (the message names them); detach it from them or delete them first.' },
  NV_VOLUME_NOT_EMPTY: { class: 'user', hint: 'The volume holds files; delete them with it only on purpose: `nanovisor volume rm NAME --delete-data` (DELETE /v1/volumes/{name}?deleteData=true).' },
  NV_VOLUME_PATH_INVALID: { class: 'user', hint: 'A volume\'s hostPath must be an absolute path inside a root the daemon allows (serve --volume-root DIR), used by no other volume.' },
  NV_VOLUME_UNKNOWN: { class: 'user', hint: 'The app or its image mounts a volume that does not exist; create it first (`nanovisor volume create NAME`).' },
  NV_API_UNREACHABLE: { class: 'system', hint: 'Is nanovisor serve running? Start it with `nanovisor serve`, or point the CLI at it with --server URL (or NANOVISOR_SERVER).' },
  NV_API_RESPONSE_INVALID: { class: 'system', hint: 'The server answered something that is not the nanovisor API; check --server, or that the CLI and the daemon are the same version.' },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface NanovisorErrorOptions {
  cause?: unknown;
  /** Structured facts for programs (e.g. the list of unknown imports). */
  details?: Record<string, unknown>;
}

/** The one error type nanovisor throws on purpose. */
export class NanovisorError extends Error {
  readonly code: ErrorCode;
  readonly class: ErrorClass;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: NanovisorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NanovisorError';
    this.code = code;
    this.class = ERROR_CODES[code].class;
    this.details = options.details ?? {};
  }

  get hint(): string {
    return ERROR_CODES[this.code].hint;
  }
}

/** True when `err` carries one of our codes (works across realms and copies). */
export function isNanovisorError(err: unknown, code?: ErrorCode): err is NanovisorError {
  if (typeof err !== 'object' || err === null) return false;
  const c = (err as { code?: unknown }).code;
  if (typeof c !== 'string' || !(c in ERROR_CODES)) return false;
  return code === undefined || c === code;
}
