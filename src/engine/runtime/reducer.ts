// The main thread's side of the reducing thread (quant/reduce-worker.ts, bundled to dist/reduce-worker.js): a pass
// hands each exposed tensor of an ONNX Runtime run over (its buffer moves, no copy) and goes on with the next run while
// the thread folds it in (histograms, channel maxima, channel sums), so the folding overlaps inference instead of
// following it. The thread folds tensors in the order given: results equal folding them here. One thread per process,
// started on first use; while no pass is open it does not keep the process alive.
import type * as ort from 'onnxruntime-node';
import { Worker } from 'node:worker_threads';
import { InternalError } from '../../common/errors';
import { reviveError, workerScript } from '../../common/workers';
import type { ReduceReply, ReduceRequest } from '../../quant/reduce-worker';
import type { ReductionKind, ReductionResult, TensorData } from '../../quant/tensor-reductions';
import type { ChannelDivision } from '../../quant/channel-division';

/** The script esbuild.mjs bundles from src/quant/reduce-worker.ts. */
export const REDUCE_WORKER = 'reduce-worker';

interface PassState {
  /** Bytes handed over and not yet folded. */
  inFlight: number;
  waiters: { limit: number; resolve(): void; reject(err: Error): void }[];
  finished?: { resolve(results: Map<string, ReductionResult>): void; reject(err: Error): void };
  error?: Error;
}

class ReducingThread {
  private readonly worker: Worker;
  private readonly passes = new Map<number, PassState>();
  private nextPass = 0;
  dead = false;

  constructor() {
    this.worker = new Worker(workerScript(REDUCE_WORKER));
    this.worker.unref();
    this.worker.on('message', (reply: ReduceReply) => this.receive(reply));
    const died = (cause: string): void => {
      if (this.dead) return;
      this.dead = true;
      for (const pass of this.passes.keys()) this.fail(pass, new InternalError(`the reducing thread died: ${cause}`));
    };
    this.worker.on('error', (err) => died(err instanceof Error ? err.message : String(err)));
    this.worker.on('exit', (code) => died(`exited with code ${code}`));
  }

  open(): number {
    const pass = this.nextPass++;
    this.passes.set(pass, { inFlight: 0, waiters: [] });
    this.worker.ref();
    return pass;
  }

  post(request: ReduceRequest, transfer: ArrayBuffer[] = []): void {
    const state = this.passes.get(request.pass);
    if (!state) return;
    if (state.error) throw state.error;
    if (request.type === 'update') state.inFlight += request.data.byteLength;
    this.worker.postMessage(request, transfer);
  }

  /** Resolves once the pass's unfolded bytes are at most `limit`. */
  settle(pass: number, limit: number): Promise<void> {
    const state = this.passes.get(pass);
    if (!state || state.inFlight <= limit) return state?.error ? Promise.reject(state.error) : Promise.resolve();
    return new Promise<void>((resolve, reject) => state.waiters.push({ limit, resolve, reject }));
  }

  finish(pass: number): Promise<Map<string, ReductionResult>> {
    const state = this.passes.get(pass);
    if (!state) return Promise.reject(new InternalError(`reduce pass ${pass} is not open`));
    if (state.error) return Promise.reject(state.error);
    return new Promise((resolve, reject) => {
      state.finished = { resolve, reject };
      this.worker.postMessage({ type: 'finish', pass } satisfies ReduceRequest);
    });
  }

  drop(pass: number): void {
    if (!this.passes.delete(pass)) return;
    if (!this.dead) this.worker.postMessage({ type: 'drop', pass } satisfies ReduceRequest);
    this.idle();
  }

  private receive(reply: ReduceReply): void {
    const state = this.passes.get(reply.pass);
    if (!state) return;
    if (reply.type === 'done') {
      state.inFlight -= reply.bytes;
      const ready = state.waiters.filter((w) => state.inFlight <= w.limit);
      state.waiters = state.waiters.filter((w) => state.inFlight > w.limit);
      for (const w of ready) w.resolve();
    } else if (reply.type === 'error') {
      this.fail(reply.pass, reviveError(reply.error));
    } else {
      this.passes.delete(reply.pass);
      this.idle();
      state.finished?.resolve(new Map(reply.results));
    }
  }

  private fail(pass: number, err: Error): void {
    const state = this.passes.get(pass);
    if (!state || state.error) return;
    state.error = err;
    state.finished?.reject(err);
    for (const w of state.waiters.splice(0)) w.reject(err);
  }

  private idle(): void {
    if (this.passes.size === 0) this.worker.unref();
  }
}

let thread: ReducingThread | null = null;

function reducingThread(): ReducingThread {
  if (!thread || thread.dead) thread = new ReducingThread();
  return thread;
}

/** One pass's reductions (of one kind, or a kind per tensor), folded on the reducing thread. */
export class ReducePass {
  private readonly thread = reducingThread();
  private readonly pass = this.thread.open();
  private closed = false;

  constructor(private readonly kind: ReductionKind | ((tensor: string) => ReductionKind)) {}

  /** Hands `value` (float32, or float16 bit patterns) over; its data is unusable afterwards. Returns the bytes handed over. */
  add(tensor: string, value: ort.Tensor): number {
    return this.addData(tensor, value.data as TensorData, value.dims);
  }

  /** Hands over `given` as a tensor of `dims` (see add), divided per channel there first when `divide` says so. */
  addData(tensor: string, given: TensorData, dims: readonly number[], divide?: ChannelDivision): number {
    // Move the buffer when the tensor owns it whole, else a copy.
    const data = given.byteOffset === 0 && given.byteLength === given.buffer.byteLength ? given : given.slice();
    const bytes = data.byteLength; // 0 once the buffer has moved
    this.thread.post({ type: 'update', pass: this.pass, kind: typeof this.kind === 'string' ? this.kind : this.kind(tensor), tensor, data, dims: [...dims],
      ...(divide ? { divide } : {}) }, [data.buffer as ArrayBuffer]);
    return bytes;
  }

  /** Waits until at most `limit` bytes handed over are still to fold (bounds memory; rejects if folding failed). */
  settle(limit: number): Promise<void> {
    return this.thread.settle(this.pass, limit);
  }

  /** The results per tensor (tensors never handed over have none); the pass is closed. */
  async finish(): Promise<Map<string, ReductionResult>> {
    this.closed = true;
    return this.thread.finish(this.pass);
  }

  /** Abandons the pass (after a failure elsewhere). */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    this.thread.drop(this.pass);
  }
}
