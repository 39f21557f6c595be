// Streaming statistics of one tensor across calibration batches, in bounded memory: finite min/max/count and a
// histogram over a symmetric signed range [-R, R] with a fixed, power-of-two number of bins.
//
// Exactness. R is always a power of two and so is the bin count N, so the bin multiplier N/(2R) is a power of two:
// `x * multiplier` is exact for every float32 x, and a value's bin is floor(x * multiplier) + N/2 with no rounding.
// Growing R to 2^k R therefore maps bin i to N/2 + floor((i - N/2) / 2^k) exactly (for k = 1: adjacent pairs merge
// into the center half), and a histogram grown batch by batch equals one built in one go over the final range.
// The only value that lands on index N is x = +R itself; it is kept in an extra internal slot so that growth
// stays exact, and is reported as part of the last bin (whose upper edge is therefore closed).
//
// Speed (this runs over every activation of every calibration image): a batch is processed in L2-sized blocks,
// each read twice in tight loops with no calls: once for min/max (NaN/Inf detection costs nothing extra on the
// common path), once to bin with the precomputed multiplier. Large batches are binned into four interleaved
// copies of the histogram, so that runs of equal values (ReLU zeros) do not serialize on one counter.

export interface TensorStatsOptions {
  /** Total number of bins over [-R, R]; a power of two, at least 4. */
  bins?: number;
}

export const DEFAULT_HISTOGRAM_BINS = 4096;

/** Everything a TensorStats holds, as plain data (to move it between threads). */
export interface TensorStatsState {
  bins: number;
  /** Counts per bin plus the +R slot. */
  counts: Float64Array;
  halfRange: number;
  min: number;
  max: number;
  finite: number;
  nonFinite: number;
}

export class TensorStats {
  private readonly binCount: number;
  /** Counts per bin, plus one slot (index binCount) for values exactly equal to +R. */
  private counts: Float64Array;
  private halfRange = 0;
  private minValue = Infinity;
  private maxValue = -Infinity;
  private finiteCount = 0;
  private nonFiniteCount = 0;

  constructor(options: TensorStatsOptions = {}) {
    const bins = options.bins ?? DEFAULT_HISTOGRAM_BINS;
    if (!Number.isInteger(bins) || bins < 4 || bins > 2 ** 24 || (bins & (bins - 1)) !== 0) {
      throw new RangeError(`TensorStats: bin count must be a power of two between 4 and 2^24, got ${bins}`);
    }
    this.binCount = bins;
    this.counts = new Float64Array(bins + 1);
  }

  /** The statistics as plain data; TensorStats.fromState(state) is an equal TensorStats. */
  state(): TensorStatsState {
    return { bins: this.binCount, counts: this.counts.slice(), halfRange: this.halfRange, min: this.minValue, max: this.maxValue,
      finite: this.finiteCount, nonFinite: this.nonFiniteCount };
  }

  static fromState(state: TensorStatsState): TensorStats {
    const stats = new TensorStats({ bins: state.bins });
    if (state.counts.length !== state.bins + 1) throw new RangeError(`TensorStats.fromState: ${state.counts.length} counts for ${state.bins} bins`);
    stats.counts = Float64Array.from(state.counts);
    stats.halfRange = state.halfRange;
    stats.minValue = state.min;
    stats.maxValue = state.max;
    stats.finiteCount = state.finite;
    stats.nonFiniteCount = state.nonFinite;
    return stats;
  }

