// What calibration-style passes fold each exposed tensor into, batch by batch: its histogram statistics (TensorStats,
// for ranges; from float32 values, or from float16 bit patterns with the [min, max] pairs of their exact extent), the
// per-channel maximum of |x| (activation equalization), per-channel sums (bias correction) or the element-wise sum over
// batches (input moments a probe graph already reduced, for weight rounding). Pure arithmetic on [N, C, ...] tensors,
// the same on whichever thread runs it (engine/runtime/reducer.ts runs it on a reducing thread beside ONNX Runtime);
// every result is plain data that can cross threads.
import { HALF_PATTERNS, halfRoundingIntervals, halfValues } from './half-float';
import { TensorStats, TensorStatsState } from './histogram';

export type ReductionKind = 'histogram' | 'half-histogram' | 'extent' | 'channel-max' | 'channel-sum' | 'sum';

/** A tensor's values: float32, or float16 as bit patterns (only 'half-histogram' takes those). */
export type TensorData = Float32Array | Uint16Array;

/** Per-channel sums of a tensor's values and how many values each channel summed. */
export interface ChannelSums {
  sum: Float64Array;
  count: number;
}

export type ReductionResult =
  | { kind: 'histogram'; stats: TensorStatsState }
  /** The histogram of float16 values as rounded (their exact extent comes separately). */
  | { kind: 'half-histogram'; stats: TensorStatsState }
  /** Smallest and largest value over tensors of [min, max] pairs (NaN when any was NaN). */
  | { kind: 'extent'; min: number; max: number }
  | { kind: 'channel-max'; maxima: Float32Array }
  | { kind: 'channel-sum'; sums: ChannelSums }
  | { kind: 'sum'; sum: Float64Array };

export interface TensorReduction {
  update(data: TensorData, dims: readonly number[]): void;
  result(): ReductionResult;
}

/** `data` as float32 values, for the reductions that take no other. */
/** `data` as float32 values, or a TypeError saying that `what` takes float32 values. */
export function float32Values(data: TensorData, what: string): Float32Array {
  if (!(data instanceof Float32Array)) throw new TypeError(`${what} takes float32 values, got ${data.constructor.name}`);
  return data;
}

function floats(data: TensorData, kind: ReductionKind): Float32Array {
  return float32Values(data, `a ${kind} reduction`);
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
  update(data: TensorData): void { this.stats.update(floats(data, 'histogram')); }
  result(): ReductionResult { return { kind: 'histogram', stats: this.stats.state() }; }
}

/**
 * Counters per pattern a half histogram keeps: two, picks alternating between them, so that runs of one value (ReLU
 * zeros) do not serialize on one memory location.
 */
const HALF_STRIPES = 2;
/** The patterns a histogram saw: their values, counts and rounding intervals (reused from tensor to tensor). */
let seenPatterns: { values: Float32Array; counts: Float64Array; lows: Float32Array; highs: Float32Array } | null = null;

/**
 * The histogram of float16 values (bit patterns): each batch is counted per pattern — one increment per value in this
 * tensor's own table (512 KB; the probe already picked the values to count, see half-exposure.ts) — and the patterns
 * seen are added to the tensor's TensorStats with their counts once, at the end, each spread over the interval of
 * values that round to it. (Spreading every batch's ten thousand or so patterns took ResNet-50's reducing thread ~1 s
 * of a two-core pass, and then emptying a table shared by all tensors into each one's counts another 0.5 s; bins of
 * the final R hold what the finer bins of a smaller R would have been merged into.) The caller sets the exact extent
 * (TensorStats.setExactExtent).
 */
class HalfHistogramReduction implements TensorReduction {
  private readonly stats = new TensorStats();
  /** This tensor's count per pattern since the last fold into `stats`, in HALF_STRIPES stripes (allocated at the first batch). */
  private patternCounts: Uint32Array | null = null;
  /** Values counted into patternCounts: folded before a uint32 count could overflow. */
  private pending = 0;

