// The QDQ rewrite: applies a QuantPlan and the chosen scales to the graph, in the layout ONNX Runtime fuses:
//   producer -> T_f -> QuantizeLinear -> T_q -> DequantizeLinear -> T (every consumer keeps reading T),
//   int8 weights (per-channel) and int32 biases behind DequantizeLinear, Relu/Clip folded into the producer.
// Tensor and node names of the FP32 graph survive, so the INT8 model's T (dequantized) can be compared with FP32's T.
import { Graph, intAttribute, makeNode } from '../onnx/graph';
import { makeTensor, tensorToFloat32 } from '../onnx/tensor';
import { NodeProto } from '../onnx/proto';
import { QuantPlan } from './plan';
import { biasFitMinScales, computeQParams, QParams, quantizeBias, quantizeWeights, QuantType } from './qparams';
import { ConversionCache, NearestWeights } from './conversion-cache';
import { keepsFullRangeWeights, requantizedByOrtWhenFloat, ruleFor } from './registry';
import { pairSafeMinScales } from './saturation';
import { sqnrDbOf } from '../common/numbers';

export type WeightRange = 'full' | 'pair-safe' | '7bit';

export interface RewriteOptions {
  activations: QuantType;
  perChannel: boolean;
  /**
   * full: int8 weights in −127..127; pair-safe: per channel, only as coarse as needed so that ORT's non-VNNI U8S8
   * kernels cannot saturate; 7bit: −63..63 everywhere (ORT's reduce_range). Variants with their own int32-accumulating
   * kernel (depthwise Conv, see the registry) always use full.
   */
  weightRange: WeightRange;
  /** Size of dim 1 (channels / features) of an activation tensor, when known. */
  channelsOf?: (tensor: string) => number | undefined;
  /** Other int8 codes than round-to-nearest for a weight, with the same scales (layer-wise weight rounding). */
  roundWeights?: WeightRounder;
  /** The model's opset has DequantizeLinear's `axis` (13+); default true. */
  axisAllowed?: boolean;
  /** Nearest weights and their SQNR computed by earlier conversions of the same reference (default: none kept). */
  cache?: ConversionCache;
  /** All-zero codes with unit scales instead of quantized weights: the layout alone (a load check before calibration). */
  placeholderWeights?: boolean;
}

/** Codes for `node`'s weight given its round-to-nearest codes and scales, or undefined to keep those. */
export type WeightRounder = (node: NodeProto, weights: Float32Array, dims: readonly number[],
  nearest: { values: Int8Array; scales: Float32Array }, limits: { qmax: number; pairSafe: boolean }) => Int8Array | undefined;

export interface WeightRecord {
  node: string;
  tensor: string;
  scales: Float32Array;
  perChannel: boolean;
  /** SQNR (dB) of the dequantized int8 weights against the FP32 weights. */
  sqnrDb: number;
}

export interface RewriteResult {
  /** Scale/zero point used for each Q/DQ'd activation tensor. */
  activationParams: Map<string, QParams>;
  weights: WeightRecord[];
}

/** SQNR of int8 weights (per-channel scales along `axis`, or one scale) against their FP32 values. */
function weightSqnr(values: Float32Array, codes: Int8Array, scales: Float32Array, dims: readonly number[], axis: number | null): number {
  const inner = axis === null ? values.length : dims.slice(axis + 1).reduce((n, d) => n * d, 1);
  let signal = 0;
  let noise = 0;
  // Runs of `inner` values cycle through the channels (a channel index per value cost ResNet-50 0.3 s).
  for (let start = 0, c = 0; start < values.length; start += inner, c = (c + 1) % scales.length) {
    const scale = scales.length === 1 ? scales[0] : scales[c];
    const end = Math.min(values.length, start + inner);
    for (let i = start; i < end; i++) {
      const d = values[i] - codes[i] * scale;
      signal += values[i] * values[i];
      noise += d * d;
    }
  }
  return sqnrDbOf(signal, noise);
}

function scalarParams(graph: Graph, base: string, p: QParams, type: QuantType): [string, string] {
  const scaleName = graph.uniqueName(`${base}_scale`);
  const zpName = graph.uniqueName(`${base}_zero_point`);
  graph.addInitializer(makeTensor(scaleName, [], Float32Array.of(p.scale)));
  graph.addInitializer(makeTensor(zpName, [], type === 'u8' ? Uint8Array.of(p.zeroPoint) : Int8Array.of(p.zeroPoint)));
  return [scaleName, zpName];
}

/**
 * Rewrites `graph` in place. `paramsFor(tensor)` gives the activation scale/zero point of each calibrated tensor
 * (tensors in plan.sharedParams reuse their source's). Returns what was chosen, for the report.
 */
