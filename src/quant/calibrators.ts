// Calibration: from one tensor's streamed statistics to the float range it should be quantized into.
//
// Every method only clips, never widens: the result lies inside the observed [min, max], except that a symmetric
// request returns ±T with T ≤ max|x| (a symmetric quantizer covers ±T whatever the data's sign). Which part of
// the histogram a method searches follows the data's shape:
//   symmetric request          a threshold T on |x| (the histogram folded at 0)          → [-T, T]
//   one-sided, min ≥ 0          only the upper bound (typical after a ReLU)               → [min, hi]
//   one-sided, max ≤ 0          only the lower bound (mirror image)                       → [lo, max]
//   signed (min < 0 < max)      percentile: each tail; entropy: T on |x|; mse: a common shrink factor of [min, max]
// Zero need not be inside the result; computeQParams extends the range to include it.
import type { CalibrationMethod } from '../common/report';
import type { TensorStats } from './histogram';

export type { CalibrationMethod };

export interface RangeRequest {
  method: CalibrationMethod;
  /** Percentile method only: the share of values kept inside the range, in percent, in [50, 100] (e.g. 99.999). */
  percentile: number;
  /** Quantize symmetrically around 0 (zero point at the middle of the integer range). */
  symmetric: boolean;
  /** Number of quantization levels: 256 for 8 bits, 128 with reduce-range. */
  levels: number;
}

export interface Range { min: number; max: number }

/** Candidate ranges the mse search evaluates. */
const MSE_CANDIDATES = 256;

/** Count given to a bin where the entropy method's quantized distribution Q is empty but P is not. */
const ENTROPY_ZERO_SMOOTHING = 1e-4;

export function chooseRange(stats: TensorStats, request: RangeRequest): Range {
  validateRequest(request);
  if (stats.count === 0) return { min: 0, max: 0 };
  const min = stats.min;
  const max = stats.max;
  const maxAbs = Math.max(-min, max);
  if (maxAbs === 0) return { min: 0, max: 0 };
  if (request.method === 'minmax' || min === max) {
    return request.symmetric ? { min: -maxAbs, max: maxAbs } : { min, max };
  }

  const shape: Shape = request.symmetric ? 'magnitude' : min >= 0 ? 'positive' : max <= 0 ? 'negative' : 'signed';
  if (shape === 'signed' && request.method === 'percentile') {
    const signed = signedView(stats);
    const tail = 1 - request.percentile / 100;
    return { min: Math.max(min, quantile(signed, tail)), max: Math.min(max, quantile(signed, 1 - tail)) };
  }
  if (shape === 'signed' && request.method === 'mse') {
    const factor = mseShrinkFactor(signedView(stats), min, max, request.levels);
    return { min: factor * min, max: factor * max };
  }

  // Everything else is a threshold on |x| (for one-sided data |x| is the data, or its mirror image).
  const magnitudes = magnitudeView(stats, shape);
  let threshold: number;
  switch (request.method) {
    case 'percentile':
      threshold = quantile(magnitudes, request.percentile / 100);
      break;
    case 'entropy':
      // A one-sided asymmetric quantizer spends all its levels on [0, T]; the others spend half on each side.
      threshold = entropyThreshold(magnitudes, shape === 'positive' || shape === 'negative'
        ? request.levels : Math.floor(request.levels / 2));
      break;
    case 'mse':
      threshold = mseThreshold(magnitudes, request.levels, shape === 'magnitude');
      break;
  }
  threshold = Math.min(threshold, magnitudes.highest);
  switch (shape) {
    case 'magnitude': return { min: -threshold, max: threshold };
    case 'positive': return { min, max: Math.max(min, threshold) };
    case 'negative': return { min: Math.min(max, -threshold), max };
    case 'signed': return { min: Math.max(min, -threshold), max: Math.min(max, threshold) };
  }
}

type Shape = 'magnitude' | 'positive' | 'negative' | 'signed';

function validateRequest(request: RangeRequest): void {
  if (!Number.isInteger(request.levels) || request.levels < 4) {
    throw new RangeError(`calibration: levels must be an integer ≥ 4, got ${request.levels}`);
  }
  if (request.method === 'percentile' && !(request.percentile >= 50 && request.percentile <= 100)) {
    throw new RangeError(`calibration: percentile must be between 50 and 100, got ${request.percentile}`);
  }
}

/**
 * A histogram as the methods read it: bin i covers [origin + i·width, origin + (i+1)·width), and the values are
 * known to lie in [lowest, highest], which tightens the first and last non-empty bins.
 */
