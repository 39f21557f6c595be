// Large activations leave ONNX Runtime in half precision for their histograms. Copying every activation of every
// calibration sample out of ORT in float32, and binning it, cost more than the inference itself (ResNet-50: 100 images,
// 71 tensors, 36 MB per image). The probe graph instead computes each large tensor's exact [min, max] (ReduceMin/
// ReduceMax, a two-value tensor), so R and the extent stay exact, and hands out only the values its histogram counts,
// as float16 (the histogram is one table increment per bit pattern): every p-th value of the tensor (sampleStride: p
// prime, about values / HALF_SAMPLED_VALUES per sample, dividing no row, plane or channel length), the walk running on
// across runs — picked inside ORT (Reshape to one dimension, Range from the run's first pick, which the probe takes as
// an input, Gather) instead of cast and copied out whole and walked on the reducing thread (ResNet-50's 52 large
// tensors: 35 MB per image out of ORT before, 7 MB now; ~71 → ~57 ms per image for the pass on two cores). A half
// keeps 11 significant bits: in the top octave of [-R, R] its spacing is one histogram bin, so each pattern's count is
// spread over the values that round to it (as points, the rounded values sat half a bin high there, and ranges chosen
// on them cost SqueezeNet 0.75 dB of output SQNR). (Sampling on a fixed grid of positions instead — the same values
// of every image — cost ResNet-50 1–2 dB of output SQNR: the picks must move from image to image.)
// A tensor whose extent a half cannot hold — beyond ±65504, non-finite, or so small that the spacing of subnormal halves
// is coarser than the bins — is measured again in float32 (statsFromHalf returns null).
import { Graph, intAttribute, makeNode } from '../../onnx/graph';
import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../../onnx/proto';
import * as ort from 'onnxruntime-node';
import { HALF_MAX } from '../../quant/half-float';
import { makeTensor } from '../../onnx/tensor';
import { TensorStats, TensorStatsState } from '../../quant/histogram';

/**
 * Tensors with fewer values per sample stay float32: the probe's nodes for each tensor cost more than they save there
 * (ViT-tiny, 236 tensors of 38K values: calibration 6.8 → 9.9 s with 8192 as the threshold).
 */
export const HALF_MIN_VALUES = 65536;
/**
 * Below this max |x|, a histogram bin (2R/4096 ≥ 2^-19 for R ≥ 2^-8) would no longer be 32 times wider than the
 * spacing of subnormal halves (2^-24): measured in float32 instead.
 */
const HALF_MIN_RANGE = 2 ** -8;
/**
 * Values per sample a half histogram counts at least. Counting every value of ResNet-50's 52 large tensors took the
 * reducing thread 54 ms per image, more than ORT's inference (36 ms) on the same two cores; a tensor of twice this
 * many values per sample or more is counted on every p-th value (sampleStride, picked inside ONNX Runtime by
 * the probe): 100 calibration images still give each histogram 3.2 million values or more, thousands in every bin a range can end in. Half of 65536 (the first
 * budget): ResNet-50 quantized 0.35 s faster with the same MobileNet-V1 model and 0.3 dB more output SQNR on
 * ResNet-50 (400 other images; within run-to-run noise).
 */
export const HALF_SAMPLED_VALUES = 32768;

/**
 * The counting stride for a tensor of `values` per sample: 1 below twice `budget`, else the smallest prime of at least
 * values / budget that does not divide `values` — so it divides no row, plane or channel length either, and the picks
 * walk through every phase of each (a stride-2 upsampling's four kernels, for instance) instead of one.
 */
export function sampleStride(values: number, budget = HALF_SAMPLED_VALUES): number {
  if (!(values >= 2 * budget)) return 1;
  for (let p = Math.max(2, Math.floor(values / budget)); ; p++) if (isPrime(p) && values % p !== 0) return p;
}

/**
 * The stride of the picks of a tensor of `values` per sample that leaves ORT in half precision (at least
 * HALF_MIN_VALUES values: see sampleStride), or null for one exposed whole, in float32.
 */
