// Entry of the reducing thread (bundled to dist/reduce-worker.js; the main thread's side is engine/runtime/reducer.ts):
// it owns the reductions of every pass in progress and folds each tensor posted to it, in the order posted, so the
// results equal folding them on the main thread. Replies: 'done' per tensor (its bytes, for the sender's memory bound),
// 'result' when a pass finishes, 'error' when a reduction throws.
import { parentPort } from 'node:worker_threads';
import { serializeError } from '../common/workers';
import { newReduction, ReductionKind, ReductionResult, TensorData, TensorReduction } from './tensor-reductions';
import { ChannelDivision, dividedForReduction } from './channel-division';

export type ReduceRequest =
  | { type: 'update'; pass: number; kind: ReductionKind; tensor: string; data: TensorData; dims: number[]; divide?: ChannelDivision }
  | { type: 'finish'; pass: number }
  | { type: 'drop'; pass: number };

export type ReduceReply =
  | { type: 'done'; pass: number; bytes: number }
  | { type: 'result'; pass: number; results: [string, ReductionResult][] }
  | { type: 'error'; pass: number; error: ReturnType<typeof serializeError> };

const passes = new Map<number, Map<string, TensorReduction>>();
/** Passes whose reduction threw: later tensors are only acknowledged. */
const failed = new Set<number>();
const port = parentPort!;

function post(reply: ReduceReply, transfer: ArrayBuffer[] = []): void {
  port.postMessage(reply, transfer);
}

/** The typed arrays of a result, to move rather than copy. */
function buffersOf(result: ReductionResult): ArrayBuffer[] {
  switch (result.kind) {
    case 'histogram': return [result.stats.counts.buffer as ArrayBuffer];
    case 'half-histogram': return [result.stats.counts.buffer as ArrayBuffer];
    case 'extent': return [];
    case 'channel-max': return [result.maxima.buffer as ArrayBuffer];
    case 'channel-sum': return [result.sums.sum.buffer as ArrayBuffer];
    case 'sum': return [result.sum.buffer as ArrayBuffer];
  }
}

port.on('message', (request: ReduceRequest) => {
  if (request.type === 'drop') {
    passes.delete(request.pass);
    failed.delete(request.pass);
    return;
  }
  if (request.type === 'finish') {
    failed.delete(request.pass);
    const reductions = passes.get(request.pass) ?? new Map<string, TensorReduction>();
    passes.delete(request.pass);
    const results = [...reductions].map(([tensor, r]): [string, ReductionResult] => [tensor, r.result()]);
    post({ type: 'result', pass: request.pass, results }, results.flatMap(([, r]) => buffersOf(r)));
    return;
  }
  if (failed.has(request.pass)) {
    post({ type: 'done', pass: request.pass, bytes: request.data.byteLength });
    return;
  }
  let reductions = passes.get(request.pass);
  if (!reductions) passes.set(request.pass, reductions = new Map());
  try {
    let reduction = reductions.get(request.tensor);
    if (!reduction) reductions.set(request.tensor, reduction = newReduction(request.kind));
    const data = request.divide ? dividedForReduction(request.data, request.divide, request.kind) : request.data;
    reduction.update(data, request.dims);
  } catch (err) {
    passes.delete(request.pass);
    failed.add(request.pass);
    post({ type: 'error', pass: request.pass, error: serializeError(err) });
  }
  post({ type: 'done', pass: request.pass, bytes: request.data.byteLength });
});