interface BinnedValues {
  counts: Float64Array;
  origin: number;
  width: number;
  lowest: number;
  highest: number;
  total: number;
}

function signedView(stats: TensorStats): BinnedValues {
  const counts = stats.bins;
  return { counts, origin: -stats.range, width: stats.binWidth, lowest: stats.min, highest: stats.max,
    total: sum(counts) };
}

/** |x| over [0, R): the positive half, the mirrored negative half, or both folded together. */
function magnitudeView(stats: TensorStats, shape: Shape): BinnedValues {
  const all = stats.bins;
  const half = all.length / 2;
  const counts = new Float64Array(half);
  const positive = shape !== 'negative';
  const negative = shape !== 'positive';
  for (let k = 0; k < half; k++) {
    counts[k] = (positive ? all[half + k] : 0) + (negative ? all[half - 1 - k] : 0);
  }
  const lowest = stats.min >= 0 ? stats.min : stats.max <= 0 ? -stats.max : 0;
  return { counts, origin: 0, width: stats.binWidth, lowest, highest: Math.max(-stats.min, stats.max),
    total: sum(counts) };
}

/** The value below which a share `q` (0..1) of the values lie, interpolating linearly inside a bin. */
function quantile(view: BinnedValues, q: number): number {
  const { counts, origin, width, lowest, highest } = view;
  const target = q * view.total;
  let below = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === 0) continue;
    if (below + c >= target) {
      const from = Math.max(origin + i * width, lowest);
      const to = Math.min(origin + (i + 1) * width, highest);
      const within = Math.min(1, Math.max(0, (target - below) / c));
      return from + within * (to - from);
    }
    below += c;
  }
  return highest;
}

/**
 * TensorRT's entropy calibration on a histogram of magnitudes. For each candidate threshold, a bin edge from
 * `targetBins` bins up to the last non-empty bin: P is the histogram cut there with everything beyond folded into
 * its last bin; Q is the cut histogram (without those outliers) merged into `targetBins` groups and spread back
 * evenly over the bins where P is non-zero, with empty-Q bins smoothed to a tiny count. Returns the edge whose
 * KL(P‖Q) is smallest (the largest such edge on ties).
 *
 * Two refinements follow NVIDIA's own reference implementation of this method: bin k of a candidate with i bins
 * goes to group floor(k · targetBins / i), so groups differ in size by at most one bin (instead of the last group
 * swallowing the remainder), and the first bin's count is replaced by the second's, so that a spike of exact
 * zeros (half of every ReLU output) does not dominate the divergence and drag the threshold down.
 *
 * Per candidate the sums run over groups, not bins, using prefix sums of h, h·ln h and of non-zero bins:
 *   KL = (Σ p ln p)/N − ln N − (Σ_groups P_g ln q_g)/N + ln Σ q,   N = total count.
 */
function entropyThreshold(view: BinnedValues, targetBins: number): number {
  const { width, lowest, highest } = view;
  let used = view.counts.length;
  while (used > 0 && view.counts[used - 1] === 0) used--;
  const first = Math.max(targetBins, Math.ceil(lowest / width));
  if (used <= first) return highest;
  const counts = view.counts.slice(0, used);
  counts[0] = counts[1];

  const prefixCount = new Float64Array(used + 1);
  const prefixCountLog = new Float64Array(used + 1);
  const prefixNonZero = new Float64Array(used + 1);
  for (let k = 0; k < used; k++) {
    const h = counts[k];
    prefixCount[k + 1] = prefixCount[k] + h;
    prefixCountLog[k + 1] = prefixCountLog[k] + (h > 0 ? h * Math.log(h) : 0);
    prefixNonZero[k + 1] = prefixNonZero[k] + (h > 0 ? 1 : 0);
  }
  const total = prefixCount[used];
  const logTotal = Math.log(total);

  let bestBins = used;
  let bestDivergence = Infinity;
  for (let bins = first; bins <= used; bins++) {
    const outliers = total - prefixCount[bins];
    const lastP = counts[bins - 1] + outliers;
    const sumPLogP = prefixCountLog[bins - 1] + (lastP > 0 ? lastP * Math.log(lastP) : 0);
    let sumPLogQ = 0;
    let sumQ = 0;
    let from = 0;
    for (let g = 0; g < targetBins; g++) {
      const isLast = g === targetBins - 1;
      const to = isLast ? bins : Math.ceil(((g + 1) * bins) / targetBins);
      const groupCount = prefixCount[to] - prefixCount[from];
      let nonZero = prefixNonZero[to] - prefixNonZero[from];
      let groupP = groupCount;
      if (isLast && outliers > 0) {
        groupP += outliers;
        if (counts[bins - 1] === 0) nonZero += 1;
      }
      from = to;
      if (nonZero === 0) continue;
      const q = groupCount > 0 ? groupCount / nonZero : ENTROPY_ZERO_SMOOTHING;
      sumQ += q * nonZero;
      sumPLogQ += groupP * Math.log(q);
    }
    const divergence = (sumPLogP - sumPLogQ) / total - logTotal + Math.log(sumQ);
    if (divergence <= bestDivergence) {
      bestDivergence = divergence;
      bestBins = bins;
    }
  }
  return Math.min(bestBins * width, highest);
}

