// The Report: what one Octet run measured. Defined once here; the CLI writes it (JSON), the extension's report
// panel renders it, the graph viewer overlays its per-layer table on the nodes (keyed by node name).
// Schema documented in docs/report-schema.md; bump REPORT_SCHEMA_VERSION on any incompatible change.
// Accuracies are fractions in 0..1; drops are in percentage points (0.4 means 0.4 points of top-1 lost).

import type { SmoothQuantLayer, TechniqueCandidate, WeightRoundingLayer } from './report-techniques';
export type { SmoothQuantLayer, TechniqueCandidate, WeightRoundingLayer } from './report-techniques';
export const REPORT_SCHEMA_VERSION = 2;

export type CalibrationMethod = 'minmax' | 'entropy' | 'percentile' | 'mse';
/** What the user may ask for: a method, or 'auto' (the one with the least output error on calibration samples). */
export type MethodChoice = CalibrationMethod | 'auto';
export type ActivationType = 'u8' | 's8';
/** Bias correction as asked for: always (fast), never, only when it brings the outputs closer to FP32, or the
 *  sequential kind (each layer corrected on the INT8 model's own inputs, layer after layer; slower). */
export type BiasCorrectionChoice = 'auto' | 'on' | 'off' | 'sequential';
/** How bias shifts were measured: each layer on FP32 inputs (fast), or on the INT8 model's own inputs, layer after layer. */
export type BiasCorrectionMode = 'fast' | 'sequential';
/** A measured accuracy technique as asked for: 'auto' (where it is cheap, kept when it brings the outputs closer to
 *  FP32 on the check samples), always, or never. */
export type TechniqueChoice = 'auto' | 'on' | 'off';
/** A named preprocessing ('custom': numbers that are no preset's; 'none': tensor data, taken as it is). */
export type PreprocessPreset = 'torch' | 'tf' | 'caffe' | 'raw' | 'unit' | 'none' | 'custom';
export type Layout = 'NCHW' | 'NHWC';
export type ChannelOrder = 'rgb' | 'bgr';
/**
 * How an image becomes the sample size: `crop` resize the shorter side, centre crop; `stretch` resize to the size;
 * `letterbox` keep the ratio, pad to the size, centred; `pad-right` keep the ratio, height fills, pad right/bottom.
 */
export type ImageFit = 'crop' | 'stretch' | 'letterbox' | 'pad-right';

/**
 * The exact preprocessing of image samples (src/data/preprocessing.ts): each 8-bit pixel in the model's channel order
 * becomes (pixel − mean[c]) / std[c]; a plain object, so it can be written to a file and sent to a worker.
 */
export interface Preprocessing {
  /** The preset these numbers are, or 'custom'. */
  preset: PreprocessPreset;
  /** Order of the model's 3 channels. */
  channelOrder: ChannelOrder;
  /** Per model channel (3 values; a 1-channel model uses their average), in 0..255 pixel units. */
  mean: number[];
  std: number[];
  fit: ImageFit;
  /** [height, width] of every sample; null when each sample has its own size (sizeMultiple). */
  size: number[] | null;
  /** `crop` fit: shorter side resized to this (null: crop / 0.875). */
  resize: number | null;
  /** `crop` fit: the square window taken (null: the size); resized to the size when it differs. */
  crop: number | null;
  /** Value of padded pixels (letterbox, pad-right), in pixel units. */
  padValue: number;
  /** Each sample at its own size: the image keeps its ratio, longer side at most maxSide, sides multiples of this. */
  sizeMultiple: number | null;
  maxSide: number | null;
}

export interface ModelInfo {
  path: string;
  bytes: number;
  opset: number;
  irVersion: number;
  producer: string;
  inputs: { name: string; shape: (number | string)[]; type: string }[];
  outputs: { name: string; shape: (number | string)[]; type: string }[];
  /** Node count per op type. */
  opHistogram: Record<string, number>;
}