  update(data: TensorData): void {
    if (!(data instanceof Uint16Array)) throw new TypeError(`a half-histogram reduction takes float16 bit patterns, got ${data.constructor.name}`);
    const n = data.length;
    // A uint32 counter holds any batch one ORT run of calibration returns; a larger one is refused, not miscounted.
    if (n > 0xffffffff) throw new RangeError(`half-histogram: a batch of ${n} values`);
    if (this.pending + n > 0xffffffff) this.fold();
    const t = this.patternCounts ??= new Uint32Array(HALF_STRIPES * HALF_PATTERNS);
    const pairs = n & ~1;
    for (let i = 0; i < pairs; i += 2) {
      t[data[i]]++;
      t[HALF_PATTERNS + data[i + 1]]++;
    }
    if (pairs < n) t[data[pairs]]++;
    this.pending += n;
  }

  /** Adds the patterns counted since the last fold to `stats`. */
  private fold(): void {
    const counts = this.patternCounts;
    if (!counts || this.pending === 0) return;
    const seen = seenPatterns ??= { values: new Float32Array(HALF_PATTERNS), counts: new Float64Array(HALF_PATTERNS),
      lows: new Float32Array(HALF_PATTERNS), highs: new Float32Array(HALF_PATTERNS) };
    const decoded = halfValues();
    const { lows, highs } = halfRoundingIntervals();
    let kept = 0;
    for (let p = 0; p < HALF_PATTERNS; p++) {
      const c = counts[p] + counts[HALF_PATTERNS + p];
      if (c === 0) continue;
      seen.values[kept] = decoded[p];
      seen.lows[kept] = lows[p];
      seen.highs[kept] = highs[p];
      seen.counts[kept++] = c;
    }
    counts.fill(0);
    this.pending = 0;
    this.stats.addCounted(seen.values, seen.counts, kept, seen);
  }

  result(): ReductionResult {
    this.fold();
    return { kind: 'half-histogram', stats: this.stats.state() };
  }
}

/** Smallest and largest value of tensors holding [min, max] (NaN propagates: the caller must not trust it then). */
class ExtentReduction implements TensorReduction {
  private min = Infinity;
  private max = -Infinity;
  update(data: TensorData): void {
    const pair = floats(data, 'extent');
    if (pair.length !== 2) throw new RangeError(`extent: a tensor of ${pair.length} values, expected [min, max]`);
    this.min = Math.min(this.min, pair[0]);
    this.max = Math.max(this.max, pair[1]);
  }
  result(): ReductionResult { return { kind: 'extent', min: this.min, max: this.max }; }
}

/** Maximum of |x| along dim 1 (channels of NCHW, features of [N, F]). */
class ChannelMaxReduction implements TensorReduction {
  private maxima: Float32Array | null = null;
  update(given: TensorData, dims: readonly number[]): void {
    const data = floats(given, 'channel-max');
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
  update(given: TensorData, dims: readonly number[]): void {
    const data = floats(given, 'channel-sum');
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
  update(given: TensorData): void {
    const data = floats(given, 'sum');
    const sum = this.sum ??= new Float64Array(data.length);
    if (sum.length !== data.length) throw new RangeError(`sum: a tensor of ${data.length} values after ones of ${sum.length}`);
    for (let i = 0; i < data.length; i++) sum[i] += data[i];
  }
  result(): ReductionResult { return { kind: 'sum', sum: this.sum ?? new Float64Array(0) }; }
}

export function newReduction(kind: ReductionKind): TensorReduction {
  switch (kind) {
    case 'histogram': return new HistogramReduction();
    case 'half-histogram': return new HalfHistogramReduction();
    case 'extent': return new ExtentReduction();
    case 'channel-max': return new ChannelMaxReduction();
    case 'channel-sum': return new ChannelSumReduction();
    case 'sum': return new SumReduction();
  }
}
