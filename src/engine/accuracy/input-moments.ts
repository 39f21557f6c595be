// Second moments of the inputs of Conv/Gemm/MatMul layers, for layer-wise weight rounding, computed by ONNX Runtime
// on calibration samples: the FP32 reference graph gets, per layer, a small subgraph that turns the layer's input
// into the vectors its weights multiply — im2col patches for convolutions, made by a Conv with one-hot kernels (same
// strides, pads and dilations; grouped like the layer) — and multiplies them by themselves (batched MatMul) into
// blocks of Σ x xᵀ, plus Σ x. Only those small matrices leave ORT; they are summed over batches in float64 on the
// reducing thread. Bounded: big convolutions are subsampled to at most positionsFor(K) output positions per sample (by
// a coarser stride; a layer with few inputs needs few vectors), and a group's inputs are split into blocks of whole
// input channels so that no block exceeds `maxBlock` nor the input vectors the samples give over `vectorsPerInput`
// (block-diagonal H: a dense H from fewer vectors than inputs would be fitted to those samples).
import { attrInt, attrInts, attrString, copySharingInitializers, Graph, intAttribute, makeNode } from '../../onnx/graph';
import { intsAttribute } from '../../onnx/build';
import { makeTensor } from '../../onnx/tensor';
import { AttributeProto, ModelProto, NodeProto, TensorProto } from '../../onnx/proto';
import type { TensorFacts } from '../../quant/convert';
import type { InputMoments, WeightLayout } from '../../quant/weight-rounding';
import { CalibrationOptions, collectStatistics, StatisticsResult } from '../runtime/calibrate';
import { InternalError } from '../../common/errors';
import type { SampleSet } from '../runtime/sample-set';
import type { ModelInput } from '../../data/model-input';

/** Output positions per sample kept for a convolution with K inputs per output (more are subsampled). */
export function positionsFor(inputs: number): number {
  return Math.min(1024, Math.max(64, 4 * inputs));
}

export interface MomentLimits {
  /** Largest block of inputs with a dense H (larger groups are split into blocks of whole input channels). */
  maxBlock: number;
  /** Input vectors needed per input of a block (a block has at most vectors / this many inputs). */
  vectorsPerInput: number;
}

export const DEFAULT_MOMENT_LIMITS: MomentLimits = { maxBlock: 1024, vectorsPerInput: 2 };

/** A layer whose input moments are gathered. */
export interface MomentTarget {
  node: string;
  layout: WeightLayout;
  groups: number;
  blocksPerGroup: number;
  size: number;
  /** Inputs per group (K of one output row). */
  inputs: number;
  /** Output positions skipped between kept ones (1 = all kept), for convolutions. */
  step: number;
  /** Output positions kept per sample (convolutions; 0 for Gemm/MatMul). */
  positions: number;
}

export interface MomentPlan { targets: MomentTarget[]; skipped: { node: string; reason: string }[] }

/** Smallest divisor d of `channels` with channels/d·spatial ≤ maxBlock (blocks of whole input channels), or null. */
function blockCount(channels: number, spatial: number, maxBlock: number): number | null {
  for (let d = Math.max(1, Math.ceil((channels * spatial) / maxBlock)); d <= channels; d++) {
    if (channels % d === 0 && (channels / d) * spatial <= maxBlock) return d;
  }
  return null;
}

/** The layout of a weighted node's weight, or null when it is not a Conv/Gemm/MatMul with a constant weight of its kind. */
export function weightLayout(node: NodeProto, graph: Graph): WeightLayout | null {
  const w = graph.initializers.get(node.input[1] ?? '');
  if (!w) return null;
  if (node.op_type === 'Conv') return w.dims.length === 4 ? 'conv' : null;
  if (w.dims.length !== 2) return null;
  if (node.op_type === 'Gemm') return attrInt(node, 'transA', 0) !== 0 ? null : attrInt(node, 'transB', 0) ? 'rows' : 'columns';
  return node.op_type === 'MatMul' ? 'columns' : null;
}

/** Inputs per output row of a weighted node's weight (what its rounding costs grows with), or null (see weightLayout). */
export function inputsPerRow(node: NodeProto, graph: Graph): number | null {
  const layout = weightLayout(node, graph);
  if (!layout) return null;
  const dims = graph.initializers.get(node.input[1])!.dims.map(Number);
  return layout === 'conv' ? dims[1] * dims[2] * dims[3] : layout === 'rows' ? dims[1] : dims[0];
}

