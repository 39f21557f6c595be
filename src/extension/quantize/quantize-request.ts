// What one quantization run asks of the engine, and how that becomes `octet quantize` arguments.
// No vscode here: the same request comes from the prompts, from settings, from tests and from "re-run".
import { basename, dirname, join } from 'node:path';
import type { ActivationType, BiasCorrectionChoice, CalibrationMethod, PreprocessPreset } from '../../common/report';

/** `auto` lets the engine guess; the others are the engine's presets. */
export type PreprocessChoice = 'auto' | Exclude<PreprocessPreset, 'none'>;

export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'entropy', 'percentile', 'mse'];
export const PREPROCESS_CHOICES: readonly PreprocessChoice[] = ['auto', 'torch', 'tf', 'caffe', 'raw', 'unit'];
export const ACTIVATION_TYPES: readonly ActivationType[] = ['u8', 's8'];
export const BIAS_CORRECTION_CHOICES: readonly BiasCorrectionChoice[] = ['auto', 'on', 'off'];

export interface QuantizeRequest {
  /** FP32 model, absolute path. */
  model: string;
  /** Folder of calibration (and evaluation) images. */
  calibrationDir: string;
  /** Labels file; null lets the engine use class subfolders or run unlabelled. */
  labelsFile: string | null;
  preprocess: PreprocessChoice;
  method: CalibrationMethod;
  /** Only used by the percentile method. */
  percentile: number | null;
  calibrationCount: number;
  calibrationBatch: number;
  activations: ActivationType;
  perChannel: boolean;
  /** Images used to compare FP32 and INT8; 0 skips evaluation. */
  evaluationCount: number;
  benchmark: boolean;
  /** Largest acceptable top-1 drop in points (engine flag `--max-drop`); null leaves it out. */
  maxDropPoints: number | null;
  /** Engine flag `--bias-correction`; 'auto' (the engine's default) is not passed. */
  biasCorrection: BiasCorrectionChoice;
  /** INT8 model path; default `MODEL.int8.onnx` beside the model. */
  outputModel: string;
  /** Report path; default `MODEL.int8.report.json` beside the model. */
  outputReport: string;
}

/** The engine's default output names: `resnet.onnx` → `resnet.int8.onnx` and `resnet.int8.report.json`. */
export function defaultOutputPaths(model: string): { outputModel: string; outputReport: string } {
  const stem = basename(model).replace(/\.onnx$/i, '');
  return {
    outputModel: join(dirname(model), `${stem}.int8.onnx`),
    outputReport: join(dirname(model), `${stem}.int8.report.json`),
  };
}

/** Arguments after `dist/engine.js`; progress is always requested as JSON lines on stderr. */
export function engineArguments(request: QuantizeRequest): string[] {
  const args = ['quantize', request.model, '--calib', request.calibrationDir];
  if (request.labelsFile) args.push('--labels', request.labelsFile);
  args.push('--calib-count', String(request.calibrationCount));
  args.push('--calib-batch', String(request.calibrationBatch));
  args.push('--method', request.method);
  if (request.method === 'percentile' && request.percentile !== null) args.push('--percentile', String(request.percentile));
  if (!request.perChannel) args.push('--per-tensor');
  args.push('--activations', request.activations);
  args.push('--preprocess', request.preprocess);
  if (request.evaluationCount > 0) args.push('--eval-count', String(request.evaluationCount));
  else args.push('--no-eval');
  if (!request.benchmark) args.push('--no-bench');
  if (request.maxDropPoints !== null) args.push('--max-drop', String(request.maxDropPoints));
  if (request.biasCorrection !== 'auto') args.push('--bias-correction', request.biasCorrection);
  args.push('--out', request.outputModel, '--report', request.outputReport, '--progress', 'json');
  return args;
}

/** Checks the numbers a person typed or a caller passed; returns a sentence naming the bad field, or null. */
export function describeInvalidRequest(request: QuantizeRequest): string | null {
  const positiveInt = (n: number) => Number.isInteger(n) && n > 0;
  if (!request.model.toLowerCase().endsWith('.onnx')) return `${request.model} is not an .onnx file.`;
  if (!request.calibrationDir) return 'No calibration image folder was given.';
  if (!positiveInt(request.calibrationCount)) return `The number of calibration images must be a whole number above 0 (got ${request.calibrationCount}).`;
  if (!positiveInt(request.calibrationBatch)) return `The calibration batch size must be a whole number above 0 (got ${request.calibrationBatch}).`;
  if (!Number.isInteger(request.evaluationCount) || request.evaluationCount < 0) return `The number of evaluation images must be a whole number, 0 or more (got ${request.evaluationCount}).`;
  if (!CALIBRATION_METHODS.includes(request.method)) return `Unknown calibration method '${request.method}' (use ${CALIBRATION_METHODS.join(', ')}).`;
  if (!PREPROCESS_CHOICES.includes(request.preprocess)) return `Unknown preprocessing preset '${request.preprocess}' (use ${PREPROCESS_CHOICES.join(', ')}).`;
  if (!ACTIVATION_TYPES.includes(request.activations)) return `Unknown activation type '${request.activations}' (use u8 or s8).`;
  if (request.percentile !== null && !(request.percentile > 0 && request.percentile <= 100)) return `The percentile must be in (0, 100] (got ${request.percentile}).`;
  if (request.maxDropPoints !== null && !(request.maxDropPoints >= 0)) return `The maximum accuracy drop must be 0 or more points (got ${request.maxDropPoints}).`;
  return null;
}