/**
 * The threshold on magnitudes that minimizes the expected squared quantization error. Symmetric: the quantizer
 * is ±T with levels − 1 usable codes (the most negative code is left out so that negation is exact), so its step
 * is 2T/(levels − 2). One-sided: the quantizer is [0, T] with step T/(levels − 1) (zero is always representable).
 */
function mseThreshold(view: BinnedValues, levels: number, symmetric: boolean): number {
  const { lowest, highest } = view;
  let best = highest;
  let bestError = Infinity;
  // From the widest candidate down, so that ties keep the wider range.
  for (let k = MSE_CANDIDATES; k >= 1; k--) {
    const threshold = lowest + ((highest - lowest) * k) / MSE_CANDIDATES;
    const step = symmetric ? (2 * threshold) / (levels - 2) : threshold / (levels - 1);
    const error = expectedSquaredError(view, -Infinity, threshold, step);
    if (error < bestError) {
      bestError = error;
      best = threshold;
    }
  }
  return best;
}

/** The factor f in (0, 1] for which [f·min, f·max] has the smallest expected squared quantization error. */
function mseShrinkFactor(view: BinnedValues, min: number, max: number, levels: number): number {
  let best = 1;
  let bestError = Infinity;
  for (let k = MSE_CANDIDATES; k >= 1; k--) {
    const factor = k / MSE_CANDIDATES;
    const lo = factor * min;
    const hi = factor * max;
    const error = expectedSquaredError(view, lo, hi, (hi - lo) / (levels - 1));
    if (error < bestError) {
      bestError = error;
      best = factor;
    }
  }
  return best;
}

/**
 * Σ over the histogram of count × mean squared error of a quantizer whose grid is the multiples of `step` (zero is
 * exact) and which saturates outside [clipLo, clipHi], taking the values in each bin as uniformly spread over it.
 */
function expectedSquaredError(view: BinnedValues, clipLo: number, clipHi: number, step: number): number {
  const { counts, origin, width, lowest, highest } = view;
  let error = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (c === 0) continue;
    const from = Math.max(origin + i * width, lowest);
    const to = Math.min(origin + (i + 1) * width, highest);
    if (to <= from) {
      error += c * pointSquaredError(from, clipLo, clipHi, step);
      continue;
    }
    let integral = 0;
    if (from < clipLo) integral += cubeOver3(clipLo - from) - cubeOver3(clipLo - Math.min(to, clipLo));
    if (to > clipHi) integral += cubeOver3(to - clipHi) - cubeOver3(Math.max(from, clipHi) - clipHi);
    const insideFrom = Math.max(from, clipLo);
    const insideTo = Math.min(to, clipHi);
    if (insideTo > insideFrom) integral += roundingErrorIntegral(insideTo, step) - roundingErrorIntegral(insideFrom, step);
    error += (c * integral) / (to - from);
  }
  return error;
}

function pointSquaredError(x: number, clipLo: number, clipHi: number, step: number): number {
  if (x < clipLo) return (clipLo - x) ** 2;
  if (x > clipHi) return (x - clipHi) ** 2;
  const d = x - Math.round(x / step) * step;
  return d * d;
}

function cubeOver3(x: number): number {
  return (x * x * x) / 3;
}

/** ∫₀ˣ d(t)² dt, where d(t) is the distance from t to the nearest multiple of `step`. */
function roundingErrorIntegral(x: number, step: number): number {
  const cells = Math.floor(x / step);
  const r = x - cells * step;
  const half = step / 2;
  const partial = r <= half ? cubeOver3(r) : (step * step * step) / 12 - cubeOver3(step - r);
  return (cells * step * step * step) / 12 + partial;
}

function sum(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return s;
}