/** What rounding one layer costs, in multiply-adds: the solve (JavaScript) and the gathering of its input moments per
 *  calibration sample (ONNX Runtime, riding along the statistics pass). */
export interface RoundingCost { solve: number; gatherPerSample: number }

/**
 * The cost of rounding a weighted node's weight, or null (see weightLayout). Solve: each output row updated over its
 * inputs, one block of at most `maxBlock` inputs at a time, plus a factorization per block (GPTQ) of each group.
 * Gathering: per group, the kept input vectors (subsampled output positions of a convolution, im2col'd: K² each)
 * times K·block for Σ x xᵀ. (Without the groups, ConvNeXt-T's 7×7 depthwise layers were costed at 1/384 of what
 * they took: their moments were half the calibration pass.)
 */
export function roundingCost(node: NodeProto, graph: Graph, facts: ReadonlyMap<string, TensorFacts>,
  maxBlock = DEFAULT_MOMENT_LIMITS.maxBlock): RoundingCost | null {
  const layout = weightLayout(node, graph);
  const inputs = inputsPerRow(node, graph);
  if (!layout || inputs === null) return null;
  const dims = graph.initializers.get(node.input[1])!.dims.map(Number);
  const rows = layout === 'columns' ? dims[1] : dims[0];
  const block = Math.min(inputs, maxBlock);
  // A grouped convolution has a Σ x xᵀ and a factorization per group (a depthwise one, one per channel).
  const groups = layout === 'conv' ? attrInt(node, 'group', 1) : 1;
  const solve = rows * inputs * block + groups * Math.ceil(inputs / block) * block ** 3;
  let vectors: number;
  if (layout === 'conv') {
    const out = facts.get(node.output[0])?.dims ?? [];
    const positions = out.length === 4 ? out[2] * out[3] : 1;
    const keep = positionsFor(inputs);
    vectors = positions > 2 * keep ? keep : positions;
    return { solve, gatherPerSample: groups * vectors * inputs * (inputs + block) };
  }
  const shape = facts.get(node.input[0])?.dims ?? [];
  vectors = shape.slice(0, -1).reduce((a, b) => a * Math.max(1, b), 1);
  return { solve, gatherPerSample: vectors * inputs * block };
}

/** Decides, for each node, how its moments are gathered over `samples` samples (or why they are not). */
export function planMoments(graph: Graph, nodes: readonly NodeProto[], facts: ReadonlyMap<string, TensorFacts>, limits: MomentLimits,
  samples: number): MomentPlan {
  const blockLimit = (vectors: number) => Math.min(limits.maxBlock, Math.floor((samples * vectors) / limits.vectorsPerInput));
  const targets: MomentTarget[] = [];
  const skipped: MomentPlan['skipped'] = [];
  for (const node of nodes) {
    const name = node.name ?? node.output[0];
    const layout = weightLayout(node, graph);
    if (!layout) { skipped.push({ node: name, reason: 'only 2-D convolutions and Gemm/MatMul with a 2-D constant weight are rounded' }); continue; }
    const dims = graph.initializers.get(node.input[1])!.dims.map(Number);
    if (layout === 'conv') {
      const [, channels, kh, kw] = dims;
      const out = facts.get(node.output[0])?.dims;
      if (!out || out.length !== 4 || (attrString(node, 'auto_pad') ?? 'NOTSET') !== 'NOTSET') {
        skipped.push({ node: name, reason: !out || out.length !== 4 ? 'not a 2-D convolution' : 'auto_pad is not supported' });
        continue;
      }
      const positions = out[2] * out[3];
      const keep = positionsFor(channels * kh * kw);
      const step = positions > 2 * keep ? Math.ceil(Math.sqrt(positions / keep)) : 1;
      const limit = blockLimit(Math.ceil(out[2] / step) * Math.ceil(out[3] / step));
      const blocks = blockCount(channels, kh * kw, limit);
      if (blocks === null) { skipped.push({ node: name, reason: `its kernel (${kh}×${kw}) has more inputs than a block may (${limit})` }); continue; }
      targets.push({ node: name, layout, groups: attrInt(node, 'group', 1), blocksPerGroup: blocks, size: (channels / blocks) * kh * kw,
        inputs: channels * kh * kw, step, positions: Math.ceil(out[2] / step) * Math.ceil(out[3] / step) });
    } else {
      const inputs = layout === 'rows' ? dims[1] : dims[0];
      const shape = facts.get(node.input[0])?.dims;
      // Vectors per sample: every index but the last (the probe ran one sample).
      const limit = blockLimit(shape ? shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1);
      const blocks = blockCount(inputs, 1, limit);
      if (blocks === null) { skipped.push({ node: name, reason: `too few input vectors for blocks of its ${inputs} inputs` }); continue; }
      targets.push({ node: name, layout, groups: 1, blocksPerGroup: blocks, size: inputs / blocks, inputs, step: 1, positions: 0 });
    }
  }
  return { targets, skipped };
}

