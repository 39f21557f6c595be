// The numbers a Report keeps: figures rounded to a fixed number of decimals, and SQNR in dB from sums of squares with
// the bounds every SQNR in a Report uses (200 dB for no error, −200 dB for no signal).

/** `value` rounded to `digits` decimals (3 by default: what Reports keep of dB, milliseconds and seconds). */
export function roundTo(value: number, digits = 3): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** 10·log10(signal / noise) in dB, rounded to 0.001: 200 when there is no noise, −200 when there is no signal. */
export function sqnrDbOf(signal: number, noise: number): number {
  return noise <= 0 ? 200 : signal <= 0 ? -200 : roundTo(10 * Math.log10(signal / noise));
}
