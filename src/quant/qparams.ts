// Quantization parameters and the integer arithmetic of ONNX QuantizeLinear / DequantizeLinear:
//   q = saturate(roundHalfToEven(x / scale) + zeroPoint),   x ≈ (q − zeroPoint) · scale.
// Scales are float32 values (what the model stores), so every scale returned here is already rounded to float32.
//
// Integer ranges used:
//   type  asymmetric        symmetric (zero point in the middle, so that x and −x quantize to opposite codes)
//   s8    −128..127         −127..127, zero point 0
//   u8    0..255            0..254, zero point 127
// reduceRange uses 7 bits instead (s8 −64..63, symmetric −63..63; u8 0..127, symmetric 0..126 with zero point 63),
// which keeps u8×s8 products from saturating 16-bit accumulators on CPUs without VNNI.
import type { Range } from './calibrators';

export type QuantType = 'u8' | 's8';

export interface QParams { scale: number; zeroPoint: number }

export interface QParamsOptions { symmetric: boolean; reduceRange: boolean }

export interface IntegerRange { qmin: number; qmax: number }

/** Scale used for a range that is all zeros (ONNX Runtime's choice too): any scale represents 0 exactly. */
export const ZERO_RANGE_SCALE = 1;

/** Smallest positive normal float32; a smaller scale would be denormal or 0 once stored. */
const FLOAT32_MIN_NORMAL = 2 ** -126;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The integer codes a quantizer of this type may produce. */
export function integerRange(type: QuantType, opts: QParamsOptions): IntegerRange {
  const bits = opts.reduceRange ? 7 : 8;
  if (type === 's8') {
    const qmax = 2 ** (bits - 1) - 1;
    return { qmin: opts.symmetric ? -qmax : -qmax - 1, qmax };
  }
  const qmax = 2 ** bits - 1;
  return { qmin: 0, qmax: opts.symmetric ? qmax - 1 : qmax };
}

/** The full code range of the type, which QuantizeLinear saturates to. */
function typeRange(type: QuantType): IntegerRange {
  return type === 's8' ? { qmin: -128, qmax: 127 } : { qmin: 0, qmax: 255 };
}

/**
 * Scale and zero point for quantizing `range`. The range is first extended to include 0, so that 0 (padding,
 * ReLU output) is exactly representable. A range that is all zeros (or so small that its scale would underflow
 * float32) gets scale ZERO_RANGE_SCALE.
 */
export function computeQParams(range: Range, type: QuantType, opts: QParamsOptions): QParams {
  if (!Number.isFinite(range.min) || !Number.isFinite(range.max) || range.min > range.max) {
    throw new RangeError(`computeQParams: invalid range [${range.min}, ${range.max}]`);
  }
  const lo = Math.min(range.min, 0);
  const hi = Math.max(range.max, 0);
  const { qmin, qmax } = integerRange(type, opts);
  if (opts.symmetric) {
    const zeroPoint = (qmin + qmax) / 2;
    const scale = Math.fround(Math.max(-lo, hi) / ((qmax - qmin) / 2));
    return scale >= FLOAT32_MIN_NORMAL ? { scale, zeroPoint } : { scale: ZERO_RANGE_SCALE, zeroPoint };
  }
  const scale = Math.fround((hi - lo) / (qmax - qmin));
  if (!(scale >= FLOAT32_MIN_NORMAL)) return { scale: ZERO_RANGE_SCALE, zeroPoint: clamp(0, qmin, qmax) };
  return { scale, zeroPoint: clamp(roundHalfToEven(qmin - lo / scale), qmin, qmax) };
}

/**
 * Rounds to the nearest integer, ties to the even one (as ONNX QuantizeLinear does). floor(x + 0.5) is the nearest
 * integer with ties up, except where x + 0.5 itself rounds up (x just below 0.5): r − x is exact (x and r are within a
 * factor of two, or r is 0), so it tells both cases apart — above 0.5 the sum rounded, at 0.5 a tie. Doubles of 2^52
 * and more are integers already. With Math.round, or a floor then a compare of the fraction, quantizing a weight (divide,
 * round, clamp, store) took 11–14 ns on this machine's V8; this way, 4.
 */
export function roundHalfToEven(x: number): number {
  if (!(Math.abs(x) < 2 ** 52)) return x;
  const r = Math.floor(x + 0.5);
  const d = r - x;
  return d > 0.5 || (d === 0.5 && r % 2 !== 0) ? r - 1 : r;
}

/** QuantizeLinear of one value: saturates to the type's full range. NaN maps to the zero point. */
export function quantizeValue(x: number, p: QParams, type: QuantType): number {
  if (Number.isNaN(x)) return p.zeroPoint;
  const { qmin, qmax } = typeRange(type);
  return clamp(roundHalfToEven(x / p.scale) + p.zeroPoint, qmin, qmax);
}

/** DequantizeLinear of one code. */
export function dequantizeValue(q: number, p: QParams): number {
  return (q - p.zeroPoint) * p.scale;
}