interface Probe { target: MomentTarget; moments: string; sums: string; count: string }

/** Adds the nodes that compute one target's Σ x xᵀ blocks, Σ x and the number of vectors summed. */
function addProbe(graph: Graph, node: NodeProto, target: MomentTarget, nodes: NodeProto[], inits: TensorProto[]): Probe {
  const base = `${node.name}_moments`;
  const name = (suffix: string) => graph.uniqueName(`${base}_${suffix}`);
  const constant = (suffix: string, dims: number[], values: BigInt64Array | Float32Array) => {
    const n = name(suffix);
    inits.push(makeTensor(n, dims, values));
    return n;
  };
  const blocks = target.groups * target.blocksPerGroup;
  const moments = name('sum_xxt');
  const sums = name('sum_x');
  const count = name('count');
  /** The count: the product of the dims of `tensor` at `axes`, as a float [1]. */
  const countOf = (tensor: string, axes: number[]) => {
    const shape = name('shape');
    const picked = name('picked');
    const product = name('product');
    nodes.push(
      makeNode('Shape', [tensor], [shape], name('shape_node')),
      makeNode('Gather', [shape, constant('count_axes', [axes.length], BigInt64Array.from(axes.map(BigInt)))], [picked], name('gather')),
      makeNode('ReduceProd', [picked], [product], name('prod'), [intAttribute('keepdims', 1)]),
      makeNode('Cast', [product], [count], name('cast'), [intAttribute('to', 1)]),
    );
  };
  if (target.layout === 'conv') {
    const w = graph.initializers.get(node.input[1])!;
    const [, channels, kh, kw] = w.dims.map(Number);
    const strides = attrInts(node, 'strides') ?? [1, 1];
    const pads = attrInts(node, 'pads') ?? [0, 0, 0, 0];
    let patches = node.input[0];
    const direct = kh === 1 && kw === 1 && target.step === 1 && strides.every((s) => s === 1) && pads.every((p) => p === 0);
    if (!direct) {
      // One-hot kernels: output channel g·K + c·kh·kw + y·kw + x copies input channel c of group g at offset (y, x).
      const k = target.inputs;
      const eye = new Float32Array(target.groups * k * channels * kh * kw);
      for (let g = 0; g < target.groups; g++) {
        for (let i = 0; i < k; i++) eye[((g * k + i) * channels) * kh * kw + i] = 1;
      }
      const attributes: AttributeProto[] = node.attribute.filter((a) => !['strides', 'group'].includes(a.name ?? '')).map((a) => ({ ...a }));
      attributes.push(intsAttribute('strides', strides.map((s) => Number(s) * target.step)), intAttribute('group', target.groups));
      patches = name('patches');
      nodes.push(makeNode('Conv', [node.input[0], constant('eye', [target.groups * k, channels, kh, kw], eye)], [patches], name('im2col'), attributes));
    }
    // [N, G·B, H, W] -> [N, blocks, size, P]
    const split = name('split');
    nodes.push(makeNode('Reshape', [patches, constant('split_shape', [4], BigInt64Array.of(0n, BigInt(blocks), BigInt(target.size), -1n))], [split], name('split_node')));
    if (target.size < target.positions) {
      // Blocks smaller than the positions of a sample (depthwise: 9 inputs): a product per sample, summed over the batch,
      // reads the patches where they are — moving them behind the batch first copied them all (9× a depthwise input).
      const perSample = name('per_sample');
      const transposed = name('transposed');
      nodes.push(
        makeNode('Transpose', [split], [transposed], name('transpose'), [intsAttribute('perm', [0, 1, 3, 2])]),
        makeNode('MatMul', [split, transposed], [perSample], name('matmul')),
        makeNode('ReduceSum', [perSample, constant('batch_axis', [1], BigInt64Array.of(0n))], [moments], name('reduce_batch'), [intAttribute('keepdims', 0)]),
        makeNode('ReduceSum', [split, constant('axes', [2], BigInt64Array.of(0n, 3n))], [sums], name('reduce'), [intAttribute('keepdims', 0)]),
      );
      countOf(split, [0, 3]);
      return { target, moments, sums, count };
    }
    // -> [blocks, size, N, P] -> [blocks, size, N·P]
    const moved = name('moved');
    const columns = name('columns');
    nodes.push(
      makeNode('Transpose', [split], [moved], name('move'), [intsAttribute('perm', [1, 2, 0, 3])]),
      makeNode('Reshape', [moved, constant('columns_shape', [3], BigInt64Array.of(BigInt(blocks), BigInt(target.size), -1n))], [columns], name('columns_node')),
    );
    addColumnProducts(columns);
  } else {
    // [..., K] -> [M, blocks, size] -> [blocks, size, M]
    const rows = name('rows');
    const columns = name('columns');
    nodes.push(
      makeNode('Reshape', [node.input[0], constant('rows_shape', [3], BigInt64Array.of(-1n, BigInt(blocks), BigInt(target.size)))], [rows], name('rows_node')),
      makeNode('Transpose', [rows], [columns], name('move'), [intsAttribute('perm', [1, 2, 0])]),
    );
    addColumnProducts(columns);
  }
  return { target, moments, sums, count };

  /** Σ x xᵀ and Σ x of the vectors that are the columns of [blocks, size, M], and M. */
  function addColumnProducts(columns: string): void {
    const transposed = name('transposed');
    nodes.push(
      makeNode('Transpose', [columns], [transposed], name('transpose'), [intsAttribute('perm', [0, 2, 1])]),
      makeNode('MatMul', [columns, transposed], [moments], name('matmul')),
      makeNode('ReduceSum', [columns, constant('axes', [1], BigInt64Array.of(2n))], [sums], name('reduce'), [intAttribute('keepdims', 0)]),
    );
    countOf(columns, [2]);
  }
}

