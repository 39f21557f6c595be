// Which calibration samples do which job after the statistics pass: bias shifts are measured on the first
// BIAS_SAMPLES, automatic choices (method, techniques) are compared on a check set held out from those. The check set's
// FP32 outputs are kept from the statistics pass itself (it runs the FP32 model over every calibration sample), so
// the comparisons need no FP32 run of their own.
import { OutputCapture } from '../runtime/evaluate';
import type { ModelInput } from '../../data/model-input';

/** Calibration samples on which bias shifts are measured. */
export const BIAS_SAMPLES = 32;
/**
 * The check set automatic choices (method, techniques) are compared on: calibration samples held out from the ones
 * bias shifts are measured on, at most MAX_CHECK_SAMPLES and CHECK_SET_BYTES of decoded input together (64 ImageNet-size
 * images; a 640×640 detector gets 16), never fewer than MIN_CHECK_SAMPLES while there are that many. 32 samples could
 * not tell weight rounding from none on MobileNet-V1 (44.69 vs 44.76 dB) where 64 agreed with 400 other images.
 */
const MAX_CHECK_SAMPLES = 64;
const MIN_CHECK_SAMPLES = 16;
const CHECK_SET_BYTES = 64 * 3 * 224 * 224 * 4;

/** Where the check set starts among the calibration samples and how many it takes. */
export function checkSetRange(calibrationSamples: number, bytesPerSample: number): { from: number; count: number } {
  const wanted = Math.min(MAX_CHECK_SAMPLES, Math.max(MIN_CHECK_SAMPLES, Math.floor(CHECK_SET_BYTES / bytesPerSample)));
  const heldOut = calibrationSamples - BIAS_SAMPLES;
  // Too few held out: the check set overlaps the bias samples (a weaker check, still better than none).
  if (heldOut < MIN_CHECK_SAMPLES) return { from: 0, count: Math.min(wanted, calibrationSamples) };
  return { from: BIAS_SAMPLES, count: Math.min(wanted, heldOut) };
}

/** Keeps the check set's FP32 outputs from the statistics pass (null when the model's batch is fixed: runs hold padding). */
export function checkSetCapture(calibrationSamples: number, bytesPerSample: number, input: ModelInput, outputNames: readonly string[]): OutputCapture | null {
  if (input.fixedBatch !== null) return null;
  const range = checkSetRange(calibrationSamples, bytesPerSample);
  return new OutputCapture(outputNames, range.from, range.count);
}