/**
 * Symmetric int8 weights (zero points all 0, codes in −127..127, or −63..63 with reduceRange): one scale per slice
 * along `axis` (per-channel; the output-channel axis is 0 for Conv and Gemm with transB, 1 for MatMul) or one
 * scale for the whole tensor (axis null). Rounds half to even, like QuantizeLinear. Negative axes count from the
 * end, as in ONNX.
 */
export function quantizeWeights(weights: Float32Array, dims: readonly number[], axis: number | null,
  opts: { reduceRange: boolean; minScales?: Float32Array }): { values: Int8Array; scales: Float32Array; zeroPoints: Int8Array } {
  const elements = dims.reduce((n, d) => n * d, 1);
  if (elements !== weights.length) {
    throw new RangeError(`quantizeWeights: dims [${dims.join(', ')}] hold ${elements} values, got ${weights.length}`);
  }
  let channels = 1;
  let inner = elements;
  if (axis !== null) {
    const a = axis < 0 ? axis + dims.length : axis;
    if (!Number.isInteger(a) || a < 0 || a >= dims.length) {
      throw new RangeError(`quantizeWeights: axis ${axis} is out of range for rank ${dims.length}`);
    }
    channels = dims[a];
    inner = dims.slice(a + 1).reduce((n, d) => n * d, 1);
  }
  // Element i belongs to channel floor(i / inner) % channels: runs of `inner` values cycle through the channels.
  const absMax = new Float64Array(channels);
  for (let start = 0, c = 0; start < weights.length; start += inner, c = (c + 1) % channels) {
    let m = absMax[c];
    for (let i = start; i < start + inner; i++) {
      const w = weights[i];
      if (!Number.isFinite(w)) throw new RangeError(`quantizeWeights: value ${i} is ${w}; weights must be finite`);
      if (Math.abs(w) > m) m = Math.abs(w);
    }
    absMax[c] = m;
  }
  const qOpts: QParamsOptions = { symmetric: true, reduceRange: opts.reduceRange };
  const { qmin, qmax } = integerRange('s8', qOpts);
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scales[c] = computeQParams({ min: -absMax[c], max: absMax[c] }, 's8', qOpts).scale;
    const floor = opts.minScales?.[opts.minScales.length === 1 ? 0 : c] ?? 0;
    if (floor > scales[c]) scales[c] = Math.fround(floor);
  }
  const values = new Int8Array(weights.length);
  for (let start = 0, c = 0; start < weights.length; start += inner, c = (c + 1) % channels) {
    const scale = scales[c];
    for (let i = start; i < start + inner; i++) values[i] = clamp(roundHalfToEven(weights[i] / scale), qmin, qmax);
  }
  return { values, scales, zeroPoints: new Int8Array(channels) };
}

/** Largest |code| a quantized bias is given room for: half of int32, leaving headroom for bias-correction shifts. */
export const BIAS_CODE_LIMIT = 2 ** 30;

/**
 * Smallest weight scales for which `bias` fits in ±BIAS_CODE_LIMIT codes at input scale `inputScale` (one per bias
 * value; one for per-tensor weights). The bias scale is inputScale · weightScale: a channel whose weights all but
 * vanished (a BatchNorm γ near 0 folded into them) would get a bias scale so small that its bias clamps at int32 and
 * is lost — a conv with one such channel measured 2.8 dB. Its weights then round to ~0 at the larger scale, which
 * costs at most |bias| · K · 2⁻²³ (K inputs of up to 255 codes each).
 */
export function biasFitMinScales(bias: Float32Array, inputScale: number, perTensor: boolean): Float32Array {
  const floors = bias.map((b) => Math.abs(b) / (inputScale * BIAS_CODE_LIMIT));
  return perTensor ? Float32Array.of(floors.reduce((a, b) => Math.max(a, b), 0)) : floors;
}

/**
 * Int32 bias for a quantized Conv/Gemm: scale[c] = inputScale · weightScales[c] (rounded to float32, as the model
 * stores it), code = roundHalfToEven(bias / scale) clamped to int32. weightScales has length 1 (per-tensor weights)
 * or one per bias element (per-channel).
 */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array):
  { values: Int32Array; scales: Float32Array } {
  if (weightScales.length !== 1 && weightScales.length !== bias.length) {
    throw new RangeError(`quantizeBias: ${weightScales.length} weight scales for ${bias.length} bias values`);
  }
  const scales = new Float32Array(weightScales.length);
  for (let c = 0; c < scales.length; c++) {
    scales[c] = Math.fround(inputScale * weightScales[c]);
    if (!(scales[c] > 0 && Number.isFinite(scales[c]))) {
      throw new RangeError(`quantizeBias: scale ${inputScale} × ${weightScales[c]} is not a positive float32`);
    }
  }
  const values = new Int32Array(bias.length);
  for (let i = 0; i < bias.length; i++) {
    const b = bias[i];
    if (!Number.isFinite(b)) throw new RangeError(`quantizeBias: value ${i} is ${b}; bias must be finite`);
    values[i] = clamp(roundHalfToEven(b / scales[scales.length === 1 ? 0 : i]), INT32_MIN, INT32_MAX);
  }
  return { values, scales };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