/** The reference with every target's probe added: the tensors to sum over batches, and how to read the sums. */
export interface MomentProbe {
  model: ModelProto;
  outputs: string[];
  /**
   * What the exposure budget counts per sample for a tensor of the probe model run at `batch`: a probe output's bytes
   * over the batch (it holds the whole run's sums and does not grow with it), any other tensor's from `others`.
   */
  tensorBytes(batch: number, others?: (tensor: string) => number | undefined): (tensor: string) => number | undefined;
  /** Each target's moments from the sums of `outputs` (targets whose probe saw no vector are left out). */
  read(sums: ReadonlyMap<string, Float64Array>): Map<string, InputMoments>;
}

export function momentProbe(reference: ModelProto, targets: readonly MomentTarget[]): MomentProbe {
  const graph = new Graph(copySharingInitializers(reference).graph!);
  const byName = new Map(graph.nodes.map((n) => [n.name ?? n.output[0], n] as const));
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const probes = targets.map((target) => addProbe(graph, byName.get(target.node)!, target, nodes, inits));
  const g = reference.graph!;
  const model: ModelProto = { ...reference, graph: { ...g, node: [...g.node, ...nodes], initializer: [...g.initializer, ...inits] } };
  const bytes = new Map<string, number>();
  for (const { target: t, moments, sums, count } of probes) {
    const blocks = t.groups * t.blocksPerGroup;
    bytes.set(moments, blocks * t.size * t.size * 4).set(sums, blocks * t.size * 4).set(count, 4);
  }
  return {
    model, outputs: probes.flatMap((p) => [p.moments, p.sums, p.count]),
    tensorBytes: (batch, others) => (t) => { const b = bytes.get(t); return b === undefined ? others?.(t) : b / batch; },
    read: (sums) => {
      const result = new Map<string, InputMoments>();
      for (const { target: t, moments, sums: x, count: counted } of probes) {
        const count = sums.get(counted)?.[0] ?? 0;
        const secondMoments = sums.get(moments);
        const vectorSums = sums.get(x);
        if (!secondMoments || !vectorSums || count <= 0) continue;
        result.set(t.node, { groups: t.groups, blocksPerGroup: t.blocksPerGroup, size: t.size, secondMoments, sums: vectorSums, count });
      }
      return result;
    },
  };
}

