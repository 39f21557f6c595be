// One conversion: FP32 reference graph (optimized, equalized) + calibration statistics + a choice of method and
// excluded nodes -> an INT8 QDQ model. Pure apart from cloning; cheap enough to repeat for every tuning trial
// (calibration statistics are reused, never recollected).
import { InternalError } from '../common/errors';
import type { ActivationType, BiasCorrectionMode, CalibrationMethod, CalibrationTensorStats, KeptFloatOp, PaddedInput, WeightRoundingLayer } from '../common/report';
import { copySharingInitializers, Graph } from '../onnx/graph';
import { encodeModel, ModelProto } from '../onnx/proto';
import { chooseRange } from './calibrators';
import { TensorStats } from './histogram';
import { planQuantization, QuantPlan } from './plan';
import { computeQParams, QParams } from './qparams';
import { runsInt8Kernel } from './registry';
import { applyPlan, WeightRange, WeightRecord, WeightRounder } from './rewrite';
import { ConversionCache } from './conversion-cache';

/** Element type and shape of an intermediate tensor, as a probe run of the FP32 model found them. */
export interface TensorFacts { type: string; dims: number[] }

export interface ConvertContext {
  label: string;
  opset: number;
  perChannel: boolean;
  weightRange: WeightRange;
  activations: ActivationType;
  percentile: number;
  opTypes: ReadonlySet<string> | null;
  facts: Map<string, TensorFacts>;
  producer: { name: string; version: string };
  /** Layer-wise weight rounding (set per build by the ConversionBuilder when the choice asks for it). */
  roundWeights?: WeightRounder;
  /** What earlier conversions of the same reference and statistics computed (set by the ConversionBuilder). */
  cache?: ConversionCache;
  /** Zero weights: the QDQ layout only, to see that ONNX Runtime loads it (see RewriteOptions.placeholderWeights). */
  placeholderWeights?: boolean;
}

export interface ConvertChoice {
  method: CalibrationMethod;
  exclude: ReadonlySet<string>;
  /** Correct the output mean shift of quantized Conv/Gemm layers (applied by ConversionBuilder, which measures it). */
  biasCorrection: boolean;
  /** Per-tensor method overrides (--method auto per tensor); other tensors use `method`. */
  tensorMethods?: ReadonlyMap<string, CalibrationMethod>;
  /** How bias shifts are measured: each layer on FP32 inputs (fast, the default) or layer after layer on the INT8 model's. */
  biasCorrectionMode?: BiasCorrectionMode;
  /** Round weights from calibration data instead of to nearest (applied by ConversionBuilder, which measures it). */
  weightRounding?: boolean;
  /** Keep LayerNorm/Softmax inputs and pieces in float (ConversionBuilder adds those nodes to `exclude`). */
  floatNorms?: boolean;
  /** Why Octet itself keeps nodes of `exclude` in float (speed, accuracy); the others are the user's --exclude. */
  floatReasons?: ReadonlyMap<string, string>;
}

export interface Conversion {
  model: ModelProto;
  bytes: Uint8Array;
  plan: QuantPlan;
  quantizedNodes: { node: string; opType: string }[];
  kept: KeptFloatOp[];
  activationParams: Map<string, QParams>;
  tensorStats: CalibrationTensorStats[];
  /** Layers whose bias was corrected (0 without bias correction). */
  biasCorrected: number;
  /** The model-wide calibration method (tensorStats[].method says where a tensor used another). */
  method: CalibrationMethod;
  /** Int8 weights per quantized weighted node, with their error against FP32. */
  weights: WeightRecord[];
  /** Layers whose weights were rounded from calibration data (with ConvertChoice.weightRounding). */
  roundedWeights?: WeightRoundingLayer[];
  /** Layers whose channels were padded for ORT's fast int8 kernels (kernel-alignment.ts). */
  paddedInputs?: PaddedInput[];
}

