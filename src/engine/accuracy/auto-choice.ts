// Choices Octet makes by measurement rather than by rule: each candidate INT8 model is built from the same kept
// statistics (no recalibration) and run on a check set of calibration samples; the one whose outputs are closest to
// FP32 (mean output SQNR) wins. Used for --method auto (which calibration method) and, with classifiers judged by
// top-1 agreement first (beats), for the accuracy techniques (techniques.ts: bias correction, weight rounding, float
// norms, SmoothQuant).
import type { CalibrationMethod } from '../../common/report';
import { Conversion, ConvertChoice } from '../../quant/convert';
import { BuildConversion } from './conversion-builder';
import type { Reference } from '../runtime/evaluate';
import { roundTo } from '../../common/numbers';

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
  return (await checkScore(check, conversion)).outputSqnrDb;
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

/** How close a candidate's outputs are to FP32 on the check set: output SQNR, and the top-1 agreement of classifiers
 *  over `samples` samples. */
export interface CheckScore { outputSqnrDb: number; agreement: number | null; samples: number }

export async function checkScore(check: CheckSet, conversion: Conversion): Promise<CheckScore> {
  const scores = await check.reference.compare(conversion.bytes, check.label, { signal: check.signal });
  return { outputSqnrDb: roundTo(scores.outputSqnrDb), agreement: scores.agreement, samples: check.reference.samples.size };
}

/**
 * Check samples by which two candidates' top-1 agreement must differ before it decides, else output SQNR does: the
 * net flips of near-equal candidates are noise until a sign test on them says otherwise (6 samples all one way:
 * p = 0.03). Smaller margins let noise decide: on MobileNet-V1, 32 and 64 check samples ranked weight rounding + bias
 * correction one flip below bias correction alone, while 400 other images gave it +1 dB and +0.5 points; on
 * ShuffleNet-V2 (random weights) three flips on 32 samples kept nearest rounding without bias correction, 1.1 dB below
 * on other images with the same (100 %) agreement there.
 */
export const AGREEMENT_MARGIN_SAMPLES = 6;

/**
 * How far apart two check-set SQNRs can be by chance: candidates that differ only by float rounding in their FP32
 * statistics (ONNX Runtime's optimized vs plain graph) scored 0.3–1.0 dB apart on MobileNet-V1's 64 check samples, as
 * ranges chosen on histogram bins jump. A technique adopted unless it measures worse by more than this (bias
 * correction, see techniques.ts) is not dropped for noise.
 */
export const SQNR_NOISE_DB = 0.5;

/**
 * Whether `a` is closer to FP32 than `b`. A classifier is judged by its top-1 agreement first when the two differ by
 * AGREEMENT_MARGIN_SAMPLES samples or more (a candidate that flips more classes is worse, whatever its SQNR), else by
 * output SQNR, which must be higher by more than `marginDb`; other models by output SQNR alone.
 */
export function beats(a: CheckScore, b: CheckScore, marginDb = 0): boolean {
  if (a.agreement !== null && b.agreement !== null) {
    const flips = Math.round((a.agreement - b.agreement) * Math.min(a.samples, b.samples));
    if (Math.abs(flips) >= AGREEMENT_MARGIN_SAMPLES) return flips > 0;
  }
  return a.outputSqnrDb > b.outputSqnrDb + marginDb;
}
