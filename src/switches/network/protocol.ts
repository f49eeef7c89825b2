/**
 * The shared-memory protocol between the synchronous kernel (main thread) and the TCP
 * worker that owns the real sockets. One request at a time: the caller fills the control
 * words, flips STATE to REQUEST, pings the worker, and sleeps on STATE until DONE.
 */
export const Slot = { STATE: 0, OP: 1, CONN: 2, A: 3, B: 4, RESULT: 5, EXTRA: 6 } as const;
export const State = { IDLE: 0, REQUEST: 1, DONE: 2 } as const;
export const Op = { ACCEPT: 1, RECV: 2, SEND: 3, SHUTDOWN: 4, READABLE: 5, PENDING: 6, CLOSE: 7, CLOSE_LISTENER: 8 } as const;
/** Negative results. */
export const Fail = { AGAIN: -1, ERROR: -2 } as const;
export const CONTROL_BYTES = 32;
export const DATA_BYTES = 64 * 1024;

export interface WorkerInit {
  readonly shared: SharedArrayBuffer;
  readonly host: string;
  readonly port: number;
}