export interface QuantizeSettings {
  /** The method whose ranges the written model uses. */
  method: CalibrationMethod;
  /** What the user asked for ('auto' lets Octet compare the methods). */
  methodRequested: MethodChoice;
  /** Activation range equalization across consecutive convolutions was applied. */
  equalize: boolean;
  /** Bias correction (layer output means matched to FP32) was applied to the written model. */
  biasCorrection?: boolean;
  biasCorrectionRequested?: BiasCorrectionChoice;
  /** With bias correction: how the shifts were measured (absent: fast). */
  biasCorrectionMode?: BiasCorrectionMode;
  /** Weights rounded from calibration data (layer-wise, GPTQ-style) rather than to nearest, in some layers at least. */
  weightRounding?: boolean;
  weightRoundingRequested?: TechniqueChoice;
  /** LayerNorm/Softmax inputs and pieces kept in float. */
  floatNorms?: boolean;
  floatNormsRequested?: TechniqueChoice;
  /** SmoothQuant scaling between LayerNorms and the MatMul/Gemm layers reading them. */
  smoothQuant?: boolean;
  smoothQuantRequested?: TechniqueChoice;
  /** Accuracy-aware mode bound in points, or null. */
  maxDrop: number | null;
  percentile: number;
  perChannel: boolean;
  activations: ActivationType;
  /** Weight code range: full −127..127, pair-safe (only as coarse as non-VNNI U8S8 kernels need), 7bit −63..63. */
  weightRange: 'full' | 'pair-safe' | '7bit';
  calibCount: number;
  calibBatch: number;
  opTypes: string[];
  exclude: string[];
  preprocess: PreprocessPreset;
  resize: number | null;
  crop: number | null;
  layout: Layout | null;
  /** The exact image preprocessing and where it came from; null for tensor data (.npy, .pb: taken as they are). */
  preprocessing?: (Preprocessing & { reason: string }) | null;
}

export interface DatasetInfo {
  path: string;
  kind: 'image-folder' | 'idx' | 'npy' | 'onnx-pb';
  count: number;
  labelled: boolean;
  labelsSource: string | null;
}

export interface TopK { top1: number; top5: number | null }

/** What a model output is, from its shape: [N, C] classification, [N, C, H, W] map, [N, T, C] sequence, or other. */
export type OutputKind = 'classification' | 'map' | 'sequence' | 'other';
export type AgreementMeasure = 'top-1 class' | 'pixels with the same class' | 'pixels on the same side of the threshold' | 'steps with the same class';

/** One model output, INT8 against FP32 on the evaluation samples. */
export interface OutputScore {
  name: string;
  kind: OutputKind;
  /** Shape of one sample's output (batch left out), as seen on the evaluation samples. */
  shape: number[];
  /** Mean over samples of the output's SQNR (dB). */
  sqnrDb: number;
  cosine: number;
  maxAbsError: number;
  /** Share (0..1) of what `agreementMeasure` counts that INT8 gets the same as FP32; null for kind 'other'. */
  agreement: number | null;
  agreementMeasure: AgreementMeasure | null;
  /** One-class maps: the threshold compared (0.5 for probabilities, 0 for logits). */
  threshold?: number;
}

export interface AccuracyResult {
  n: number;
  /** Top-1/top-5 against labels: only when the first output is a classification and every sample has a label. */
  labelled: boolean;
  fp32: TopK | null;
  int8: TopK | null;
  /** Classifiers (first output a classification): share of samples where FP32 and INT8 pick the same top-1 class
   *  (0..1). Null for other models: see `outputs` for the measure that fits each output. */
  agreement: number | null;
  /** FP32 top-1 minus INT8 top-1, in percentage points; null without labels. */
  top1DropPoints: number | null;
  /** Signal-to-quantization-noise ratio of the INT8 outputs against FP32, dB (mean over samples, then over outputs). */
  outputSqnrDb: number;
  /** Mean cosine similarity of INT8 and FP32 outputs (over samples, then outputs). */
  outputCosine: number;
  /** Every model output with the measure that fits its kind (absent in schema-1 reports). */
  outputs?: OutputScore[];
}

