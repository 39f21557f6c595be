// Worker threads for CPU-bound pure JavaScript (image decoding, histogram binning), so it runs on every core and beside
// ONNX Runtime (whose runs block the main thread): where a worker's bundled script is (dist/<name>.js, beside the engine
// bundle or a few folders above a test bundle), how many workers a machine gets, a pool of stateless workers that
// answers jobs in any order, and the worker side of that protocol. Errors cross the thread boundary by kind
// (OctetError keeps its subject and reason, InternalError its message); a worker that dies fails the job it was
// running with the caller's error and is replaced. Idle workers never hold the process open.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { parentPort, Worker } from 'node:worker_threads';
import { InternalError, OctetError } from './errors';

/** Folders above the running bundle searched for a worker script (dist/test/<room>/x.test.js -> dist). */
const SCRIPT_SEARCH_DEPTH = 3;

/** The bundled script of worker `name` (dist/<name>.js, built by esbuild.mjs); an InternalError when it is missing. */
export function workerScript(name: string): string {
  let dir = __dirname;
  for (let level = 0; level <= SCRIPT_SEARCH_DEPTH; level++, dir = dirname(dir)) {
    const candidate = join(dir, `${name}.js`);
    if (existsSync(candidate)) return candidate;
  }
  throw new InternalError(`worker script ${name}.js not found beside ${__dirname} or above it (is the build or the package incomplete?)`);
}

/** Worker threads for a pool when the caller does not say: one per core the process may use. */
export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism());
}

/** An error as it crosses a thread boundary. */
export interface SerializedError {
  name: string;
  message: string;
  /** OctetError's subject and reason. */
  subject?: string;
  reason?: string;
  stack?: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof OctetError) return { name: err.name, message: err.message, subject: err.subject, reason: err.reason, stack: err.stack };
  if (err instanceof Error) return { name: err.name, message: err.message, stack: err.stack };
  return { name: 'Error', message: String(err) };
}

/** The error again on this side: OctetError (and its subclasses, as OctetError with the same text), InternalError, Error. */
export function reviveError(e: SerializedError): Error {
  const err = e.subject !== undefined && e.reason !== undefined ? new OctetError(e.subject, e.reason)
    : e.name === 'InternalError' ? new InternalError(e.message) : new Error(e.message);
  err.name = e.name;
  if (e.stack) err.stack = e.stack;
  return err;
}

type Reply<R> = { id: number; ok: true; result: R; ms: number } | { id: number; ok: false; error: SerializedError; ms: number };

/** Worker side: answers every job posted by a WorkerPool with `handle`, transferring the buffers it names. */
export function serveJobs<J, R>(handle: (job: J) => { result: R; transfer?: ArrayBuffer[] } | Promise<{ result: R; transfer?: ArrayBuffer[] }>): void {
  const port = parentPort;
  if (!port) throw new InternalError('serveJobs: not running in a worker thread');
  port.on('message', async ({ id, job }: { id: number; job: J }) => {
    const started = performance.now();
    try {
      const { result, transfer } = await handle(job);
      port.postMessage({ id, ok: true, result, ms: performance.now() - started } satisfies Reply<R>, transfer ?? []);
    } catch (err) {
      port.postMessage({ id, ok: false, error: serializeError(err), ms: performance.now() - started } satisfies Reply<R>);
    }
  });
}

interface Pending<J, R> {
  id: number;
  job: J;
  transfer: ArrayBuffer[];
  resolve(result: R): void;
  reject(err: Error): void;
  signal?: AbortSignal;
}

interface Slot<J, R> {
  worker: Worker;
  /** Jobs posted to this worker, oldest (the one running) first. */
  posted: Pending<J, R>[];
}

export interface WorkerPoolOptions<J> {
  /** The worker's bundled script (workerScript). */
  script: string;
  size: number;
  /** Jobs posted ahead to each worker, so workers keep busy while the main thread is blocked (in an ONNX Runtime run). */
  depth?: number;
  /** The error a job fails with when its worker dies running it (names the job's file). */
  crashError(job: J, cause: string): Error;
}

