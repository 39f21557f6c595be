// Choices Octet makes by measurement rather than by rule: each candidate INT8 model is built from the same kept
// statistics (no recalibration) and run on a check set of calibration samples; the one whose outputs are closest to
// FP32 (mean output SQNR) wins. Used for --method auto (which calibration method) and --bias-correction auto
// (whether correcting layer output means helps this model).
import type { CalibrationMethod } from '../../common/report';
import { Conversion, ConvertChoice } from '../../quant/convert';
import { BuildConversion } from './conversion-builder';
import type { Reference } from '../runtime/evaluate';

export const AUTO_METHODS: CalibrationMethod[] = ['mse', 'percentile', 'entropy', 'minmax'];

/** Samples with their FP32 outputs (a Reference), on which candidates are compared. */
export interface CheckSet {
  reference: Reference;
  /** Names the candidate models in errors (the INT8 model being written). */
  label: string;
  signal?: AbortSignal;
}

/** Mean output SQNR (dB) of `conversion` against FP32 on the check set, rounded to 0.001. */
export async function outputSqnr(check: CheckSet, conversion: Conversion): Promise<number> {
  const scores = await check.reference.compare(conversion.bytes, check.label, { signal: check.signal });
  return Math.round(scores.outputSqnrDb * 1000) / 1000;
}

export async function pickMethod(build: BuildConversion, base: Omit<ConvertChoice, 'method'>, check: CheckSet):
  Promise<{ method: CalibrationMethod; scores: Record<string, number> }> {
  const scores: Record<string, number> = {};
  let best: CalibrationMethod = AUTO_METHODS[0];
  for (const method of AUTO_METHODS) {
    scores[method] = await outputSqnr(check, await build({ ...base, method }));
    if (scores[method] > scores[best]) best = method;
  }
  return { method: best, scores };
}

/** Builds the choice with and without bias correction; keeps correction only if it brings the outputs closer to FP32. */
export async function pickBiasCorrection(build: BuildConversion, base: ConvertChoice, check: CheckSet):
  Promise<{ biasCorrection: boolean; scores: { off: number; on: number }; conversion: Conversion }> {
  const corrected = await build({ ...base, biasCorrection: true });
  const uncorrected = await build({ ...base, biasCorrection: false });
  const on = await outputSqnr(check, corrected);
  const off = await outputSqnr(check, uncorrected);
  return { biasCorrection: on > off, scores: { off, on }, conversion: on > off ? corrected : uncorrected };
}