/** Gathers the moments of `targets` on the reference model over `samples` (one pass). */
export async function collectInputMoments(reference: ModelProto, targets: readonly MomentTarget[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, InputMoments>> {
  if (targets.length === 0) return new Map();
  const probe = momentProbe(reference, targets);
  const { sums } = await collectStatistics(probe.model, [], samples, input, { ...options, tensorBytes: probe.tensorBytes(samples.batch) }, label,
    { summed: probe.outputs });
  return probe.read(sums);
}

/**
 * The moments of x/s given those of x, for a Gemm/MatMul whose inputs are the channels s scales (input i of block b is
 * channel b·size + i); null for any other layout.
 */
export function momentsOfScaled(moments: InputMoments, target: MomentTarget, s: Float64Array): InputMoments | null {
  const { groups, blocksPerGroup, size } = moments;
  if (target.layout === 'conv' || groups !== 1 || blocksPerGroup * size !== s.length) return null;
  return dividedBy(moments, (b, i) => s[b * size + i]);
}

/**
 * The moments of a convolution's input whose channels (dim 1) were divided by s, given those before: input i of block b
 * of group g reads channel g·(channels per group) + ⌊(b mod blocksPerGroup)·size + i) / kernel size⌋ (blocks hold whole
 * channels, see input-moments.ts); null for any other layout or a channel count that does not fit.
 */
export function momentsOfChannelScaled(moments: InputMoments, target: MomentTarget, s: Float64Array): InputMoments | null {
  const { groups, blocksPerGroup, size } = moments;
  const perGroup = blocksPerGroup * size;
  if (target.layout !== 'conv' || s.length % groups !== 0) return null;
  const channelsPerGroup = s.length / groups;
  if (perGroup % channelsPerGroup !== 0) return null;
  const kernel = perGroup / channelsPerGroup;
  return dividedBy(moments, (b, i) => s[Math.floor(b / blocksPerGroup) * channelsPerGroup + Math.floor(((b % blocksPerGroup) * size + i) / kernel)]);
}

/** Σ (x/f)(x/f)ᵀ and Σ x/f for the factor f = factorOf(block, input) of each input. */
function dividedBy(moments: InputMoments, factorOf: (block: number, input: number) => number): InputMoments {
  const { groups, blocksPerGroup, size } = moments;
  const secondMoments = new Float64Array(moments.secondMoments.length);
  const sums = new Float64Array(moments.sums.length);
  const f = new Float64Array(size);
  for (let b = 0; b < groups * blocksPerGroup; b++) {
    for (let i = 0; i < size; i++) f[i] = factorOf(b, i);
    const first = b * size;
    for (let i = 0; i < size; i++) {
      sums[first + i] = moments.sums[first + i] / f[i];
      const row = b * size * size + i * size;
      for (let j = 0; j < size; j++) secondMoments[row + j] = moments.secondMoments[row + j] / (f[i] * f[j]);
    }
  }
  return { ...moments, secondMoments, sums };
}

/** The moments of two sets of input vectors together. */
export function addMoments(a: InputMoments, b: InputMoments): InputMoments {
  if (a.secondMoments.length !== b.secondMoments.length || a.sums.length !== b.sums.length) throw new RangeError('moments of different layouts');
  return { ...a, secondMoments: a.secondMoments.map((v, i) => v + b.secondMoments[i]), sums: a.sums.map((v, i) => v + b.sums[i]), count: a.count + b.count };
}

/**
 * Each target's input moments from the statistics pass: after a rescaling of channels in the pass (the equalization),
 * those of the samples before it, rescaled where the layer reads a rescaled tensor, plus those after.
 */
export function momentsOfPass(probe: MomentProbe, targets: readonly MomentTarget[], graph: Graph, result: Pick<StatisticsResult,
  'sums' | 'sumsBeforeRescaling' | 'rescaledBy'>): Map<string, InputMoments> {
  const after = probe.read(result.sums);
  if (!result.sumsBeforeRescaling) return after;
  const before = probe.read(result.sumsBeforeRescaling);
  const inputOf = new Map(graph.nodes.map((n) => [n.name ?? n.output[0], n.input[0]] as const));
  const moments = new Map<string, InputMoments>();
  for (const target of targets) {
    const [b, a] = [before.get(target.node), after.get(target.node)];
    const s = result.rescaledBy.get(inputOf.get(target.node) ?? '');
    const rescaled = b && s ? momentsOfChannelScaled(b, target, Float64Array.from(s)) : b;
    if (b && !rescaled) throw new InternalError(`the input moments of '${target.node}' cannot follow its input's rescaled channels`);
    const total = rescaled && a ? addMoments(rescaled, a) : rescaled ?? a;
    if (total) moments.set(target.node, total);
  }
  return moments;
}