  /**
   * Adds `values[i]` seen `counts[i]` times, for i < n: equal to streaming every copy of every value. With `spread`,
   * each value stands for values spread evenly over [lows[i], highs[i]] (e.g. everything a float16 pattern is rounded
   * from): its count is shared among the bins that interval overlaps, so rounding does not shift the histogram (as
   * points, values rounded to float16 sit half a bin high in the top octave). R grows to cover the values. Non-finite
   * values count as such.
   */
  addCounted(values: Float32Array, counts: Float64Array, n = values.length, spread?: { lows: Float32Array; highs: Float32Array }): void {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) {
        this.nonFiniteCount += counts[i];
        continue;
      }
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo > hi) return;
    this.cover(lo, hi);
    const center = this.binCount / 2;
    const multiplier = this.halfRange > 0 ? this.binCount / (2 * this.halfRange) : 0;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      this.finiteCount += counts[i];
      if (multiplier === 0) this.counts[center] += counts[i];
      else if (spread && spread.lows[i] < spread.highs[i]) this.spreadOver(spread.lows[i], spread.highs[i], counts[i], multiplier, center);
      else this.counts[Math.floor(v * multiplier) + center] += counts[i];
    }
  }

  /**
   * Replaces min/max with the exact extent of values that were added rounded (e.g. to float16), growing R to cover
   * it: R then is what streaming the unrounded values gives. The extent must hold every value added.
   */
  setExactExtent(min: number, max: number): void {
    if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) throw new RangeError(`TensorStats.setExactExtent: [${min}, ${max}] is not a finite extent`);
    if (this.finiteCount === 0) return;
    this.cover(min, max);
    this.minValue = min;
    this.maxValue = max;
  }

  /** Smallest finite value seen; +Infinity before any. */
  get min(): number { return this.minValue; }
  /** Largest finite value seen; -Infinity before any. */
  get max(): number { return this.maxValue; }
  /** Number of finite values seen (the histogram's total). */
  get count(): number { return this.finiteCount; }
  /** Number of NaN and ±Infinity values seen; they are left out of everything else. */
  get nonFinite(): number { return this.nonFiniteCount; }
  /** R: the histogram covers [-R, R]. The smallest power of two ≥ max |x|, or 0 while every finite value was 0. */
  get range(): number { return this.halfRange; }
  /** Number of bins over [-R, R]. */
  get binTotal(): number { return this.binCount; }
  /** Width of one bin, 2R / bins (0 while R is 0). */
  get binWidth(): number { return (2 * this.halfRange) / this.binCount; }

  /** A copy of the counts per bin; bin i covers [binEdge(i), binEdge(i+1)), and the last bin also holds x = +R. */
  get bins(): Float64Array {
    const n = this.binCount;
    const out = this.counts.slice(0, n);
    out[n - 1] += this.counts[n];
    return out;
  }

  /** Lower edge of bin i (0 ≤ i ≤ bins); binEdge(bins) is +R. All edges are 0 while R is 0. */
  binEdge(i: number): number {
    return -this.halfRange + i * this.binWidth;
  }

  update(values: Float32Array): void {
    const n = values.length;
    if (n === 0) return;
    const slots = this.counts.length;
    const stripes = n >= STRIPED_MIN_VALUES_PER_SLOT * slots ? stripeScratch(slots) : null;
    // Block by block, so that the binning pass reads what the extent pass just brought into cache. Growing R in
    // the middle of a batch is exact, so this equals treating the batch as one.
    for (let start = 0; start < n; start += BLOCK_VALUES) {
      const end = Math.min(n, start + BLOCK_VALUES);
      const extent = finiteExtent(values, start, end);
      if (extent.nanCount > 0 || extent.lo === -Infinity || extent.hi === Infinity) {
        const finite = finiteValues(values.subarray(start, end));
        this.nonFiniteCount += end - start - finite.length;
        if (finite.length > 0) {
          this.addBlock(finite, 0, finite.length, finiteExtent(finite, 0, finite.length), stripes);
        }
      } else {
        this.addBlock(values, start, end, extent, stripes);
      }
    }
    if (stripes) foldStripes(stripes, this.counts);
  }

  /** Adds another tensor's statistics (same bin count) as if its values had been streamed into this one. */
  merge(other: TensorStats): void {
    if (other.binCount !== this.binCount) {
      throw new RangeError(`TensorStats.merge: bin counts differ (${this.binCount} vs ${other.binCount})`);
    }
    let otherCounts: Float64Array = other.counts.slice();
    if (other.halfRange > this.halfRange) {
      if (this.halfRange > 0) this.counts = regroup(this.counts, doublingsBetween(this.halfRange, other.halfRange));
      this.halfRange = other.halfRange;
    } else if (other.halfRange > 0 && other.halfRange < this.halfRange) {
      otherCounts = regroup(otherCounts, doublingsBetween(other.halfRange, this.halfRange));
    }
    // A histogram with R = 0 holds only zeros, in bin N/2, which is zero's bin at every R.
    for (let i = 0; i <= this.binCount; i++) this.counts[i] += otherCounts[i];
    if (other.minValue < this.minValue) this.minValue = other.minValue;
    if (other.maxValue > this.maxValue) this.maxValue = other.maxValue;
    this.finiteCount += other.finiteCount;
    this.nonFiniteCount += other.nonFiniteCount;
  }

  /** Shares `count` among the bins [lo, hi] overlaps (clipped to [-R, R]), in proportion to the overlap. */
  private spreadOver(lo: number, hi: number, count: number, multiplier: number, center: number): void {
    const last = this.binCount - 1;
    const a = Math.max(-this.halfRange, lo) * multiplier + center;
    const b = Math.min(this.halfRange, hi) * multiplier + center;
    const first = Math.min(last, Math.floor(a));
    const end = Math.min(last, Math.ceil(b) - 1);
    if (end <= first || !(b > a)) {
      this.counts[first] += count;
      return;
    }
    for (let k = first; k <= end; k++) this.counts[k] += (count * (Math.min(b, k + 1) - Math.max(a, k))) / (b - a);
  }

  /** Widens min/max to [lo, hi] and grows R to cover them (regrouping the counts, and `stripes` folded first). */
  private cover(lo: number, hi: number, stripes: Float64Array | null = null): void {
    if (lo < this.minValue) this.minValue = lo;
    if (hi > this.maxValue) this.maxValue = hi;
    const maxAbs = Math.max(-lo, hi);
    if (maxAbs > this.halfRange) {
      const needed = smallestPowerOfTwoAtLeast(maxAbs);
      if (this.halfRange > 0) {
        if (stripes) foldStripes(stripes, this.counts);
        this.counts = regroup(this.counts, doublingsBetween(this.halfRange, needed));
      }
      this.halfRange = needed;
    }
  }

  /** Adds values[start..end), all finite, whose extent is known; bins into `stripes` when given. */
  private addBlock(values: Float32Array, start: number, end: number, extent: FiniteExtent,
    stripes: Float64Array | null): void {
    const { lo, hi } = extent;
    this.finiteCount += end - start;
    this.cover(lo, hi, stripes);
    const center = this.binCount / 2;
    if (this.halfRange === 0) {
      // Every value is 0 (the multiplier would be Infinity, and 0 * Infinity is NaN).
      this.counts[center] += end - start;
      return;
    }
    const multiplier = this.binCount / (2 * this.halfRange);
    if (stripes) binStriped(values, start, end, stripes, multiplier, center, this.counts.length);
    else binInto(values, start, end, this.counts, multiplier, center);
  }
}

