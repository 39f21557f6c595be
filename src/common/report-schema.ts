// The Report (report.ts) described for validation: every interface there has its schema here, and each schema is
// checked against its interface at compile time (Schema<T> is exact), so adding or changing a Report field without
// describing it here fails the typecheck. Used to validate report JSON files and the report panel's saved state.
import {
  anyOf, array, boolean, Limits, literal, nullable, number, object, optional, partialRecord, record, Schema, string,
} from './schema';
import type {
  AccuracyResult, ActivationType, BenchResult, BiasCorrectionChoice, BiasCorrectionMode, CalibrationMethod, CalibrationTensorStats, DatasetInfo,
  KeptFloatOp, LatencyStats, LayerError, LayerSensitivity, Layout, MachineInfo, MethodChoice, ModelInfo, NodeTiming, OutputScore,
  Preprocessing, PreprocessPreset, QuantizeSettings, Report, SmoothQuantLayer, SpeedDecision, SpeedReport, TimeProfile, TopK, TuningReport, TuningTrial,
  TechniqueCandidate, TechniqueChoice, WeightRoundingLayer,
} from './report';

/** Largest report file read; a real report of a 10,000-layer model is a few MB. */
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;

/** Reports nest 5 levels deep; fields a newer Octet may add get some room, not unbounded. */
export const REPORT_LIMITS: Limits = { maxDepth: 16, maxSize: MAX_REPORT_BYTES };

const CALIBRATION_METHODS = ['minmax', 'entropy', 'percentile', 'mse'] as const;
const calibrationMethod: Schema<CalibrationMethod> = literal(...CALIBRATION_METHODS);
const methodChoice: Schema<MethodChoice> = literal(...CALIBRATION_METHODS, 'auto');
const activationType: Schema<ActivationType> = literal('u8', 's8');
const biasCorrectionChoice: Schema<BiasCorrectionChoice> = literal('auto', 'on', 'off', 'sequential');
const biasCorrectionMode: Schema<BiasCorrectionMode> = literal('fast', 'sequential');
const techniqueChoice: Schema<TechniqueChoice> = literal('auto', 'on', 'off');
const preprocessPreset: Schema<PreprocessPreset> = literal('torch', 'tf', 'caffe', 'raw', 'unit', 'none', 'custom');
const layout: Schema<Layout> = literal('NCHW', 'NHWC');
const preprocessing: Schema<Preprocessing & { reason: string }> = object({
  preset: preprocessPreset, channelOrder: literal('rgb', 'bgr'), mean: array(number()), std: array(number()),
  fit: literal('crop', 'stretch', 'letterbox', 'pad-right'), size: nullable(array(number())), resize: nullable(number()),
  crop: nullable(number()), padValue: number(), sizeMultiple: nullable(number()), maxSide: nullable(number()), reason: string(),
});

const tensorInfo = object({ name: string(), shape: array(anyOf(number(), string())), type: string() });
const opHistogram = record(number());

const modelInfo: Schema<ModelInfo> = object({
  path: string(), bytes: number(), opset: number(), irVersion: number(), producer: string(),
  inputs: array(tensorInfo), outputs: array(tensorInfo), opHistogram,
});

const quantizeSettings: Schema<QuantizeSettings> = object({
  method: calibrationMethod, methodRequested: methodChoice, equalize: boolean(),
  biasCorrection: optional(boolean()), biasCorrectionRequested: optional(biasCorrectionChoice), biasCorrectionMode: optional(biasCorrectionMode),
  weightRounding: optional(boolean()), weightRoundingRequested: optional(techniqueChoice),
  floatNorms: optional(boolean()), floatNormsRequested: optional(techniqueChoice),
  smoothQuant: optional(boolean()), smoothQuantRequested: optional(techniqueChoice),
  maxDrop: nullable(number()), percentile: number(), perChannel: boolean(), activations: activationType,
  weightRange: literal('full', 'pair-safe', '7bit'), calibCount: number(), calibBatch: number(),
  opTypes: array(string()), exclude: array(string()), preprocess: preprocessPreset,
  resize: nullable(number()), crop: nullable(number()), layout: nullable(layout), preprocessing: optional(nullable(preprocessing)),
});