export interface LatencyStats { medianMs: number; p90Ms: number; meanMs: number; minMs: number; runs: number }

export interface BenchResult {
  threads: number;
  batch: number;
  fp32: LatencyStats;
  int8: LatencyStats;
  /** FP32 median / INT8 median. */
  speedup: number;
  /** Samples (images) per second from the medians: batch / median seconds. Absent in reports from before it existed. */
  throughput?: { fp32: number; int8: number };
}

export interface CalibrationTensorStats {
  tensor: string;
  min: number;
  max: number;
  /** The range chosen by the calibration method. */
  rangeMin: number;
  rangeMax: number;
  scale: number;
  zeroPoint: number;
  /** Set when this tensor's range came from another method than settings.method (--method auto, per tensor). */
  method?: CalibrationMethod;
}

export interface LayerError {
  /** Node name as in the INT8 (and FP32 optimized) graph: the graph viewer overlays by this key. */
  node: string;
  opType: string;
  /** Output tensor compared. */
  tensor: string;
  shape: number[];
  /** Accumulated error: this tensor in the INT8 model vs FP32 (every layer before it quantized). */
  sqnrDb: number;
  /** Local error of this tensor's own Q/DQ pair: FP32 values quantized and dequantized with its scale, vs FP32. */
  localSqnrDb?: number;
  /** Weighted ops (Conv, Gemm, MatMul): SQNR of the dequantized int8 weights against the FP32 weights. */
  weightSqnrDb?: number;
  /** Error this node adds itself in the INT8 model, as an SQNR (dB; lower = adds more): relative noise power at its
   *  output minus the worst at its inputs (graph inputs count as exact). Ranks layers by their own contribution. */
  ownSqnrDb?: number;
  cosine: number;
  maxAbsError: number;
  /** Share of values outside the quantization range (0..1). */
  clippedRatio: number;
  scale: number;
  zeroPoint: number;
  method: CalibrationMethod;
}

export interface KeptFloatOp {
  node: string;
  opType: string;
  reason: string;
}

export interface TuningTrial {
  /** What this trial changed relative to the starting point. */
  changed: string;
  method: CalibrationMethod;
  /** Nodes kept in FP32 in this trial (user's --exclude included). */
  excluded: string[];
  top1DropPoints: number | null;
  agreement: number;
  outputSqnrDb: number;
  /** FP32 median / INT8 median at batch 1, one thread (short run). */
  speedup: number | null;
  meetsBound: boolean;
  /** The trial whose model was written. */
  kept: boolean;
}

export interface TuningReport {
  maxDrop: number;
  metric: 'top1-drop-points' | 'agreement-loss-points';
  trials: TuningTrial[];
  stoppedBy: 'bound-met' | 'exhausted' | 'timeout';
  boundMet: boolean;
  seconds: number;
  note: string | null;
}

/** A layer's measured effect on the model output: output SQNR gained (dB) when it alone returns to FP32. */
export interface LayerSensitivity { node: string; outputSqnrGainDb: number }

export interface MachineInfo {
  cpu: string;
  cores: number;
  vnni: boolean;
  avx512: boolean;
  avx2: boolean;
  ortVersion: string;
  nodeVersion: string;
  platform: string;
}