export function halfExposureStride(values: number): number | null {
  return values >= HALF_MIN_VALUES ? sampleStride(values) : null;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** TensorProto.DataType FLOAT, INT64 and FLOAT16. */
const FLOAT = 1;
const INT64 = 7;
const FLOAT16 = 10;

/** Where one tensor is read from in the probe: its float16 picks and its exact [min, max]. */
export interface HalfExposure {
  values: string;
  extent: string;
  /** The probe's input that says where a run's first pick falls, the stride of the picks and the tensor's values per sample. */
  walk: { start: string; stride: number; perSample: number };
}

/**
 * A copy of `model` with every tensor of at least HALF_MIN_VALUES values per sample (rank ≥ 1, dims known) exposed as
 * float16 plus its [min, max]. Tensors of unknown dims (all of them without `dimsOf`) or fewer values are not in the
 * map (expose them as they are). The tensors of `floatPicks` have their picks exposed in float32 instead, without
 * their extent (the same picks under the same names: rescaled-tensors.ts rescales them before they are counted).
 */
export function halfPrecisionProbe(model: ModelProto, tensors: readonly string[], dimsOf: ((tensor: string) => readonly number[] | undefined) | undefined,
  floatPicks: ReadonlySet<string> = new Set()): { model: ModelProto; exposed: Map<string, HalfExposure> } {
  const exposed = new Map<string, HalfExposure>();
  if (!dimsOf) return { model, exposed };
  const graph = new Graph(model.graph!);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  // Declared as graph inputs and outputs here, with their types (a run fetches only the outputs it names).
  const inputs: ValueInfoProto[] = [];
  const outputs: ValueInfoProto[] = [];
  /** An int64 initializer (shared by the tensors that use the same values). */
  const constants = new Map<string, string>();
  const int64 = (dims: number[], value: number): string => {
    const key = `${dims.length}:${value}`;
    let name = constants.get(key);
    if (!name) {
      name = graph.uniqueName(`half_probe_${dims.length === 0 ? 'stride' : 'shape'}_${value < 0 ? 'flat' : value}`);
      initializers.push(makeTensor(name, dims, BigInt64Array.of(BigInt(value))));
      constants.set(key, name);
    }
    return name;
  };
  for (const t of new Set(tensors)) {
    const dims = dimsOf(t);
    const perSample = dims?.reduce((a, b) => a * b, 1) ?? 0;
    const stride = dims && dims.length > 0 ? halfExposureStride(perSample) : null;
    if (stride === null) continue;
    const [values, low, high, extent, start, flat, size, picks, picked] = ['half', 'min', 'max', 'extent', 'pick_start', 'flat', 'size', 'picks', 'picked']
      .map((suffix) => graph.uniqueName(`${t}_${suffix}`));
    // No axes: every axis is reduced, in every opset; keepdims makes [1, …] so that the two concatenate.
    const keepdims = intAttribute('keepdims', 1);
    nodes.push(
      makeNode('Reshape', [t, int64([1], -1)], [flat], graph.uniqueName(`${flat}_Reshape`)),
      makeNode('Size', [t], [size], graph.uniqueName(`${size}_Size`)),
      makeNode('Range', [start, size, int64([], stride)], [picks], graph.uniqueName(`${picks}_Range`)),
      makeNode('Gather', [flat, picks], [floatPicks.has(t) ? values : picked], graph.uniqueName(`${picked}_Gather`), [intAttribute('axis', 0)]));
    inputs.push({ name: start, type: { tensor_type: { elem_type: INT64, shape: { dim: [] } } } });
    if (floatPicks.has(t)) {
      // The picks as they are, and no extent (the rescaled tensor's follows from its channels': rescaled-tensors.ts).
      outputs.push({ name: values, type: { tensor_type: { elem_type: FLOAT } } });
    } else {
      nodes.push(
        makeNode('Cast', [picked], [values], graph.uniqueName(`${values}_Cast`), [intAttribute('to', FLOAT16)]),
        makeNode('ReduceMin', [t], [low], graph.uniqueName(`${low}_ReduceMin`), [keepdims]),
        makeNode('ReduceMax', [t], [high], graph.uniqueName(`${high}_ReduceMax`), [keepdims]),
        makeNode('Concat', [low, high], [extent], graph.uniqueName(`${extent}_Concat`), [intAttribute('axis', 0)]));
      outputs.push({ name: values, type: { tensor_type: { elem_type: FLOAT16 } } }, { name: extent, type: { tensor_type: { elem_type: FLOAT } } });
    }
    exposed.set(t, { values, extent, walk: { start, stride, perSample } });
  }
  const g = model.graph!;
  return {
    model: nodes.length > 0 ? { ...model, graph: { ...g, node: [...g.node, ...nodes], initializer: [...g.initializer, ...initializers],
      input: [...g.input, ...inputs], output: [...g.output, ...outputs] } } : model,
    exposed,
  };
}

/**
 * The walks of the half probe's picks: every stride-th value of each tensor through the concatenation of all the runs
 * that fetch it, so that the picks move from sample to sample. Gives each run the probe's start inputs.
 */
export class PickWalks {
  /** Per exposed tensor, where the next run's first pick falls. */
  private readonly next = new Map<string, number>();
  /** Per exposed tensor, where the first pick of the run feeds() was last asked for falls. */
  private readonly last = new Map<string, number>();

  constructor(private readonly exposed: ReadonlyMap<string, HalfExposure>) {}

  /**
   * The start inputs of a run over `samples` samples that fetches `fetched`; the walks of the tensors it fetches move
   * on past it (the others' picks are computed but not counted, and start at 0).
   */
  feeds(samples: number, fetched: ReadonlySet<string>): Record<string, ort.Tensor> {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [t, { values, walk }] of this.exposed) {
      const counted = fetched.has(values);
      const start = counted ? this.next.get(t) ?? 0 : 0;
      feeds[walk.start] = new ort.Tensor('int64', BigInt64Array.of(BigInt(start)), []);
      this.last.set(t, start);
      if (!counted) continue;
      const length = samples * walk.perSample;
      const end = start >= length ? start : start + Math.ceil((length - start) / walk.stride) * walk.stride;
      this.next.set(t, end - length);
    }
    return feeds;
  }

  /** Where the first pick of `tensor` falls in the run feeds() was last asked for (its position in the run's values). */
  startOf(tensor: string): number {
    return this.last.get(tensor) ?? 0;
  }
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