const datasetInfo: Schema<DatasetInfo> = object({
  path: string(), kind: literal('image-folder', 'idx', 'npy', 'onnx-pb'), count: number(), labelled: boolean(),
  labelsSource: nullable(string()),
});

const topK: Schema<TopK> = object({ top1: number(), top5: nullable(number()) });

const outputScore: Schema<OutputScore> = object({
  name: string(), kind: literal('classification', 'map', 'sequence', 'other'), shape: array(number()),
  sqnrDb: number(), cosine: number(), maxAbsError: number(), agreement: nullable(number()),
  agreementMeasure: nullable(literal('top-1 class', 'pixels with the same class', 'pixels on the same side of the threshold', 'steps with the same class')),
  threshold: optional(number()),
});

const accuracyResult: Schema<AccuracyResult> = object({
  n: number(), labelled: boolean(), fp32: nullable(topK), int8: nullable(topK), agreement: nullable(number()),
  top1DropPoints: nullable(number()), outputSqnrDb: number(), outputCosine: number(), outputs: optional(array(outputScore)),
});

const latencyStats: Schema<LatencyStats> = object({ medianMs: number(), p90Ms: number(), meanMs: number(), minMs: number(), runs: number() });

const benchResult: Schema<BenchResult> = object({
  threads: number(), batch: number(), fp32: latencyStats, int8: latencyStats, speedup: number(),
  throughput: optional(object({ fp32: number(), int8: number() })),
});

const calibrationTensorStats: Schema<CalibrationTensorStats> = object({
  tensor: string(), min: number(), max: number(), rangeMin: number(), rangeMax: number(), scale: number(), zeroPoint: number(),
  method: optional(calibrationMethod),
});

const layerError: Schema<LayerError> = object({
  node: string(), opType: string(), tensor: string(), shape: array(number()), sqnrDb: number(),
  localSqnrDb: optional(number()), weightSqnrDb: optional(number()), ownSqnrDb: optional(number()),
  cosine: number(), maxAbsError: number(), clippedRatio: number(), scale: number(), zeroPoint: number(), method: calibrationMethod,
});

const keptFloatOp: Schema<KeptFloatOp> = object({ node: string(), opType: string(), reason: string() });

const tuningTrial: Schema<TuningTrial> = object({
  changed: string(), method: calibrationMethod, excluded: array(string()), top1DropPoints: nullable(number()),
  agreement: number(), outputSqnrDb: number(), speedup: nullable(number()), meetsBound: boolean(), kept: boolean(),
});

const tuningReport: Schema<TuningReport> = object({
  maxDrop: number(), metric: literal('top1-drop-points', 'agreement-loss-points'), trials: array(tuningTrial),
  stoppedBy: literal('bound-met', 'exhausted', 'timeout'), boundMet: boolean(), seconds: number(), note: nullable(string()),
});

const weightRoundingLayer: Schema<WeightRoundingLayer> = object({
  node: string(), inputs: number(), blockSize: number(), samples: number(), nearestSqnrDb: number(), sqnrDb: number(),
  rowsChanged: number(), seconds: number(),
});

const smoothQuantLayer: Schema<SmoothQuantLayer> = object({
  tensor: string(), readers: array(string()), alpha: number(), factorMin: number(), factorMax: number(),
  activationMax: object({ before: number(), after: number() }),
});

const techniqueCandidate: Schema<TechniqueCandidate> = object({
  weightRounding: boolean(), biasCorrection: literal('off', 'fast', 'sequential'), floatNorms: boolean(), outputSqnrDb: number(),
  agreement: nullable(number()), kept: boolean(),
});