/** One node of the FP32 (optimized) graph: what it costs in each model, at batch 1 with one thread. */
export interface NodeTiming {
  /** Node name in the FP32 optimized graph (the INT8 model keeps these names): the graph overlay's key. */
  node: string;
  opType: string;
  /** Ms per run (median over the profiled runs, per kernel) of the ORT kernels that computed this node in the FP32
   *  model, with the NCHWc reorders around them (0 when fused into another node's kernel). */
  fp32Ms: number;
  /** Ms per run (median) of the INT8 model's kernels mapped to this node (its int8 kernel, or its float kernel when kept). */
  int8Ms: number;
  /** ORT kernels (op types) that ran for it: e.g. FusedConv in FP32, QLinearConv in INT8. */
  fp32Kernels: string[];
  int8Kernels: string[];
  /** Ms per run (median) of the QuantizeLinear/DequantizeLinear/layout kernels at this node's borders in the INT8
   *  model: a QuantizeLinear (also the model input's) is charged to the int8 kernel that reads it, a DequantizeLinear
   *  to the one that wrote it, an NHWC Transpose to the int8 kernel beside it. */
  overheadMs: number;
}

/** Where the time goes, measured with ONNX Runtime's profiler on the FP32 and the INT8 model. */
export interface TimeProfile {
  /** Profiled runs per model (after warm-up), batch and threads. */
  runs: number;
  batch: number;
  threads: number;
  /** Ms per run summed over all kernels (per-kernel medians; not wall time: session overhead excluded). */
  fp32TotalMs: number;
  int8TotalMs: number;
  /** Every FP32 node that ran, in graph order. */
  nodes: NodeTiming[];
  /** Totals per FP32 op type, most FP32 time first. */
  byOpType: { opType: string; count: number; fp32Ms: number; int8Ms: number; overheadMs: number }[];
  /** INT8 kernel time Octet could not attribute to an FP32 node (ms per run). */
  unattributedInt8Ms: number;
}

/** One decision of the speed-aware choice: a region of nodes tried in float (or int8) and what it measured. */
export interface SpeedDecision {
  /** FP32 node names in the region. */
  nodes: string[];
  /** What was tried: keeping the nodes in float, or returning nodes an earlier kept decision put in float to int8. */
  action: 'keep-float' | 'int8';
  /** Why the region was a candidate, e.g. "int8 + Q/DQ 0.41 ms vs float 0.22 ms in the profile". */
  reason: string;
  /** Batch-1, one-thread median ms of the whole INT8 model before and after the change. */
  beforeMs: number;
  afterMs: number;
  /** Whether the change was kept (it made the model faster and, with --max-drop, kept the bound). */
  kept: boolean;
}

export interface PaddedInput {
  node: string;
  /** The input channels the layer reads (a depthwise layer's channels), and what they were padded to. */
  channels: number;
  paddedTo: number;
}

export interface SpeedReport {
  /** As requested: 'auto' (default) or 'off'. */
  mode: 'auto' | 'off';
  decisions: SpeedDecision[];
  /** Batch-1, one-thread median ms of the FP32 model and of the written INT8 model, measured in the same run:
   *  interleaved, or the profiled runs' medians when those put INT8 at 0.8 of FP32's time or less (when
   *  fasterThanFp32 is false and every layer was kept in float, int8Ms is the fastest INT8 layout tried). */
  fp32Ms: number;
  int8Ms: number;
  /** False when no INT8 layout beat FP32 on this machine (the Report says why; see profile). */
  fasterThanFp32: boolean;
  seconds: number;
}