export function applyPlan(graph: Graph, plan: QuantPlan, paramsFor: (tensor: string) => QParams, options: RewriteOptions): RewriteResult {
  const activationParams = new Map<string, QParams>();
  const resolveParams = (t: string): QParams => {
    const cached = activationParams.get(t);
    if (cached) return cached;
    const rescaled = plan.scaled.get(t);
    const shared = plan.sharedParams.get(t);
    const source = rescaled ? resolveParams(rescaled.from) : shared !== undefined ? resolveParams(shared) : paramsFor(t);
    if (!source) throw new Error(`internal: no scale for tensor '${t}'`);
    const p = rescaled ? { ...source, scale: source.scale * rescaled.factor } : source;
    activationParams.set(t, p);
    return p;
  };
  const inserted = new Set<NodeProto>();
  const insertedAfter = new Map<NodeProto | null, NodeProto[]>();
  const place = (anchor: NodeProto | null, node: NodeProto) => {
    const list = insertedAfter.get(anchor);
    if (list) list.push(node); else insertedAfter.set(anchor, [node]);
    inserted.add(node);
  };

  // 1. Fold Relu/Clip into their producers: the producer writes the activation's output name. Lower each
  //    clamped-affine node (HardSigmoid) to the Add ORT fuses into QLinearAdd: y/a = x + b/a.
  for (const [activation, producer] of plan.folded) {
    producer.output[0] = activation.output[0];
  }
  graph.proto.node = graph.proto.node.filter((n) => !plan.folded.has(n));
  for (const node of plan.quantized) {
    const affine = ruleFor(node, graph)?.kind === 'clamped-affine' ? ruleFor(node)!.affine!(node) : null;
    if (!affine) continue;
    const offset = graph.uniqueName(`${node.name || node.output[0]}_offset`);
    graph.addInitializer(makeTensor(offset, [], Float32Array.of(affine.b / affine.a)));
    Object.assign(node, { op_type: 'Add', input: [node.input[0], offset], attribute: [] });
  }
  graph.reindex();

  // 2. Q/DQ pairs on activations (a QuantizeLinear at a multiple of the scale where the plan says so); the codes of
  //    tensors a removed Mul/Div by a constant rescaled are read again at the new scale.
  const quantizedNames = new Map<string, string>();
  const rescaling = plan.quantized.filter((n) => plan.scaled.has(n.output[0]));
  for (const t of plan.qdqTensors) {
    if (plan.scaled.has(t)) continue;
    const p = resolveParams(t);
    const [scale, zp] = scalarParams(graph, t, p, options.activations);
    const factor = plan.quantizeFactor.get(t);
    const [qScale, qZp] = factor === undefined ? [scale, zp] : scalarParams(graph, `${t}_quantize`, { ...p, scale: p.scale * factor }, options.activations);
    const quantizedName = graph.uniqueName(`${t}_quantized`);
    quantizedNames.set(t, quantizedName);
    const producer = graph.producers.get(t);
    if (producer) {
      const floatName = graph.uniqueName(`${t}_float`);
      producer.output[producer.output.indexOf(t)] = floatName;
      place(producer, makeNode('QuantizeLinear', [floatName, qScale, qZp], [quantizedName], graph.uniqueName(`${t}_QuantizeLinear`)));
      place(producer, makeNode('DequantizeLinear', [quantizedName, scale, zp], [t], graph.uniqueName(`${t}_DequantizeLinear`)));
    } else {
      // A graph input: consumers switch to the dequantized copy.
      const dequantizedName = graph.uniqueName(`${t}_dequantized`);
      for (const consumer of graph.consumersOf(t)) {
        consumer.input = consumer.input.map((i) => (i === t ? dequantizedName : i));
      }
      place(null, makeNode('QuantizeLinear', [t, scale, zp], [quantizedName], graph.uniqueName(`${t}_QuantizeLinear`)));
      place(null, makeNode('DequantizeLinear', [quantizedName, scale, zp], [dequantizedName], graph.uniqueName(`${t}_DequantizeLinear`)));
      activationParams.set(dequantizedName, p);
    }
  }
  const removed = new Set(rescaling);
  graph.proto.node = graph.proto.node.filter((n) => !removed.has(n));
  for (const node of rescaling) {
    const out = node.output[0];
    let root = out;
    while (plan.scaled.has(root)) root = plan.scaled.get(root)!.from;
    const [scale, zp] = scalarParams(graph, out, resolveParams(out), options.activations);
    place(null, makeNode('DequantizeLinear', [quantizedNames.get(root)!, scale, zp], [out], graph.uniqueName(`${out}_DequantizeLinear`)));
  }
  graph.reindex();

  // 3. Weights, biases and constant operands of quantized nodes.
  const weights: WeightRecord[] = [];
  const cache = options.cache ?? new ConversionCache();
  for (const node of plan.quantized) {
    const rule = removed.has(node) ? undefined : ruleFor(node, graph);
    if (!rule) continue;
    if (rule.kind === 'weighted' && rule.weight) {
      const spec = rule.weight;
      const weightName = node.input[spec.input];
      const w = graph.initializers.get(weightName);
      if (!w) throw new Error(`node '${node.name}': weight '${weightName}' vanished`);
      const axis = options.perChannel ? spec.axis(node, w.dims.length) : null;
      const weightValues = tensorToFloat32(w);
      const fullRange = keepsFullRangeWeights(node, w.dims);
      const reduceRange = options.weightRange === '7bit' && !fullRange;
      const pairSafe = options.weightRange === 'pair-safe' && !fullRange;
      const biasName = spec.bias !== undefined ? node.input[spec.bias] : undefined;
      const b = biasName ? graph.initializers.get(biasName) : undefined;
      const biasValues = b ? tensorToFloat32(b) : undefined;
      const channels = axis === null ? 1 : w.dims.map(Number)[axis < 0 ? axis + w.dims.length : axis];
      const biasFits = biasValues !== undefined && (axis === null || biasValues.length === channels);
      const input = node.input[rule.activationInputs(node)[0]];
      const inputScale = biasFits ? (activationParams.get(input) ?? resolveParams(input)).scale : null;
      const quantizeNearest = (): NearestWeights => {
        if (options.placeholderWeights) {
          return { values: new Int8Array(weightValues.length), scales: new Float32Array(channels).fill(1), zeroPoints: new Int8Array(channels), sqnrDb: 0 };
        }
        const floors = [
          pairSafe ? pairSafeMinScales(weightValues, w.dims, spec.kOrder(node), axis === null) : null,
          inputScale !== null ? biasFitMinScales(biasValues!, inputScale, axis === null) : null,
        ].filter((f): f is Float32Array => f !== null);
        const minScales = floors.length === 2 ? floors[0].map((v, c) => Math.max(v, floors[1][c])) : floors[0];
        const codes = quantizeWeights(weightValues, w.dims, axis, { reduceRange, minScales });
        return { ...codes, sqnrDb: weightSqnr(weightValues, codes.values, codes.scales, w.dims, axis) };
      };
      // The input scale is part of the key: it sets the scales a bias needs (biasFitMinScales).
      const nearest = cache.nearestWeights(`${weightName}\n${node.name ?? node.output[0]}\n${axis}\n${reduceRange}\n${pairSafe}\n${inputScale}`, quantizeNearest);
      const rounded = options.roundWeights?.(node, weightValues, w.dims, nearest, { qmax: reduceRange ? 63 : 127, pairSafe });
      const q = { ...nearest, values: rounded ?? nearest.values };
      const sqnrDb = rounded ? cache.sqnrOf(rounded, () => weightSqnr(weightValues, rounded, q.scales, w.dims, axis)) : nearest.sqnrDb;
      const base = `${weightName}_${node.name || node.output[0]}`;
      const qName = graph.uniqueName(`${base}_quantized`);
      graph.addInitializer(makeTensor(qName, w.dims, q.values));
      const scaleName = graph.uniqueName(`${base}_scale`);
      const zpName = graph.uniqueName(`${base}_zero_point`);
      const perChannel = axis !== null;
      graph.addInitializer(makeTensor(scaleName, perChannel ? [q.scales.length] : [], q.scales));
      graph.addInitializer(makeTensor(zpName, perChannel ? [q.zeroPoints.length] : [], q.zeroPoints));
      const dqName = graph.uniqueName(`${base}_dequantized`);
      place(null, makeNode('DequantizeLinear', [qName, scaleName, zpName], [dqName], graph.uniqueName(`${base}_DequantizeLinear`),
        perChannel ? [intAttribute('axis', axis)] : []));
      node.input[spec.input] = dqName;
      weights.push({ node: node.name ?? '', tensor: weightName, scales: q.scales, perChannel, sqnrDb });

      if (biasName && biasValues && inputScale !== null && spec.bias !== undefined) {
        const qb = quantizeBias(biasValues, inputScale, q.scales);
        const biasBase = `${biasName}_${node.name || node.output[0]}`;
        const qbName = graph.uniqueName(`${biasBase}_quantized`);
        graph.addInitializer(makeTensor(qbName, [qb.values.length], qb.values));
        const bScale = graph.uniqueName(`${biasBase}_scale`);
        const bZp = graph.uniqueName(`${biasBase}_zero_point`);
        graph.addInitializer(makeTensor(bScale, perChannel ? [qb.scales.length] : [], perChannel ? qb.scales : qb.scales.subarray(0, 1)));
        graph.addInitializer(makeTensor(bZp, perChannel ? [qb.scales.length] : [], new Int32Array(perChannel ? qb.scales.length : 1)));
        const bDq = graph.uniqueName(`${biasBase}_dequantized`);
        place(null, makeNode('DequantizeLinear', [qbName, bScale, bZp], [bDq], graph.uniqueName(`${biasBase}_DequantizeLinear`),
          perChannel ? [intAttribute('axis', 0)] : []));
        node.input[spec.bias] = bDq;
      }
    } else if (rule.kind === 'requantizing') {
      for (const index of rule.activationInputs(node)) {
        const name = node.input[index];
        const c = name ? graph.initializers.get(name) : undefined;
        if (!name || !c) continue;
        const values = tensorToFloat32(c);
        let lo = 0;
        let hi = 0;
        for (const v of values) { if (v < lo) lo = v; if (v > hi) hi = v; }
        const p = computeQParams({ min: lo, max: hi }, options.activations, { symmetric: false, reduceRange: false });
        const qValues = options.activations === 'u8' ? new Uint8Array(values.length) : new Int8Array(values.length);
        const [qlo, qhi] = options.activations === 'u8' ? [0, 255] : [-128, 127];
        for (let i = 0; i < values.length; i++) {
          qValues[i] = Math.min(qhi, Math.max(qlo, Math.round(values[i] / p.scale) + p.zeroPoint));
        }
        const base = `${name}_${node.name || node.output[0]}`;
        const qName = graph.uniqueName(`${base}_quantized`);
        graph.addInitializer(makeTensor(qName, c.dims, qValues));
        const [scale, zp] = scalarParams(graph, base, p, options.activations);
        const dq = graph.uniqueName(`${base}_dequantized`);
        place(null, makeNode('DequantizeLinear', [qName, scale, zp], [dq], graph.uniqueName(`${base}_DequantizeLinear`)));
        node.input[index] = dq;
      }
    }
  }

  // 4. Keep FP32 the weighted ops the plan left in float. ORT's WeightBiasQuantization (level basic) would otherwise
  //    quantize a float Conv/Gemm/ConvTranspose (the registry's requantizesFloat) that reads a scalar-scale
  //    DequantizeLinear, with per-tensor weights — exactly what excluding a sensitive layer must avoid. A
  //    DequantizeLinear with the same scale repeated per channel computes the same values and is not matched.
  const quantizedSet = new Set(plan.quantized);
  const dequantizerOf = new Map([...inserted].filter((n) => n.op_type === 'DequantizeLinear').map((n) => [n.output[0], n] as const));
  for (const node of graph.proto.node) {
    // Before opset 13 there is no per-channel DequantizeLinear: ORT then runs such a layer in int8 after all.
    if (options.axisAllowed === false || !requantizedByOrtWhenFloat(node) || quantizedSet.has(node) || inserted.has(node)) continue;
    const inputIndex = ruleFor(node)!.activationInputs(node)[0];
    const input = node.input[inputIndex];
    const p = activationParams.get(input);
    if (!p) continue;
    const channels = options.channelsOf?.(input);
    const dq = dequantizerOf.get(input);
    if (!dq) continue;
    if (channels && channels > 1) {
      const scale = graph.uniqueName(`${input}_channel_scale`);
      const zp = graph.uniqueName(`${input}_channel_zero_point`);
      graph.addInitializer(makeTensor(scale, [channels], new Float32Array(channels).fill(p.scale)));
      graph.addInitializer(makeTensor(zp, [channels], options.activations === 'u8'
        ? new Uint8Array(channels).fill(p.zeroPoint) : new Int8Array(channels).fill(p.zeroPoint)));
      const copy = graph.uniqueName(`${input}_dequantized_for_float`);
      place(null, makeNode('DequantizeLinear', [dq.input[0], scale, zp], [copy], graph.uniqueName(`${input}_DequantizeLinear_float`),
        [intAttribute('axis', 1)]));
      node.input[inputIndex] = copy;
    }
  }

  // 5. Splice the new nodes in next to their anchors, then restore a valid topological order.
  const nodes: NodeProto[] = [...(insertedAfter.get(null) ?? [])];
  for (const n of graph.proto.node) {
    if (inserted.has(n)) continue;
    nodes.push(n, ...(insertedAfter.get(n) ?? []));
  }
  // A DequantizeLinear only a removed Mul/Div by a constant read (its tensor's codes are read at another scale now).
  const read = new Set([...nodes.flatMap((n) => n.input), ...graph.graphOutputs]);
  graph.proto.node = nodes.filter((n) => !(inserted.has(n) && n.op_type === 'DequantizeLinear' && !read.has(n.output[0])));
  graph.reindex();
  graph.sortTopologically();
  graph.removeUnusedInitializers();
  // Rescaled tensors carry their source's codes (the same error): the per-layer table lists the source only.
  return { activationParams: new Map([...activationParams].filter(([t]) => !plan.scaled.has(t))), weights };
}
