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
