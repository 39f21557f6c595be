// Activation range equalization (the cross-layer equalization of Nagel et al., "Data-Free Quantization", adapted to
// per-channel weights). Per-tensor activation scales waste most of their 256 levels on channels whose range is far
// below the tensor's maximum (common in MobileNets after BatchNorm folding). For a pair
//   producer Conv --(Relu | Clip(0,hi) | nothing)--> consumer Conv (dense or depthwise)
// (which ops may be producer or consumer, and along which weight axes, is the op registry's equalization facts)
// channel c of the connecting tensor is multiplied by 1/s_c (producer weights and bias of output channel c) and the
// consumer's weights reading channel c by s_c. The network computes the same function (ReLU is positively
// homogeneous; a Clip(0,hi) stays exact on the calibrated range because s_c >= max_c / hi), per-channel weight
// quantization of the producer is unaffected (it is invariant to a per-output-channel factor), and every channel
// now uses a similar share of the activation range.
import { Graph } from '../onnx/graph';
import { NodeProto } from '../onnx/proto';
import { makeTensor, tensorToFloat32 } from '../onnx/tensor';
import { activationBounds, equalizationOf, ruleFor, WeightSpec } from './registry';

export interface EqualizationPair {
  producer: NodeProto;
  /** Relu/Clip between the two layers, if any. */
  activation: NodeProto | null;
  consumer: NodeProto;
  /** The tensor whose channels get rescaled (the activation's output, or the producer's). */
  tensor: string;
  channels: number;
  /** Weight axis of the producer holding its output channels (divided by s_c), and of the consumer reading them. */
  producerAxis: number;
  consumerAxis: number;
}

/** A node's weight spec and constant weight dims, with its equalization roles; null when it has none. */
function equalizable(graph: Graph, node: NodeProto) {
  const weight: WeightSpec | undefined = ruleFor(node)?.weight;
  const dims = weight ? graph.initializers.get(node.input[weight.input] ?? '')?.dims : undefined;
  const role = weight && dims ? equalizationOf(node, dims) : null;
  return weight && dims && role ? { weight, dims, role } : null;
}

/**
 * Layer pairs that can be equalized (the registry says which ops may be producer or consumer, e.g. Conv, depthwise
 * Conv as consumer); `eligible(node)` says whether a node may be changed (e.g. it will be quantized).
 */
export function findEqualizationPairs(graph: Graph, opset: number, eligible: (node: NodeProto) => boolean): EqualizationPair[] {
  const pairs: EqualizationPair[] = [];
  const weightUses = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.input) weightUses.set(i, (weightUses.get(i) ?? 0) + 1);
  const ownsWeights = (n: NodeProto, weight: WeightSpec) =>
    [n.input[weight.input], weight.bias === undefined ? undefined : n.input[weight.bias]].every((t) => !t || (weightUses.get(t) ?? 0) === 1);
  for (const producer of graph.nodes) {
    const first = equalizable(graph, producer);
    if (!first?.role.producer || !eligible(producer) || !ownsWeights(producer, first.weight)) continue;
    const bias = first.weight.bias === undefined ? undefined : producer.input[first.weight.bias];
    if (bias && !graph.isConstant(bias)) continue;
    let tensor = producer.output[0];
    let next = graph.soleConsumer(tensor);
    let activation: NodeProto | null = null;
    if (next && ruleFor(next)?.kind === 'foldable-activation') {
      const bounds = activationBounds(next, graph, opset);
      if (!bounds || bounds.lo !== 0) continue;
      activation = next;
      tensor = next.output[0];
      next = graph.soleConsumer(tensor);
    }
    const second = next ? equalizable(graph, next) : null;
    if (!next || !second || second.role.consumerAxis === null) continue;
    if (next.input[ruleFor(next)!.activationInputs(next)[0]] !== tensor || !eligible(next) || !ownsWeights(next, second.weight)) continue;
    const producerAxis = first.weight.axis(producer, first.dims.length);
    const channels = first.dims[producerAxis];
    if (second.dims[second.role.consumerAxis] !== channels) continue;
    pairs.push({ producer, activation, consumer: next, tensor, channels, producerAxis, consumerAxis: second.role.consumerAxis });
  }
  return pairs;
}