export interface Report {
  schemaVersion: number;
  octetVersion: string;
  createdAt: string;
  fp32Model: ModelInfo;
  int8Model: ModelInfo;
  /** The FP32 model after ORT basic optimization (BatchNorm folded), which is what was quantized. */
  optimizedFp32Ops: Record<string, number>;
  settings: QuantizeSettings;
  calibration: {
    dataset: DatasetInfo;
    images: number;
    seconds: number;
    peakRssMb: number;
    tensors: CalibrationTensorStats[];
    /** With --method auto: mean output SQNR (dB) of each method on calibration samples. */
    methodScores: Partial<Record<CalibrationMethod, number>> | null;
    /** With --method auto: tensors whose range another method chose better (error at the layers reading them), and
     *  whether that beat the model-wide method on output SQNR (kept) — null when no tensor preferred another method. */
    tensorMethods?: { scored: number; overrides: Record<string, CalibrationMethod>; kept: boolean;
      outputSqnrDb: { model: number; perTensor: number } } | null;
    /** Bias correction, unless turned off: layers corrected in the written model, samples and time spent measuring
     *  the shifts, and (with 'auto') output SQNR on calibration samples without and with it. */
    biasCorrection?: { layers: number; samples: number; seconds: number; mode?: BiasCorrectionMode;
      outputSqnrDb: { off: number; on: number } | null } | null;
    /** Weight rounding, unless turned off: layers rounded in the written model with their error before/after on the
     *  calibration statistics, layers left to nearest (and why), the scope ('budget': the layers cheapest to round,
     *  within a fixed cost; 'all'), and seconds gathering input moments (ORT) and choosing codes (JS). */
    weightRounding?: { applied: boolean; scope: 'budget' | 'all'; layers: WeightRoundingLayer[]; skipped: { node: string; reason: string }[];
      seconds: { moments: number; solve: number } } | null;
    /** LayerNorm/Softmax kept in float, unless turned off or the model has none: the nodes concerned (and why) and
     *  whether the written model keeps them in float. */
    floatNorms?: { applied: boolean; nodes: KeptFloatOp[] } | null;
    /** SmoothQuant, unless turned off or the model has no LayerNorm feeding a MatMul/Gemm: factors per LayerNorm,
     *  seconds, and (with 'auto') output SQNR on the check samples without and with it. */
    smoothQuant?: { applied: boolean; layers: SmoothQuantLayer[]; seconds: number; outputSqnrDb: { off: number; on: number } | null } | null;
    /** The combinations of weight rounding, bias correction and float norms scored on the check samples (absent/null
     *  when nothing was compared), and the seconds the comparison took. */
    techniques?: { candidates: TechniqueCandidate[]; checkSamples: number; seconds: number } | null;
    /** Reading the calibration samples over the whole run (`seconds` above is the calibration's wall time): samples
     *  decoded (`images` when each was decoded once, more when passes streamed them again), the seconds decoding
     *  threads spent on them (summed over threads, overlapping other work) and how many threads decoded images
     *  (0: the data set holds tensors, nothing to decode). */
    decode?: { samples: number; seconds: number; workers: number } | null;
  };
  quantizedNodes: { node: string; opType: string }[];
  keptFloat: KeptFloatOp[];
  /** Op histogram of the INT8 model as ONNX Runtime optimizes it (QLinearConv etc.): what actually runs. */
  int8RuntimeOps: Record<string, number>;
  accuracy: AccuracyResult | null;
  evaluation: { dataset: DatasetInfo; skip: number; limit: number } | null;
  bench: BenchResult[];
  layers: LayerError[];
  /** Layers by measured effect on the output, most sensitive first, on a few evaluation samples for as many layers as
   *  the time allowed (accuracy-aware search, or --sensitivity); absent/null when not measured. */
  sensitivity?: LayerSensitivity[] | null;
  /** Accuracy-aware mode (--max-drop) or --method auto: every trial; null when neither ran. */
  tuning: TuningReport | null;
  /** The whole run: wall seconds from reading the model to assembling this Report, and the process's peak RSS by then. */
  run?: { seconds: number; peakRssMb: number };
  /** Per-node time of the FP32 and INT8 models (batch 1, one thread); absent/null when not profiled. When no INT8
   *  layout beat FP32 (the written model kept in float), the INT8 layout before the speed-aware choice: where int8 lost. */
  profile?: TimeProfile | null;
  /** Speed-aware choice (regions kept in float because int8 was slower there); absent/null when it did not run. */
  speed?: SpeedReport | null;
  /** Layers whose channels the written model pads for ONNX Runtime's fast int8 kernels (an RGB stem's input, a depthwise
   *  chain; exact: zero channels read by zero weights); absent when none. */
  paddedInputs?: PaddedInput[];
  warnings: string[];
  machine: MachineInfo;
}