const layerSensitivity: Schema<LayerSensitivity> = object({ node: string(), outputSqnrGainDb: number() });

const machineInfo: Schema<MachineInfo> = object({
  cpu: string(), cores: number(), vnni: boolean(), avx512: boolean(), avx2: boolean(), ortVersion: string(),
  nodeVersion: string(), platform: string(),
});

const calibration: Schema<Report['calibration']> = object({
  dataset: datasetInfo, images: number(), seconds: number(), peakRssMb: number(), tensors: array(calibrationTensorStats),
  methodScores: nullable(partialRecord(CALIBRATION_METHODS, number())),
  tensorMethods: optional(nullable(object({
    scored: number(), overrides: record(calibrationMethod), kept: boolean(),
    outputSqnrDb: object({ model: number(), perTensor: number() }),
  }))),
  biasCorrection: optional(nullable(object({
    layers: number(), samples: number(), seconds: number(), mode: optional(biasCorrectionMode),
    outputSqnrDb: nullable(object({ off: number(), on: number() })),
  }))),
  weightRounding: optional(nullable(object({
    applied: boolean(), scope: literal('budget', 'all'), layers: array(weightRoundingLayer),
    skipped: array(object({ node: string(), reason: string() })), seconds: object({ moments: number(), solve: number() }),
  }))),
  floatNorms: optional(nullable(object({ applied: boolean(), nodes: array(keptFloatOp) }))),
  smoothQuant: optional(nullable(object({
    applied: boolean(), layers: array(smoothQuantLayer), seconds: number(), outputSqnrDb: nullable(object({ off: number(), on: number() })),
  }))),
  techniques: optional(nullable(object({ candidates: array(techniqueCandidate), checkSamples: number(), seconds: number() }))),
  decode: optional(nullable(object({ samples: number(), seconds: number(), workers: number() }))),
});

const nodeTiming: Schema<NodeTiming> = object({
  node: string(), opType: string(), fp32Ms: number(), int8Ms: number(), fp32Kernels: array(string()), int8Kernels: array(string()),
  overheadMs: number(),
});

const timeProfile: Schema<TimeProfile> = object({
  runs: number(), batch: number(), threads: number(), fp32TotalMs: number(), int8TotalMs: number(), nodes: array(nodeTiming),
  byOpType: array(object({ opType: string(), count: number(), fp32Ms: number(), int8Ms: number(), overheadMs: number() })),
  unattributedInt8Ms: number(),
});

const speedDecision: Schema<SpeedDecision> = object({
  nodes: array(string()), action: literal('keep-float', 'int8'), reason: string(), beforeMs: number(), afterMs: number(), kept: boolean(),
});

const speedReport: Schema<SpeedReport> = object({
  mode: literal('auto', 'off'), decisions: array(speedDecision), fp32Ms: number(), int8Ms: number(), fasterThanFp32: boolean(), seconds: number(),
});

export const reportSchema: Schema<Report> = object({
  schemaVersion: number(), octetVersion: string(), createdAt: string(),
  fp32Model: modelInfo, int8Model: modelInfo, optimizedFp32Ops: opHistogram,
  settings: quantizeSettings, calibration,
  quantizedNodes: array(object({ node: string(), opType: string() })),
  keptFloat: array(keptFloatOp), int8RuntimeOps: opHistogram,
  accuracy: nullable(accuracyResult),
  evaluation: nullable(object({ dataset: datasetInfo, skip: number(), limit: number() })),
  bench: array(benchResult), layers: array(layerError),
  sensitivity: optional(nullable(array(layerSensitivity))),
  tuning: nullable(tuningReport), warnings: array(string()), machine: machineInfo,
  run: optional(object({ seconds: number(), peakRssMb: number() })),
  profile: optional(nullable(timeProfile)), speed: optional(nullable(speedReport)),
  paddedInputs: optional(array(object({ node: string(), channels: number(), paddedTo: number() }))),
});
