// IEEE 754 half precision (binary16), as ONNX Runtime hands float16 tensors to JavaScript: their bit patterns in a
// Uint16Array. Calibration exposes large activations in half precision (half the bytes to copy out of ORT, and a
// histogram that is one table increment per value); this decodes the patterns.

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

/** The value of one bit pattern. */
export function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : NaN;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  return sign * (1024 + mantissa) * 2 ** (exponent - 25);
}

/** Whether a pattern is NaN or ±Infinity (exponent bits all set). */
export function isHalfNonFinite(bits: number): boolean {
  return (bits & 0x7c00) === 0x7c00;
}
