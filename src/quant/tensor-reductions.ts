// What calibration-style passes fold each exposed tensor into, batch by batch: its histogram statistics (TensorStats,
// for ranges), the per-channel maximum of |x| (activation equalization), per-channel sums (bias correction) or the
// element-wise sum over batches (input moments a probe graph already reduced, for weight rounding). Pure
// arithmetic on float32 [N, C, ...] tensors, the same on whichever thread runs it (engine/runtime/reducer.ts runs it on
// a reducing thread beside ONNX Runtime); every result is plain data that can cross threads.
import { TensorStats, TensorStatsState } from './histogram';

export type ReductionKind = 'histogram' | 'channel-max' | 'channel-sum' | 'sum';

/** Per-channel sums of a tensor's values and how many values each channel summed. */
export interface ChannelSums {
  sum: Float64Array;
  count: number;
}

export type ReductionResult =
  | { kind: 'histogram'; stats: TensorStatsState }
  | { kind: 'channel-max'; maxima: Float32Array }
  | { kind: 'channel-sum'; sums: ChannelSums }
  | { kind: 'sum'; sum: Float64Array };

export interface TensorReduction {
  update(data: Float32Array, dims: readonly number[]): void;
  result(): ReductionResult;
}

/** For a [N, C, ...] tensor: calls visit(channel, start, end) for every sample's run of one channel's values. */
export function forEachChannelRun(dims: readonly number[], visit: (channel: number, start: number, end: number) => void): void {
  const channels = dims[1] ?? 1;
  const inner = dims.slice(2).reduce((a, b) => a * b, 1);
  for (let n = 0; n < dims[0]; n++) {
    for (let c = 0; c < channels; c++) {
      const start = (n * channels + c) * inner;
      visit(c, start, start + inner);
    }
  }
}

class HistogramReduction implements TensorReduction {
  private readonly stats = new TensorStats();
  update(data: Float32Array): void { this.stats.update(data); }
  result(): ReductionResult { return { kind: 'histogram', stats: this.stats.state() }; }
}

/** Maximum of |x| along dim 1 (channels of NCHW, features of [N, F]). */
class ChannelMaxReduction implements TensorReduction {
  private maxima: Float32Array | null = null;
  update(data: Float32Array, dims: readonly number[]): void {
    const top = this.maxima ??= new Float32Array(dims[1] ?? 1);
    forEachChannelRun(dims, (c, start, end) => {
      let highest = top[c];
      for (let i = start; i < end; i++) {
        const v = data[i];
        const a = v < 0 ? -v : v;
        if (a > highest) highest = a;
      }
      top[c] = highest;
    });
  }
  result(): ReductionResult { return { kind: 'channel-max', maxima: this.maxima ?? new Float32Array(0) }; }
}

/** Sums along dim 1, each sample's run of a channel summed on its own first; `count` values per channel. */
class ChannelSumReduction implements TensorReduction {
  private sums: ChannelSums | null = null;
  update(data: Float32Array, dims: readonly number[]): void {
    const acc = this.sums ??= { sum: new Float64Array(dims[1] ?? 1), count: 0 };
    const sum = acc.sum;
    forEachChannelRun(dims, (c, start, end) => {
      let s = 0;
      for (let i = start; i < end; i++) s += data[i];
      sum[c] += s;
    });
    acc.count += dims.slice(2).reduce((a, b) => a * b, dims[0]);
  }
  result(): ReductionResult { return { kind: 'channel-sum', sums: this.sums ?? { sum: new Float64Array(0), count: 0 } }; }
}

/** Element-wise sum of every batch's tensor (all of the same size). */
class SumReduction implements TensorReduction {
  private sum: Float64Array | null = null;
  update(data: Float32Array): void {
    const sum = this.sum ??= new Float64Array(data.length);
    if (sum.length !== data.length) throw new RangeError(`sum: a tensor of ${data.length} values after ones of ${sum.length}`);
    for (let i = 0; i < data.length; i++) sum[i] += data[i];
  }
  result(): ReductionResult { return { kind: 'sum', sum: this.sum ?? new Float64Array(0) }; }
}

export function newReduction(kind: ReductionKind): TensorReduction {
  switch (kind) {
    case 'histogram': return new HistogramReduction();
    case 'channel-max': return new ChannelMaxReduction();
    case 'channel-sum': return new ChannelSumReduction();
    case 'sum': return new SumReduction();
  }
}
