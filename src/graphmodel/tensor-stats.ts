// Summary statistics and a small histogram of a tensor's values, computed on demand in the extension host; only
// these few numbers reach the webview, never the weights.
import { NumericArray } from '../onnx/tensor';

export interface Histogram { min: number; max: number; counts: number[] }

export interface TensorStats {
  count: number;
  /** How many values were read: large tensors are sampled with a fixed stride. */
  sampled: number;
  min: number;
  max: number;
  mean: number;
  std: number;
  /** Share of exact zeros (0..1). */
  zeros: number;
  /** NaN and infinite values, skipped by the other figures. */
  nonFinite: number;
  histogram: Histogram;
}

/** Values read at most; a 100 MB weight tensor is summarised from an evenly strided sample. */
export const STATS_SAMPLE_LIMIT = 4_000_000;

export function tensorStats(values: ArrayLike<number>, bins = 32): TensorStats {
  const count = values.length;
  const stride = Math.max(1, Math.ceil(count / STATS_SAMPLE_LIMIT));
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let sumSq = 0;
  let zeros = 0;
  let nonFinite = 0;
  let n = 0;
  for (let i = 0; i < count; i += stride) {
    const v = values[i];
    if (!Number.isFinite(v)) { nonFinite++; continue; }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSq += v * v;
    if (v === 0) zeros++;
    n++;
  }
  if (n === 0) {
    return { count, sampled: 0, min: NaN, max: NaN, mean: NaN, std: NaN, zeros: 0, nonFinite, histogram: { min: 0, max: 0, counts: [] } };
  }
  const mean = sum / n;
  const std = Math.sqrt(Math.max(0, sumSq / n - mean * mean));
  const counts = new Array<number>(bins).fill(0);
  const width = max - min;
  for (let i = 0; i < count; i += stride) {
    const v = values[i];
    if (!Number.isFinite(v)) continue;
    const b = width > 0 ? Math.min(bins - 1, Math.floor(((v - min) / width) * bins)) : 0;
    counts[b]++;
  }
  return { count, sampled: n, min, max, mean, std, zeros: zeros / n, nonFinite, histogram: { min, max, counts } };
}

/** (q - zeroPoint) * scale, per tensor or along `axis` (per channel). */
export function dequantize(q: NumericArray, dims: readonly number[], scales: ArrayLike<number>, zeroPoints: ArrayLike<number>, axis = 1): Float32Array {
  const out = new Float32Array(q.length);
  if (scales.length <= 1) {
    const s = scales[0] ?? 1;
    const z = zeroPoints[0] ?? 0;
    for (let i = 0; i < q.length; i++) out[i] = (Number(q[i]) - z) * s;
    return out;
  }
  const a = axis < 0 ? axis + dims.length : axis;
  let inner = 1;
  for (let d = a + 1; d < dims.length; d++) inner *= dims[d];
  const channels = dims[a] ?? scales.length;
  for (let i = 0; i < q.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (Number(q[i]) - (zeroPoints[c] ?? zeroPoints[0] ?? 0)) * scales[c];
  }
  return out;
}