/** Jobs run on `size` worker threads of one script, each answered by the worker that took it (see serveJobs). */
export class WorkerPool<J, R> {
  private readonly slots: (Slot<J, R> | null)[];
  private readonly queue: Pending<J, R>[] = [];
  private nextId = 0;
  private closed = false;
  /** Jobs answered and the milliseconds workers spent on them (summed over workers). */
  readonly totals = { jobs: 0, ms: 0 };

  constructor(private readonly options: WorkerPoolOptions<J>) {
    this.slots = new Array<Slot<J, R> | null>(Math.max(1, options.size)).fill(null);
  }

  get size(): number { return this.slots.length; }

  /**
   * Runs `job` on a worker; `transfer` buffers move to it (unusable here afterwards). A job still queued when `signal`
   * aborts is dropped, its promise rejected with an AbortError.
   */
  run(job: J, transfer: ArrayBuffer[] = [], signal?: AbortSignal): Promise<R> {
    if (this.closed) return Promise.reject(new InternalError('WorkerPool.run after close'));
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, transfer, resolve, reject, signal });
      this.dispatch();
    });
  }

  /** Terminates every worker; queued and running jobs reject. */
  async close(): Promise<void> {
    this.closed = true;
    const dropped = this.queue.splice(0);
    const running = this.slots.flatMap((slot) => slot?.posted.splice(0) ?? []);
    for (const p of [...dropped, ...running]) p.reject(abortError('the worker pool was closed'));
    const workers = this.slots.map((slot) => slot?.worker);
    this.slots.fill(null);
    await Promise.all(workers.map((w) => w?.terminate()));
  }

  private dispatch(): void {
    const depth = Math.max(1, this.options.depth ?? 1);
    // Breadth first: every worker gets a job before any gets a second.
    for (let level = 1; level <= depth; level++) {
      for (let s = 0; s < this.slots.length; s++) {
        if ((this.slots[s]?.posted.length ?? 0) >= level) continue;
        const pending = this.nextQueued();
        if (!pending) return;
        const slot = this.slots[s] ?? this.spawn(s);
        slot.posted.push(pending);
        slot.worker.ref();
        slot.worker.postMessage({ id: pending.id, job: pending.job }, pending.transfer);
      }
    }
  }

  /** The next queued job whose caller has not given up (those are rejected on the way). */
  private nextQueued(): Pending<J, R> | undefined {
    for (;;) {
      const pending = this.queue.shift();
      if (!pending?.signal?.aborted) return pending;
      pending.reject(abortError('cancelled'));
    }
  }

  private spawn(index: number): Slot<J, R> {
    const worker = new Worker(this.options.script);
    const slot: Slot<J, R> = { worker, posted: [] };
    this.slots[index] = slot;
    worker.unref();
    worker.on('message', (reply: Reply<R>) => {
      const at = slot.posted.findIndex((p) => p.id === reply.id);
      if (at < 0) return;
      const [pending] = slot.posted.splice(at, 1);
      this.totals.jobs++;
      this.totals.ms += reply.ms;
      if (slot.posted.length === 0) worker.unref();
      if (reply.ok) pending.resolve(reply.result);
      else pending.reject(reviveError(reply.error));
      this.dispatch();
    });
    const died = (cause: string): void => {
      if (this.slots[index] !== slot) return;
      this.slots[index] = null;
      const [running, ...waiting] = slot.posted.splice(0);
      // The job that was running takes the blame; the others go back to the queue for a fresh worker.
      this.queue.unshift(...waiting);
      running?.reject(this.options.crashError(running.job, cause));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (err) => died(err instanceof Error ? err.message : String(err)));
    worker.on('exit', (code) => died(`the worker thread exited (code ${code})`));
    return slot;
  }
}

function abortError(message: string): Error {
  const err = new Error(message);
  err.name = 'AbortError';
  return err;
}