/** Values per block: 64 KiB of float32, well inside a core's L2 cache. */
const BLOCK_VALUES = 16384;

/**
 * Batches this many times larger than the histogram are binned into four interleaved copies of it, so that runs
 * of equal values (the zeros after a ReLU) do not serialize on one memory location.
 */
const STRIPED_MIN_VALUES_PER_SLOT = 4;
const STRIPES = 4;

interface FiniteExtent { lo: number; hi: number; nanCount: number }

/**
 * Min and max of the non-NaN values, and how many NaN there are (±Infinity shows up as lo or hi). NaN fails every
 * comparison, so it only enters the rarely taken `!(v >= lo)` branch: no extra test on the common path. Two
 * independent accumulator pairs keep the compare chains short.
 */
function finiteExtent(values: Float32Array, start: number, end: number): FiniteExtent {
  const pairs = start + ((end - start) & ~1);
  let lo0 = Infinity;
  let hi0 = -Infinity;
  let lo1 = Infinity;
  let hi1 = -Infinity;
  let nanCount = 0;
  let i = start;
  for (; i < pairs; i += 2) {
    const a = values[i];
    const b = values[i + 1];
    if (!(a >= lo0)) { if (a !== a) nanCount++; else lo0 = a; }
    if (a > hi0) hi0 = a;
    if (!(b >= lo1)) { if (b !== b) nanCount++; else lo1 = b; }
    if (b > hi1) hi1 = b;
  }
  if (i < end) {
    const a = values[i];
    if (!(a >= lo0)) { if (a !== a) nanCount++; else lo0 = a; }
    if (a > hi0) hi0 = a;
  }
  return { lo: lo0 < lo1 ? lo0 : lo1, hi: hi0 > hi1 ? hi0 : hi1, nanCount };
}

