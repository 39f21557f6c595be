// Large activations leave ONNX Runtime in half precision for their histograms. Copying every activation of every
// calibration sample out of ORT in float32, and binning it, cost more than the inference itself (ResNet-50: 100 images,
// 71 tensors, 36 MB per image). The probe graph instead casts each large tensor to float16 (half the bytes to copy; the
// histogram is one table increment per bit pattern) and computes its exact [min, max] beside it (ReduceMin/ReduceMax, a
// two-value tensor), so R and the extent stay exact. A half keeps 11 significant bits: in the top octave of [-R, R] its
// spacing is one histogram bin, so each pattern's count is spread over the values that round to it (as points, the
// rounded values sat half a bin high there, and ranges chosen on them cost SqueezeNet 0.75 dB of output SQNR).
// The reducing thread counts a tensor of twice HALF_SAMPLED_VALUES or more values per sample (with today's constants,
// every tensor exposed here) on every p-th value only (tensor-reductions.ts, sampleStride): ORT still computes and
// copies every value, but the counting no longer takes the cores from it.
// A tensor whose extent a half cannot hold — beyond ±65504, non-finite, or so small that the spacing of subnormal halves
// is coarser than the bins — is measured again in float32 (statsFromHalf returns null).
import { Graph, intAttribute, makeNode } from '../../onnx/graph';
import type { ModelProto, NodeProto, ValueInfoProto } from '../../onnx/proto';
import { HALF_MAX } from '../../quant/half-float';
import { TensorStats, TensorStatsState } from '../../quant/histogram';

/**
 * Tensors with fewer values per sample stay float32: each batch of a half histogram scans its 4 × 65536-counter table,
 * which costs what counting a quarter million values does (ViT-tiny's 236 tensors of 38K values took 4 s longer).
 */
export const HALF_MIN_VALUES = 65536;
/**
 * Below this max |x|, a histogram bin (2R/4096 ≥ 2^-19 for R ≥ 2^-8) would no longer be 32 times wider than the
 * spacing of subnormal halves (2^-24): measured in float32 instead.
 */
const HALF_MIN_RANGE = 2 ** -8;
/** TensorProto.DataType FLOAT and FLOAT16. */
const FLOAT = 1;
const FLOAT16 = 10;

/** Where one tensor is read from in the probe: its float16 values and its exact [min, max]. */
export interface HalfExposure {
  values: string;
  extent: string;
}

/**
 * A copy of `model` with every tensor of at least HALF_MIN_VALUES values per sample (rank ≥ 1, dims known) exposed as
 * float16 plus its [min, max]. Tensors of unknown dims (all of them without `dimsOf`) or fewer values are not in the
 * map (expose them as they are).
 */
export function halfPrecisionProbe(model: ModelProto, tensors: readonly string[], dimsOf: ((tensor: string) => readonly number[] | undefined) | undefined):
  { model: ModelProto; exposed: Map<string, HalfExposure> } {
  const exposed = new Map<string, HalfExposure>();
  if (!dimsOf) return { model, exposed };
  const graph = new Graph(model.graph!);
  const nodes: NodeProto[] = [];
  // Declared as graph outputs here, with their types (a run fetches only the outputs it names).
  const outputs: ValueInfoProto[] = [];
  for (const t of new Set(tensors)) {
    const dims = dimsOf(t);
    if (!dims || dims.length === 0 || dims.reduce((a, b) => a * b, 1) < HALF_MIN_VALUES) continue;
    const values = graph.uniqueName(`${t}_half`);
    const low = graph.uniqueName(`${t}_min`);
    const high = graph.uniqueName(`${t}_max`);
    const extent = graph.uniqueName(`${t}_extent`);
    // No axes: every axis is reduced, in every opset; keepdims makes [1, …] so that the two concatenate.
    const keepdims = intAttribute('keepdims', 1);
    nodes.push(makeNode('Cast', [t], [values], graph.uniqueName(`${values}_Cast`), [intAttribute('to', FLOAT16)]),
      makeNode('ReduceMin', [t], [low], graph.uniqueName(`${low}_ReduceMin`), [keepdims]),
      makeNode('ReduceMax', [t], [high], graph.uniqueName(`${high}_ReduceMax`), [keepdims]),
      makeNode('Concat', [low, high], [extent], graph.uniqueName(`${extent}_Concat`), [intAttribute('axis', 0)]));
    outputs.push({ name: values, type: { tensor_type: { elem_type: FLOAT16 } } }, { name: extent, type: { tensor_type: { elem_type: FLOAT } } });
    exposed.set(t, { values, extent });
  }
  const g = model.graph!;
  return { model: nodes.length > 0 ? { ...model, graph: { ...g, node: [...g.node, ...nodes], output: [...g.output, ...outputs] } } : model, exposed };
}

/** The statistics of a tensor exposed in half precision, with its exact extent; null when a half cannot represent its range. */
export function statsFromHalf(rounded: TensorStatsState, extent: { min: number; max: number }): TensorStats | null {
  const { min, max } = extent;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min <= max)) return null;
  const maxAbs = Math.max(-min, max);
  if (maxAbs > HALF_MAX || (maxAbs > 0 && maxAbs < HALF_MIN_RANGE)) return null;
  const stats = TensorStats.fromState(rounded);
  stats.setExactExtent(min, max);
  return stats;
}
