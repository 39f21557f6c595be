// IEEE 754 half precision (binary16), as ONNX Runtime hands float16 tensors to JavaScript: their bit patterns in a
// Uint16Array. Calibration exposes large activations in half precision (half the bytes to copy out of ORT, and a
// histogram that is one table increment per value); this decodes the patterns.
import { halfToFloat } from '../onnx/tensor';

/** The largest finite half-precision value. */
export const HALF_MAX = 65504;

/** Patterns per table: every 16-bit value. */
export const HALF_PATTERNS = 65536;

let decoded: Float32Array | null = null;

/** The value of every bit pattern, NaN and ±Infinity included (decoded once, exactly: float32 holds every half). */
export function halfValues(): Float32Array {
  if (decoded) return decoded;
  const values = new Float32Array(HALF_PATTERNS);
  for (let bits = 0; bits < HALF_PATTERNS; bits++) values[bits] = halfToFloat(bits);
  return decoded = values;
}

let intervals: { lows: Float32Array; highs: Float32Array } | null = null;

/**
 * For every finite pattern, the interval of values that round to it (round to nearest): halfway to its neighbours in
 * magnitude, up to 65520 beyond the largest. ±0 stay points (an exact 0 is common: ReLU); NaN and ±Infinity get [v, v].
 */
export function halfRoundingIntervals(): { lows: Float32Array; highs: Float32Array } {
  if (intervals) return intervals;
  const values = halfValues();
  const lows = new Float32Array(HALF_PATTERNS);
  const highs = new Float32Array(HALF_PATTERNS);
  for (let bits = 0; bits < HALF_PATTERNS; bits++) {
    const magnitude = bits & 0x7fff;
    const v = values[bits];
    if (magnitude === 0 || !Number.isFinite(v)) {
      lows[bits] = v;
      highs[bits] = v;
      continue;
    }
    const below = (values[magnitude - 1] + values[magnitude]) / 2;
    const above = magnitude === LARGEST_FINITE ? 65520 : (values[magnitude] + values[magnitude + 1]) / 2;
    const negative = (bits & 0x8000) !== 0;
    lows[bits] = negative ? -above : below;
    highs[bits] = negative ? -below : above;
  }
  return intervals = { lows, highs };
}

/** The pattern of the largest finite half (65504). */
const LARGEST_FINITE = 0x7bff;

/**
 * The half-precision bit patterns nearest to `values` (float32), into `out`: round to nearest, ties to even; beyond
 * the largest finite half, ±Infinity; NaN a quiet NaN — as ONNX Runtime's Cast to float16 gives them. The common case
 * (a normal half, or ±0: ReLU's zeros) takes no branch that depends on the value.
 */
export function floatsToHalfBits(values: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    const magnitude = b & 0x7fffffff;
    // Rebias the exponent (127 → 15) and round the mantissa to 10 bits by integer carries (+0xfff, +1 when odd);
    // magnitudes below the smallest normal half give 0 here (masked).
    const normal = ((magnitude + 0xc8000fff + ((magnitude >>> 13) & 1)) >>> 13) & ~((magnitude - 0x38800000) >> 31);
    // Subnormal halves, and magnitudes that round beyond the largest finite half (or are not finite): the long way.
    out[i] = ((magnitude - 1) >>> 0) >= 0x387fffff && magnitude < 0x477ff000 ? normal | ((b >>> 16) & 0x8000) : halfBitsOf(b);
  }
}

/** The half pattern nearest to the float32 of bit pattern `bits`, case by case. */
function halfBitsOf(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0);
  const halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00;
  if (halfExponent <= 0) {
    // Subnormal half: the significand (implicit 1 included) shifted right; values below 2^-25 round to ±0.
    if (halfExponent < -10) return sign;
    const significand = mantissa | 0x800000;
    const shift = 14 - halfExponent;
    let h = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  // A carry out of the mantissa moves into the exponent (and from the largest finite half to Infinity), as it should.
  let h = (halfExponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}
