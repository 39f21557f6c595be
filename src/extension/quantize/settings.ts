// The `octet.*` settings (declared in package.json `contributes.configuration`) as one typed object: the defaults
// of every quantization run. Defaults match the engine's own (`octet quantize --help`).
import * as vscode from 'vscode';
import type { ActivationType, BiasCorrectionChoice, CalibrationMethod } from '../../common/report';
import { ACTIVATION_TYPES, BIAS_CORRECTION_CHOICES, CALIBRATION_METHODS, PREPROCESS_CHOICES, PreprocessChoice } from './quantize-request';

export interface QuantizeDefaults {
  method: CalibrationMethod;
  percentile: number;
  calibrationCount: number;
  calibrationBatch: number;
  activations: ActivationType;
  perChannel: boolean;
  preprocess: PreprocessChoice;
  evaluationCount: number;
  benchmark: boolean;
  /** null: no accuracy gate, and the prompt for it is not shown. */
  maxDropPoints: number | null;
  biasCorrection: BiasCorrectionChoice;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}

function wholeNumber(value: unknown, fallback: number, min: number): number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min ? value : fallback;
}

export function readQuantizeDefaults(scope?: vscode.Uri): QuantizeDefaults {
  const config = vscode.workspace.getConfiguration('octet', scope);
  const maxDrop = config.get<unknown>('maxDrop');
  const percentile = config.get<unknown>('percentile');
  return {
    method: oneOf(config.get('method'), CALIBRATION_METHODS, 'mse'),
    percentile: typeof percentile === 'number' && percentile > 0 && percentile <= 100 ? percentile : 99.999,
    calibrationCount: wholeNumber(config.get('calibrationCount'), 100, 1),
    calibrationBatch: wholeNumber(config.get('calibrationBatch'), 8, 1),
    activations: oneOf(config.get('activations'), ACTIVATION_TYPES, 'u8'),
    perChannel: config.get<boolean>('perChannel') ?? true,
    preprocess: oneOf(config.get('preprocess'), PREPROCESS_CHOICES, 'auto'),
    evaluationCount: wholeNumber(config.get('evaluationCount'), 400, 0),
    benchmark: config.get<boolean>('benchmark') ?? true,
    maxDropPoints: typeof maxDrop === 'number' && maxDrop >= 0 ? maxDrop : null,
    biasCorrection: oneOf(config.get('biasCorrection'), BIAS_CORRECTION_CHOICES, 'auto'),
  };
}