/** Plans on `reference` without changing it (to learn which tensors need calibration and which nodes are quantized). */
export function planFor(reference: ModelProto, ctx: ConvertContext, exclude: ReadonlySet<string>,
  floatReasons?: ReadonlyMap<string, string>): { graph: Graph; plan: QuantPlan } {
  const graph = new Graph(reference.graph!);
  const plan = planQuantization(graph, {
    opTypes: ctx.opTypes, exclude, ...(floatReasons ? { floatReasons } : {}),
    isFloat: (t) => (ctx.facts.get(t)?.type ?? (graph.graphInputs.has(t) ? 'float32' : '')) === 'float32',
    opset: ctx.opset,
  });
  return { graph, plan };
}

/** Whether the plan runs any int8 kernel (not only data movement on uint8). */
export function computesInInt8(plan: QuantPlan): boolean {
  return plan.quantized.some((n) => runsInt8Kernel(n));
}

/** The activation range and scale/zero point `method` chooses for a calibrated tensor. */
export function activationQParams(s: TensorStats, method: CalibrationMethod, ctx: ConvertContext): { range: { min: number; max: number }; params: QParams } {
  const range = s.count > 0
    ? chooseRange(s, { method, percentile: ctx.percentile, symmetric: false, levels: 256 })
    : { min: 0, max: 0 };
  return { range, params: computeQParams(range, ctx.activations, { symmetric: false, reduceRange: false }) };
}

export function convert(reference: ModelProto, stats: Map<string, TensorStats>, ctx: ConvertContext, choice: ConvertChoice): Conversion {
  const converted = convertModel(reference, stats, ctx, choice);
  return { ...converted, bytes: encodeModel(converted.model) };
}

/** convert() without serializing: for callers that change the model further before encoding it once. */
export function convertModel(reference: ModelProto, stats: Map<string, TensorStats>, ctx: ConvertContext, choice: ConvertChoice): Omit<Conversion, 'bytes'> {
  const model = copySharingInitializers(reference);
  const { graph, plan } = planFor(model, ctx, choice.exclude, choice.floatReasons);
  const tensorStats: CalibrationTensorStats[] = [];
  const params = new Map<string, QParams>();
  const cache = ctx.cache ?? new ConversionCache();
  for (const t of plan.calibrationTensors) {
    const s = stats.get(t);
    if (!s) throw new InternalError(`tensor '${t}' was not calibrated (converting ${ctx.label})`);
    const method = choice.tensorMethods?.get(t) ?? choice.method;
    const { range, params: p } = cache.activation(t, method, () => activationQParams(s, method, ctx));
    params.set(t, p);
    tensorStats.push({ tensor: t, min: s.min, max: s.max, rangeMin: range.min, rangeMax: range.max, scale: p.scale, zeroPoint: p.zeroPoint,
      ...(method !== choice.method ? { method } : {}) });
  }
  for (const [t, range] of plan.fixedRanges) {
    // The op fixes the range (HardSigmoid's [0, 1]): exact saturation at the clamp needs exactly it.
    params.set(t, computeQParams(range, ctx.activations, { symmetric: false, reduceRange: false }));
  }
  const quantizedNodes = plan.quantized.map((n) => ({ node: n.name ?? n.output[0], opType: n.op_type ?? '' }));
  const rewrite = applyPlan(graph, plan, (t) => params.get(t)!, {
    activations: ctx.activations, perChannel: ctx.perChannel, weightRange: ctx.weightRange,
    channelsOf: (t) => ctx.facts.get(t)?.dims[1], roundWeights: ctx.roundWeights, axisAllowed: ctx.opset >= 13, cache,
    placeholderWeights: ctx.placeholderWeights,
  });
  model.producer_name = ctx.producer.name;
  model.producer_version = ctx.producer.version;
  return { model, plan, quantizedNodes, kept: plan.kept, activationParams: rewrite.activationParams, tensorStats, biasCorrected: 0,
    method: choice.method, weights: rewrite.weights };
}
