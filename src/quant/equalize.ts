// Activation range equalization (the cross-layer equalization of Nagel et al., "Data-Free Quantization", adapted to
// per-channel weights). Per-tensor activation scales waste most of their 256 levels on channels whose range is far
// below the tensor's maximum (common in MobileNets after BatchNorm folding). For a pair
//   producer Conv --(Relu | Clip(0,hi) | nothing)--> consumer Conv
// channel c of the connecting tensor is multiplied by 1/s_c (producer weights and bias of output channel c) and the
// consumer's weights reading channel c by s_c. The network computes the same function (ReLU is positively
// homogeneous; a Clip(0,hi) stays exact on the calibrated range because s_c >= max_c / hi), per-channel weight
// quantization of the producer is unaffected (it is invariant to a per-output-channel factor), and every channel
// now uses a similar share of the activation range.
import { attrInt, Graph } from '../onnx/graph';
import { NodeProto } from '../onnx/proto';
import { makeTensor, tensorToFloat32 } from '../onnx/tensor';
import { activationBounds } from './plan';

export interface EqualizationPair {
  producer: NodeProto;
  /** Relu/Clip between the two convolutions, if any. */
  activation: NodeProto | null;
  consumer: NodeProto;
  /** The tensor whose channels get rescaled (the activation's output, or the producer's). */
  tensor: string;
  channels: number;
}

function constWeight(graph: Graph, node: NodeProto): number[] | null {
  const w = graph.initializers.get(node.input[1] ?? '');
  return w ? w.dims : null;
}

function soleConsumer(graph: Graph, tensor: string): NodeProto | null {
  const consumers = graph.consumersOf(tensor);
  return consumers.length === 1 && !graph.graphOutputs.has(tensor) ? consumers[0] : null;
}

/** Conv pairs that can be equalized; `eligible(node)` says whether a node may be changed (e.g. it will be quantized). */
export function findEqualizationPairs(graph: Graph, opset: number, eligible: (node: NodeProto) => boolean): EqualizationPair[] {
  const pairs: EqualizationPair[] = [];
  const weightUses = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.input) weightUses.set(i, (weightUses.get(i) ?? 0) + 1);
  const ownsWeights = (n: NodeProto) => [n.input[1], n.input[2]].every((t) => !t || (weightUses.get(t) ?? 0) === 1);
  for (const producer of graph.nodes) {
    if (producer.op_type !== 'Conv' || !eligible(producer) || !ownsWeights(producer)) continue;
    const w1 = constWeight(graph, producer);
    if (!w1 || (producer.input[2] && !graph.isConstant(producer.input[2]))) continue;
    let tensor = producer.output[0];
    let next = soleConsumer(graph, tensor);
    let activation: NodeProto | null = null;
    if (next && (next.op_type === 'Relu' || next.op_type === 'Clip')) {
      const bounds = activationBounds(next, graph, opset);
      if (!bounds || bounds.lo !== 0) continue;
      activation = next;
      tensor = next.output[0];
      next = soleConsumer(graph, tensor);
    }
    if (!next || next.op_type !== 'Conv' || next.input[0] !== tensor || !eligible(next) || !ownsWeights(next)) continue;
    const w2 = constWeight(graph, next);
    if (!w2) continue;
    const channels = w1[0];
    const group = attrInt(next, 'group', 1);
    const depthwise = group === channels && w2[1] === 1 && w2[0] === channels;
    if (group !== 1 && !depthwise) continue;
    if (group === 1 && w2[1] !== channels) continue;
    pairs.push({ producer, activation, consumer: next, tensor, channels });
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
export function equalizePairs(graph: Graph, pairs: readonly EqualizationPair[], channelMax: Map<string, Float32Array>, options: EqualizeOptions): Map<string, Float32Array> {
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
    scaleProducer(graph, pair.producer, s);
    scaleConsumer(graph, pair.consumer, s);
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

function scaleProducer(graph: Graph, conv: NodeProto, s: Float32Array): void {
  const w = graph.initializers.get(conv.input[1])!;
  const values = tensorToFloat32(w);
  const per = values.length / w.dims[0];
  for (let c = 0; c < w.dims[0]; c++) for (let i = 0; i < per; i++) values[c * per + i] /= s[c];
  replaceInitializer(graph, conv.input[1], values);
  const biasName = conv.input[2];
  if (biasName) {
    const bias = tensorToFloat32(graph.initializers.get(biasName)!);
    for (let c = 0; c < bias.length; c++) bias[c] /= s[c];
    replaceInitializer(graph, biasName, bias);
  }
}

function scaleConsumer(graph: Graph, conv: NodeProto, s: Float32Array): void {
  const w = graph.initializers.get(conv.input[1])!;
  const values = tensorToFloat32(w);
  const [outC, inC] = w.dims;
  const spatial = values.length / (outC * inC);
  const depthwise = inC === 1 && outC === s.length && attrInt(conv, 'group', 1) === outC;
  for (let o = 0; o < outC; o++) {
    for (let i = 0; i < inC; i++) {
      const factor = depthwise ? s[o] : s[i];
      const base = (o * inC + i) * spatial;
      for (let k = 0; k < spatial; k++) values[base + k] *= factor;
    }
  }
  replaceInitializer(graph, conv.input[1], values);
}
