// Step 8: the Report — what the run measured, assembled from the steps' results (schema in src/common/report.ts).
import type { BenchResult, Report } from '../../common/report';
import { REPORT_SCHEMA_VERSION } from '../../common/report';
import { OCTET_VERSION } from '../../common/version';
import { decodeWorkers } from '../../data/decode-pool';
import { modelInfo, opHistogram } from '../../onnx/model-info';
import type { Calibrated } from './calibrate';
import { techniqueReport } from '../accuracy/techniques';
import type { CalibrationData } from './calibration-data';
import type { Chosen } from './choose';
import type { Evaluated } from './evaluate';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';
import type { SpeedTiming } from './speed';
import { roundTo } from '../../common/numbers';

export interface RunResults {
  model: PreparedModel;
  data: CalibrationData;
  calibrated: Calibrated;
  chosen: Chosen;
  evaluated: Evaluated;
  int8RuntimeOps: Record<string, number>;
  bench: BenchResult[];
  /** The time profile and the speed-aware choice (pipeline/speed.ts). */
  timing: SpeedTiming;
}


export function buildReport(run: Run, results: RunResults): Report {
  const { request, paths } = run;
  const { model, data, calibrated, chosen, evaluated } = results;
  const { choice, conversion } = evaluated;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    octetVersion: OCTET_VERSION,
    createdAt: new Date().toISOString(),
    fp32Model: modelInfo(model.loaded.model, paths.model, model.loaded.fileBytes),
    int8Model: modelInfo(conversion.model, paths.out, conversion.bytes.byteLength),
    optimizedFp32Ops: opHistogram(model.optimized),
    settings: {
      method: choice.method, methodRequested: request.method, percentile: request.percentile, perChannel: model.perChannel,
      activations: request.activations, weightRange: model.weightRange, equalize: request.equalize && model.perChannel,
      biasCorrection: choice.biasCorrection, biasCorrectionRequested: request.biasCorrection,
      ...(choice.biasCorrection ? { biasCorrectionMode: choice.biasCorrectionMode ?? 'fast' } : {}),
      weightRounding: (conversion.roundedWeights?.length ?? 0) > 0, weightRoundingRequested: request.weightRounding,
      floatNorms: choice.floatNorms === true, floatNormsRequested: request.floatNorms,
      smoothQuant: chosen.smoothQuant?.applied === true, smoothQuantRequested: request.smoothQuant, calibCount: data.calibIndices.length,
      calibBatch: data.batch, opTypes: request.opTypes ?? [], exclude: [...choice.exclude], preprocess: data.preprocessing?.preset ?? 'none',
      resize: data.preprocessing?.resize ?? null, crop: data.preprocessing?.crop ?? null, layout: model.input.layout, maxDrop: request.maxDrop,
      preprocessing: data.preprocessing,
    },
    calibration: {
      dataset: data.calibSet.info, images: calibrated.images, seconds: roundTo(calibrated.seconds), peakRssMb: calibrated.peakRssMb,
      tensors: conversion.tensorStats, methodScores: chosen.methodScores, tensorMethods: chosen.tensorMethods,
      ...techniqueReport(chosen.builder, chosen.techniques, conversion, choice, chosen.techniqueRequest, chosen.checkSamples),
      smoothQuant: chosen.smoothQuant,
      decode: { samples: data.samples.decoded, seconds: roundTo(data.samples.decodeSeconds), workers: data.samples.decodeSeconds > 0 ? decodeWorkers() : 0 },
    },
    quantizedNodes: conversion.quantizedNodes,
    keptFloat: conversion.kept,
    int8RuntimeOps: results.int8RuntimeOps,
    accuracy: evaluated.accuracy,
    evaluation: evaluated.evaluation,
    bench: results.bench,
    layers: evaluated.layers,
    sensitivity: evaluated.sensitivity,
    tuning: evaluated.tuning,
    profile: results.timing.profile,
    speed: results.timing.speed,
    ...(conversion.paddedInputs ? { paddedInputs: conversion.paddedInputs } : {}),
    warnings: run.allWarnings(),
    machine: model.machine,
    run: { seconds: roundTo((performance.now() - run.startedAt) / 1000), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) },
  };
}
