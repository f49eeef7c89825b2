/**
 * One outbound HTTP exchange as plain data: what a guest's `wasi:http/outgoing-handler` call
 * becomes, and what the HTTP switch answers. Plain data so it crosses the shard boundary
 * (a shard has no network; the daemon's switch makes every call).
 */

/** A wasi:http `error-code` as the jco glue lowers it (`{ tag: 'HTTP-request-denied' }`). */
export interface WasiHttpErrorCode {
  tag: string;
  val?: unknown;
}

export interface OutboundRequest {
  method: string;
  scheme: 'http' | 'https';
  /** `host[:port]` as the guest set it. */
  authority: string;
  pathWithQuery: string;
  /** Header values as latin1 strings. */
  headers: [string, string][];
  body: Uint8Array;
}

export type OutboundReply =
  | { ok: true; status: number; headers: [string, string][]; body: Uint8Array }
  | { ok: false; code: WasiHttpErrorCode; reason: string };

/** Where a VM's outbound calls go: the daemon's switch, directly or over the shard channel. */
export interface OutboundPort {
  /**
   * False when the app may call no one: every call is refused, so the VM needs no way to
   * wait for one (it boots from the pool and refuses at once; the call is still recorded).
   */
  readonly mayConnect: boolean;
  call(req: OutboundRequest): Promise<OutboundReply>;
}

/** One call as the request's log line and the metrics see it. */
export interface OutboundCallRecord {
  /** `scheme://host:port` of the destination. */
  destination: string;
  host: string;
  method: string;
  /** The response status, or the error-code tag the guest got. */
  status: number | string;
  /** The address connected to, when a connection was made. */
  address?: string;
  /** Why a call was refused or failed, for the operator. */
  reason?: string;
  bytesOut: number;
  bytesIn: number;
  ms: number;
}
