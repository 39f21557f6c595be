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

/** Whether a pattern is NaN or ±Infinity (exponent bits all set). */
export function isHalfNonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}
