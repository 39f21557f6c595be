// Report records of the accuracy techniques (weight rounding, SmoothQuant, the compared combinations); part of the
// Report type in report.ts, which re-exports them.
import type { BiasCorrectionMode } from './report';

/** One layer's weights rounded from calibration data: its output SQNR on the calibration inputs' second moments with
 *  round-to-nearest codes and with the chosen codes (same scales). */
export interface WeightRoundingLayer {
  node: string;
  /** Inputs per output row (Cin/groups·kh·kw) and the largest block with a dense second moment. */
  inputs: number;
  blockSize: number;
  /** Input vectors (im2col patches, tokens, samples) the moments were gathered over. */
  samples: number;
  nearestSqnrDb: number;
  sqnrDb: number;
  /** Output rows (channels) whose codes changed. */
  rowsChanged: number;
  seconds: number;
}

/** SmoothQuant between one LayerNorm and the MatMul/Gemm layers reading it: factors s (activation channel j ÷ s_j,
 *  weight row j × s_j) and the activation's largest channel range before and after. */
export interface SmoothQuantLayer {
  tensor: string;
  readers: string[];
  alpha: number;
  factorMin: number;
  factorMax: number;
  activationMax: { before: number; after: number };
}

/** One combination of accuracy techniques scored on the check samples (calibration samples the techniques did not
 *  learn from): output SQNR and, for models with an agreement measure, the share of samples that agree with FP32. */
export interface TechniqueCandidate {
  weightRounding: boolean;
  biasCorrection: 'off' | BiasCorrectionMode;
  floatNorms: boolean;
  outputSqnrDb: number;
  agreement: number | null;
  /** The combination the run kept (before any --max-drop tuning). */
  kept: boolean;
}