/** Adds each value to counts[floor(x * multiplier) + center]; exact because the multiplier is a power of two. */
function binInto(values: Float32Array, start: number, end: number, counts: Float64Array, multiplier: number,
  center: number): void {
  for (let i = start; i < end; i++) counts[Math.floor(values[i] * multiplier) + center]++;
}

/** Like binInto, but value i goes to stripe i % 4 of `stripes` (four histograms of `slots` each, back to back). */
function binStriped(values: Float32Array, start: number, end: number, stripes: Float64Array, multiplier: number,
  center: number, slots: number): void {
  const quads = start + ((end - start) & ~3);
  const c0 = center;
  const c1 = center + slots;
  const c2 = center + 2 * slots;
  const c3 = center + 3 * slots;
  let i = start;
  for (; i < quads; i += 4) {
    stripes[Math.floor(values[i] * multiplier) + c0]++;
    stripes[Math.floor(values[i + 1] * multiplier) + c1]++;
    stripes[Math.floor(values[i + 2] * multiplier) + c2]++;
    stripes[Math.floor(values[i + 3] * multiplier) + c3]++;
  }
  for (; i < end; i++) stripes[Math.floor(values[i] * multiplier) + c0]++;
}

/** The finite values of `values`, in order. */
function finiteValues(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  let kept = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v === 0) out[kept++] = v; // NaN - NaN and Inf - Inf are NaN
  }
  return out.subarray(0, kept);
}

/** Adds the stripes into counts and leaves them zeroed for the next batch. */
function foldStripes(stripes: Float64Array, counts: Float64Array): void {
  const slots = counts.length;
  for (let s = 0; s < STRIPES; s++) {
    const base = s * slots;
    for (let i = 0; i < slots; i++) counts[i] += stripes[base + i];
  }
  stripes.fill(0);
}

/** One zeroed scratch buffer per histogram size, shared by every TensorStats (updates never interleave). */
const stripeScratchBySlots = new Map<number, Float64Array>();

function stripeScratch(slots: number): Float64Array {
  let scratch = stripeScratchBySlots.get(slots);
  if (!scratch) {
    scratch = new Float64Array(STRIPES * slots);
    stripeScratchBySlots.set(slots, scratch);
  }
  return scratch;
}

/** How many doublings take power of two `from` to power of two `to` (from ≤ to). */
function doublingsBetween(from: number, to: number): number {
  return Math.round(Math.log2(to / from));
}

/** Counts (with the +R slot) regrouped for a range 2^doublings times wider; exact, see the header comment. */
function regroup(counts: Float64Array, doublings: number): Float64Array {
  if (doublings === 0) return counts;
  const slots = counts.length;
  const center = (slots - 1) / 2;
  const factor = 2 ** doublings;
  const out = new Float64Array(slots);
  for (let i = 0; i < slots; i++) {
    const c = counts[i];
    if (c !== 0) out[center + Math.floor((i - center) / factor)] += c;
  }
  return out;
}

/** The smallest power of two ≥ v, for finite v > 0. */
function smallestPowerOfTwoAtLeast(v: number): number {
  let r = 2 ** Math.ceil(Math.log2(v));
  while (r < v) r *= 2;
  while (r / 2 >= v) r /= 2;
  return r;
}