export interface EqualizeOptions {
  /** 1 = make every channel reach the tensor maximum; 0.5 = meet halfway (balances the consumer's weight ranges). */
  strength: number;
  /** Channels whose range is below this share of the maximum are treated as dead and left alone. */
  deadRatio: number;
}

/**
 * Rescales each pair given per-channel maxima of |tensor| measured on calibration data. Returns the scale factors
 * applied per tensor (values of tensor channel c are divided by s[c]).
 */
export function equalizePairs(graph: Graph, pairs: readonly EqualizationPair[], channelMax: ReadonlyMap<string, Float32Array>, options: EqualizeOptions): Map<string, Float32Array> {
  const applied = new Map<string, Float32Array>();
  for (const pair of pairs) {
    const maxima = channelMax.get(pair.tensor);
    if (!maxima || maxima.length !== pair.channels) continue;
    let top = 0;
    for (const m of maxima) if (m > top) top = m;
    if (!(top > 0)) continue;
    const bounds = pair.activation ? activationBounds(pair.activation, graph, 13) : null;
    const hi = bounds ? bounds.hi : Infinity;
    const s = new Float32Array(pair.channels);
    for (let c = 0; c < pair.channels; c++) {
      const ratio = maxima[c] / top;
      let sc = ratio <= options.deadRatio || ratio === 0 ? 1 : Math.pow(ratio, options.strength);
      if (Number.isFinite(hi)) sc = Math.max(sc, maxima[c] / hi);
      s[c] = Math.min(1, sc);
    }
    scaleProducer(graph, pair, s);
    scaleConsumer(graph, pair, s);
    applied.set(pair.tensor, s);
  }
  return applied;
}

function replaceInitializer(graph: Graph, name: string, values: Float32Array): void {
  const old = graph.initializers.get(name)!;
  const fresh = makeTensor(name, old.dims, values);
  const index = graph.proto.initializer.indexOf(old);
  graph.proto.initializer[index] = fresh;
  graph.initializers.set(name, fresh);
}

/**
 * Divides (or multiplies) every value of channel c along `axis` of an initializer by s[c]: a loop per run of one
 * channel's values (a call per value cost ResNet-50's equalization 0.5 s).
 */
function scaleAlong(graph: Graph, name: string, axis: number, s: Float32Array, op: 'divide' | 'multiply'): void {
  const w = graph.initializers.get(name)!;
  const values = tensorToFloat32(w);
  const channels = w.dims[axis];
  const inner = w.dims.slice(axis + 1).reduce((n, d) => n * d, 1);
  for (let start = 0, c = 0; start < values.length; start += inner, c = (c + 1) % channels) {
    const factor = s[c];
    const end = start + inner;
    if (op === 'divide') for (let i = start; i < end; i++) values[i] /= factor;
    else for (let i = start; i < end; i++) values[i] *= factor;
  }
  replaceInitializer(graph, name, values);
}

function scaleProducer(graph: Graph, pair: EqualizationPair, s: Float32Array): void {
  const weight = ruleFor(pair.producer)!.weight!;
  scaleAlong(graph, pair.producer.input[weight.input], pair.producerAxis, s, 'divide');
  const biasName = weight.bias === undefined ? undefined : pair.producer.input[weight.bias];
  if (biasName) scaleAlong(graph, biasName, 0, s, 'divide');
}

function scaleConsumer(graph: Graph, pair: EqualizationPair, s: Float32Array): void {
  const weight = ruleFor(pair.consumer)!.weight!;
  scaleAlong(graph, pair.consumer.input[weight.input], pair.consumerAxis, s, 'multiply');
}
