/**
 * Scale to zero for a server instance of either driver: after `idleTimeoutMs` without a
 * connection open, the instance is put to sleep (linux: checkpointed; wasi: thrown away);
 * the next connection waits — its request is already buffered whole by the gateway, and the
 * app's concurrency + queue bound how many wait — while the instance wakes (restored from
 * its checkpoint, or booted), then goes to it. A wake that does not finish within
 * `wakeTimeoutMs`, or fails, gets NV_INSTANCE_UNAVAILABLE (the gateway's 503) for the
 * requests waiting on it; the instance stays asleep and the next request tries again.
 * Every server instance is held through one, so the API and metrics see one view of each
 * (an instance without an idle timeout just stays awake).
 */
import type { Socket } from 'node:net';
import { NanovisorError } from '../shared/errors.ts';
import type { Upstream } from './proxy.ts';

/**
 * An instance that can sleep and wake (the driver's part): reached by connections (linux)
 * or by exchanges of whole requests (wasi, src/host/server).
 */
export type SleepableInstance = Upstream & {
  /** Puts the instance to sleep (no connection is open); rejects when it cannot (it serves on). */
  sleep(): Promise<void>;
  /** Brings it back; resolves once it accepts connections again. */
  wake(): Promise<void>;
  stop(): Promise<void>;
};

type Exchange = NonNullable<Upstream['exchange']>;


/** `awake` serves; `sleeping` is being put to sleep; `asleep` holds no sandbox or VM; `waking` is coming back. */
export type InstanceState = 'awake' | 'sleeping' | 'asleep' | 'waking';

/** What the API and metrics show of an instance. */
export interface InstanceView {
  state: InstanceState;
  /** Completed sleeps and wakes since it started. */
  sleeps: number;
  wakes: number;
  /** Duration of the last wake (from the request that asked for it to the instance accepting), ms. */
  lastWakeMs: number | null;
  /** Connections waiting for a wake now. */
  buffered: number;
  /** When the last connection was opened (ISO 8601), null before the first. */
  lastRequest: string | null;
}

export interface ScaleToZeroOptions {
  /** Sleep after this long without an open connection; undefined: it stays awake (the view is still kept). */
  idleTimeoutMs?: number | undefined;
  /** Longest a request waits for a wake. Default 10 s. */
  wakeTimeoutMs?: number;
  /** Told of each sleep and wake (and their failures). */
  onEvent?: (e: { event: 'sleep' | 'wake'; ms: number; error?: string }) => void;
}

export class ScaleToZero {
  readonly #inner: SleepableInstance;
  readonly #o: ScaleToZeroOptions;
  #state: InstanceState = 'awake';
  #open = 0;
  #timer: NodeJS.Timeout | undefined;
  /** The sleep or wake under way. */
  #transition: Promise<void> | undefined;
  #stopped = false;
  #view = { sleeps: 0, wakes: 0, lastWakeMs: null as number | null, buffered: 0, lastRequest: null as string | null };

  /** Set when the instance takes exchanges (wasi): one request in, its response out. */
  readonly exchange: Exchange | undefined;

  constructor(inner: SleepableInstance, options: ScaleToZeroOptions) {
    this.#inner = inner;
    this.#o = options;
    const exchange = inner.exchange;
    this.exchange = exchange === undefined ? undefined : (request, o) => this.#exchange(exchange, request, o);
    this.#arm();
  }

  async #exchange(exchange: Exchange, request: Uint8Array, o: Parameters<Exchange>[1]): Promise<Uint8Array> {
    this.#view.lastRequest = new Date().toISOString();
    this.#open++;
    this.#disarm();
    try {
      if (this.#state !== 'awake') await this.#awaitAwake();
      return await exchange(request, o);
    } finally {
      this.#closed();
    }
  }

  get view(): InstanceView {
    return { state: this.#state, ...this.#view };
  }

  async connect(): Promise<Socket> {
    const inner = this.#inner;
    if (inner.connect === undefined) throw new NanovisorError('NV_HOST_FAULT', 'this server instance takes exchanges, not connections');
    this.#view.lastRequest = new Date().toISOString();
    this.#open++;
    this.#disarm();
    let socket: Socket;
    try {
      if (this.#state !== 'awake') await this.#awaitAwake();
      socket = await inner.connect();
    } catch (e) {
      this.#closed();
      throw e;
    }
    socket.once('close', () => this.#closed());
    return socket;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#disarm();
    await this.#transition?.catch(() => {});
    await this.#inner.stop();
  }

  #closed(): void {
    this.#open--;
    this.#arm();
  }

  #arm(): void {
    if (this.#stopped || this.#open > 0 || this.#state !== 'awake' || this.#o.idleTimeoutMs === undefined) return;
    this.#disarm();
    this.#timer = setTimeout(() => this.#sleep(), this.#o.idleTimeoutMs);
    this.#timer.unref();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sleep(): void {
    this.#timer = undefined;
    if (this.#stopped || this.#open > 0 || this.#state !== 'awake') return;
    this.#state = 'sleeping';
    const started = performance.now();
    this.#transition = this.#inner.sleep().then(() => {
      this.#state = 'asleep';
      this.#view.sleeps++;
      this.#o.onEvent?.({ event: 'sleep', ms: performance.now() - started });
    }, (e: unknown) => {
      // Not put to sleep: it is still running and serves on.
      this.#state = 'awake';
      this.#o.onEvent?.({ event: 'sleep', ms: performance.now() - started, error: (e as Error).message });
      this.#arm();
    }).finally(() => {
      this.#transition = undefined;
    });
  }

  /** Waits until awake, waking the instance if it sleeps; rejects with NV_INSTANCE_UNAVAILABLE. */
  async #awaitAwake(): Promise<void> {
    const asked = performance.now();
    this.#view.buffered++;
    try {
      while (this.#state !== 'awake') {
        if (this.#stopped) throw new NanovisorError('NV_INSTANCE_UNAVAILABLE', 'the server instance is stopping');
        if (this.#state === 'asleep') this.#wake(asked);
        const timeoutMs = this.#o.wakeTimeoutMs ?? 10_000;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new NanovisorError('NV_INSTANCE_UNAVAILABLE', `the server instance did not wake within ${timeoutMs} ms`)), timeoutMs - (performance.now() - asked));
        });
        try {
          await Promise.race([this.#transition, late]);
        } finally {
          clearTimeout(timer);
        }
        if (this.#wakeError !== undefined && this.#state === 'asleep') {
          const e = this.#wakeError;
          throw new NanovisorError('NV_INSTANCE_UNAVAILABLE', `the server instance could not be woken: ${e.message}`);
        }
      }
    } finally {
      this.#view.buffered--;
    }
  }

  #wakeError: Error | undefined;

  #wake(asked: number): void {
    this.#state = 'waking';
    this.#wakeError = undefined;
    this.#transition = this.#inner.wake().then(() => {
      this.#state = 'awake';
      this.#view.wakes++;
      this.#view.lastWakeMs = performance.now() - asked;
      this.#o.onEvent?.({ event: 'wake', ms: this.#view.lastWakeMs });
      this.#arm();
    }, (e: unknown) => {
      this.#state = 'asleep';
      this.#wakeError = e as Error;
      this.#o.onEvent?.({ event: 'wake', ms: performance.now() - asked, error: (e as Error).message });
    }).finally(() => {
      this.#transition = undefined;
    });
  }
}
