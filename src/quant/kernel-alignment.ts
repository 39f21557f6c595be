// Channels padded for ONNX Runtime's fast int8 convolutions. On x64, ORT's QLinearConv runs a dense convolution
// with its direct (indirect-buffer) u8s8 kernel only when the input channels are a multiple of 4 and the output
// channels at least 16 and a multiple of 8 (MLAS ConvSym: KernelInputChannelAlignment 4; 8 on AVX2, 4 on AVX-512;
// FilterOutputChannelPackCount 16), and the weights symmetric; otherwise it falls back to im2col and a GEMM. The
// first convolution of an RGB model reads 3 channels: MobileNet-V2's took 0.41 ms in int8 against 0.31 ms in float
// (batch 1, one thread, AVX512-VNNI), and Octet's speed-aware choice had to keep it float. With the model input
// padded to 4 channels (a zero channel, quantized to the zero point, read by zero weights: the output is bit for bit
// the same), ORT uses the fast kernel: MobileNet-V2 3.73 → 3.54 ms, MobileNet-V1 0.75 3.16 → 2.95 ms, ResNet-50
// 21.3 → 20.9 ms. The pad is on the uint8 tensor after its QuantizeLinear (a quarter of the bytes of a float pad,
// measured faster; Pad takes uint8 from opset 11 on, so older models are left as they are).
// Only convolutions reading a graph input are padded so: an inner tensor would need a copy per run.
// Depthwise layers have the same rule (ORT's direct depthwise kernel wants channels a multiple of 16): a depthwise
// layer with, say, 24 channels between two dense convolutions (producer Conv -> Q/DQ -> depthwise -> Q/DQ -> consumer
// Conv; per-element activations, x · sigmoid(x) and x · hard-sigmoid(x) included, allowed between; no other readers)
// gets 8 more: the producer computes them from zero weights, the depthwise layer from zero weights, the consumer reads
// them with zero weights — the outputs are bit for bit the same, no copy is added. MobileNet-V1 0.75's 24-channel
// dw_1: 0.39 → 0.22 ms, the model (all int8, stem padded too) 2.93 → 2.82 ms. The per-layer error compares those
// tensors' first channels with FP32's.
import { attrInt, Graph, makeNode, copySharingInitializers } from '../onnx/graph';
import type { PaddedInput } from '../common/report';
import type { ModelProto, NodeProto } from '../onnx/proto';
import { elementCount, makeTensor, NumericArray, tensorToArray } from '../onnx/tensor';

/** MLAS ConvSym's alignments on x64 (the strictest of its AVX2, AVX-VNNI and AVX-512 kernels). */
const INPUT_CHANNEL_ALIGNMENT = 4;
const OUTPUT_CHANNEL_ALIGNMENT = 8;
const MIN_OUTPUT_CHANNELS = 16;
const DEPTHWISE_ALIGNMENT = 16;
/** Ops that map their first input value by value when their other inputs are constants of one value (Q/DQ scales,
 *  Clip bounds): a padded channel passes through them, whatever they make of it (only zero weights read it). */
const PER_ELEMENT = new Set(['Relu', 'Clip', 'LeakyRelu', 'HardSigmoid', 'HardSwish', 'Sigmoid', 'QuantizeLinear', 'DequantizeLinear']);
/** Arithmetic that is per element when one operand is a constant of one value (hard-sigmoid as Octet writes it). */
const SCALAR_ARITHMETIC = new Set(['Add', 'Sub', 'Mul', 'Div']);

/** TensorProto.DataType INT8, UINT8. */
const INT8 = 3;
const UINT8 = 2;

/** Whether ONNX Runtime on this machine has the kernels the padding is for (x64 with AVX2 or better). */
export function alignmentPays(machine: { avx2: boolean }, arch: string = process.arch): boolean {
  return arch === 'x64' && machine.avx2;
}

const alignUp = (n: number, to: number) => Math.ceil(n / to) * to;

/** A QDQ convolution with int8 symmetric weights [O, I, kh, kw] (and an int32 bias, if any) only it reads. */
interface Layer { conv: NodeProto; weightDq: NodeProto; biasDq: NodeProto | null; dims: number[] }

function layerOf(graph: Graph, conv: NodeProto | undefined): Layer | null {
  if (conv?.op_type !== 'Conv' || conv.domain) return null;
  const weightDq = graph.producers.get(conv.input[1] ?? '');
  if (weightDq?.op_type !== 'DequantizeLinear' || graph.consumersOf(weightDq.output[0] ?? '').length !== 1) return null;
  const weight = graph.initializers.get(weightDq.input[0] ?? '');
  if (weight?.data_type !== INT8 || weight.dims.length !== 4) return null;
  const zeroPoint = graph.initializers.get(weightDq.input[2] ?? '');
  if (zeroPoint && tensorToArray(zeroPoint).some((z) => Number(z) !== 0)) return null;
  const biasDq = conv.input[2] ? graph.producers.get(conv.input[2]) : null;
  if (biasDq !== null && (biasDq?.op_type !== 'DequantizeLinear' || !graph.initializers.has(biasDq.input[0] ?? ''))) return null;
  return { conv, weightDq, biasDq, dims: weight.dims.map(Number) };
}

/** The input `node` maps value by value into its output (see PER_ELEMENT, SCALAR_ARITHMETIC); undefined otherwise. */
function perElementInput(graph: Graph, node: NodeProto): string | undefined {
  const op = node.op_type ?? '';
  // A constant of one value: an initializer, or one dequantized (an Add's offset as Octet writes it).
  const scalar = (t: string | undefined): boolean => {
    const c = t ? graph.initializers.get(t) : undefined;
    if (c) return elementCount(c.dims) === 1;
    const dq = t ? graph.producers.get(t) : undefined;
    return dq?.op_type === 'DequantizeLinear' && dq.input.every((i) => !i || graph.initializers.has(i)) && scalar(dq.input[0]);
  };
  if (PER_ELEMENT.has(op)) return node.input.slice(1).every((t) => !t || scalar(t)) ? node.input[0] : undefined;
  if (!SCALAR_ARITHMETIC.has(op)) return undefined;
  const [a, b] = node.input;
  return scalar(b) ? a : scalar(a) && op !== 'Sub' && op !== 'Div' ? b : undefined;
}

/** When `t` is read only by the gate and the Mul of t · gate(t) (SiLU; hard-swish, however split — the gate's way a
 *  chain of per-element ops): that Mul, and the tensors on the gate's way. */
function gatedProduct(graph: Graph, t: string): { mul: NodeProto; tensors: string[] } | null {
  const readers = graph.consumersOf(t);
  if (readers.length !== 2 || graph.graphOutputs.has(t)) return null;
  const mul = readers.find((r) => r.op_type === 'Mul' && perElementInput(graph, r) === undefined);
  const gate = readers.find((r) => r !== mul && perElementInput(graph, r) === t);
  if (!gate || !mul) return null;
  const tensors: string[] = [];
  let g = gate.output[0] ?? '';
  for (;;) {
    tensors.push(g);
    const next = graph.soleConsumer(g);
    if (next === mul) break;
    if (!next || perElementInput(graph, next) !== g) return null;
    g = next.output[0] ?? '';
  }
  const other = mul.input[0] === g ? mul.input[1] : mul.input[1] === g ? mul.input[0] : undefined;
  return other === t ? { mul, tensors } : null;
}

/** From `node`'s output through per-element ops (Q/DQ, activations, x · gate(x)) to the next other node, with the
 *  tensors passed (the last one is what that node reads). */
function downstream(graph: Graph, node: NodeProto): { reader: NodeProto; tensors: string[] } | null {
  const tensors: string[] = [];
  for (let t = node.output[0] ?? ''; ;) {
    tensors.push(t);
    const product = gatedProduct(graph, t);
    if (product) {
      tensors.push(...product.tensors);
      t = product.mul.output[0] ?? '';
      continue;
    }
    const reader = graph.soleConsumer(t);
    if (!reader) return null;
    if (perElementInput(graph, reader) !== t) return reader.input[0] === t ? { reader, tensors } : null;
    t = reader.output[0] ?? '';
  }
}

/** The input's nearest producer that is not a per-element op (nor the Mul of x · gate(x)). */
function upstream(graph: Graph, node: NodeProto): NodeProto | undefined {
  for (let t = node.input[0] ?? ''; ;) {
    const p = graph.producers.get(t);
    if (!p) return undefined;
    const next = p.op_type === 'Mul' ? p.input.find((i) => gatedProduct(graph, i)?.mul === p) ?? perElementInput(graph, p)
      : perElementInput(graph, p);
    if (next === undefined) return p;
    t = next;
  }
}

/** A weight, scale, zero point or bias initializer behind a DQ input, replaced (under a new name) by `values`. */
function replaceInput(graph: Graph, node: NodeProto, index: number, dims: number[], values: NumericArray): void {
  const name = graph.uniqueName(`${node.input[index]}_aligned`);
  graph.addInitializer(makeTensor(name, dims, values));
  node.input[index] = name;
}

/** Appends `extra` channels along axis 0 of a DQ's codes (zeros) and of its per-channel scale (the last one
 *  repeated: ORT fuses only sensible scales) and zero point (zeros). */
function growChannels(graph: Graph, dq: NodeProto, channels: number, extra: number): void {
  for (const [index, fill] of [[0, 'zero'], [1, 'last'], [2, 'zero']] as const) {
    const t = graph.initializers.get(dq.input[index] ?? '');
    if (!t) continue;
    const values = tensorToArray(t);
    const dims = t.dims.map(Number);
    if (index > 0 && values.length !== channels) continue; // per tensor
    const row = values.length / channels;
    const grown = new (values.constructor as new (n: number) => NumericArray)(values.length + extra * row);
    grown.set(values as never);
    if (fill === 'last') grown.fill(values[values.length - 1] as never, values.length);
    replaceInput(graph, dq, index, [channels + extra, ...dims.slice(1)], grown);
  }
}

/** A consumer's weight codes [O, I, kh, kw] with zero input channels appended up to `to`. */
function padInputChannels(graph: Graph, layer: Layer, to: number): void {
  const [outputs, inputs, kh, kw] = layer.dims;
  const codes = tensorToArray(graph.initializers.get(layer.weightDq.input[0]!)!) as Int8Array;
  const plane = kh * kw;
  const padded = new Int8Array(outputs * to * plane);
  for (let o = 0; o < outputs; o++) padded.set(codes.subarray(o * inputs * plane, (o + 1) * inputs * plane), o * to * plane);
  replaceInput(graph, layer.weightDq, 0, [outputs, to, kh, kw], padded);
}

/** A dense convolution reading a graph input through its own Q/DQ, with channels the fast kernel cannot take. */
function inputCandidate(graph: Graph, conv: NodeProto): { layer: Layer; q: NodeProto; dq: NodeProto } | null {
  const layer = layerOf(graph, conv);
  if (!layer || attrInt(conv, 'group', 1) !== 1) return null;
  const [outputs, inputs] = layer.dims;
  if (inputs % INPUT_CHANNEL_ALIGNMENT === 0 || outputs < MIN_OUTPUT_CHANNELS || outputs % OUTPUT_CHANNEL_ALIGNMENT !== 0) return null;
  const dq = graph.producers.get(conv.input[0] ?? '');
  const q = graph.producers.get(dq?.input[0] ?? '');
  if (dq?.op_type !== 'DequantizeLinear' || q?.op_type !== 'QuantizeLinear' || !graph.graphInputs.has(q.input[0] ?? '')) return null;
  // The DQ is this layer's own: its output changes shape.
  if (graph.soleConsumer(dq.output[0] ?? '') !== conv) return null;
  const zeroPoint = graph.initializers.get(q.input[2] ?? '');
  if (zeroPoint?.data_type !== UINT8 || tensorToArray(zeroPoint).length !== 1 || graph.initializers.get(dq.input[2] ?? '') !== zeroPoint) return null;
  return { layer, q, dq };
}

/** Pads a graph input's uint8 codes for `c` (Pad before its DQ, with the zero point); returns the changed tensor. */
function padInput(graph: Graph, c: NonNullable<ReturnType<typeof inputCandidate>>): PaddedInput {
  const channels = c.layer.dims[1];
  const to = alignUp(channels, INPUT_CHANNEL_ALIGNMENT);
  padInputChannels(graph, c.layer, to);
  const base = `${c.layer.conv.name || c.layer.conv.output[0]}_input_channels`;
  const padsName = graph.uniqueName(`${base}_pads`);
  graph.addInitializer(makeTensor(padsName, [8], BigInt64Array.of(0n, 0n, 0n, 0n, 0n, BigInt(to - channels), 0n, 0n)));
  const out = graph.uniqueName(`${base}_padded`);
  const pad = makeNode('Pad', [c.dq.input[0]!, padsName, c.q.input[2]!], [out], graph.uniqueName(`${base}_Pad`));
  c.dq.input[0] = out;
  graph.nodes.splice(graph.nodes.indexOf(c.dq), 0, pad);
  return { node: c.layer.conv.name ?? '', channels, paddedTo: to };
}

/** A depthwise layer between a dense producer and a dense consumer, with a channel count the fast kernel cannot take. */
function depthwiseCandidate(graph: Graph, conv: NodeProto): { producer: Layer; layer: Layer; consumer: Layer; tensors: string[] } | null {
  const layer = layerOf(graph, conv);
  if (!layer || layer.dims[1] !== 1) return null;
  const channels = layer.dims[0];
  if (attrInt(conv, 'group', 1) !== channels || channels % DEPTHWISE_ALIGNMENT === 0) return null;
  if (graph.producers.get(conv.input[0] ?? '')?.op_type !== 'DequantizeLinear') return null;
  const producer = layerOf(graph, upstream(graph, conv));
  const into = producer && attrInt(producer.conv, 'group', 1) === 1 && producer.dims[0] === channels ? downstream(graph, producer.conv) : null;
  const out = downstream(graph, conv);
  const consumer = out ? layerOf(graph, out.reader) : null;
  if (!into || into.reader !== conv || !out || !consumer || attrInt(consumer.conv, 'group', 1) !== 1 || consumer.dims[1] !== channels) return null;
  return { producer: producer!, layer, consumer, tensors: [...into.tensors, ...out.tensors] };
}

function padDepthwise(graph: Graph, c: NonNullable<ReturnType<typeof depthwiseCandidate>>): PaddedInput {
  const channels = c.layer.dims[0];
  const to = alignUp(channels, DEPTHWISE_ALIGNMENT);
  for (const layer of [c.producer, c.layer]) {
    growChannels(graph, layer.weightDq, channels, to - channels);
    if (layer.biasDq) growChannels(graph, layer.biasDq, channels, to - channels);
  }
  const group = c.layer.conv.attribute.find((a) => a.name === 'group')!;
  group.i = to;
  padInputChannels(graph, c.consumer, to);
  return { node: c.layer.conv.name ?? '', channels, paddedTo: to };
}

/**
 * A copy of the QDQ `model` (sharing its untouched initializers) with channels padded for ORT's fast int8 kernels —
 * depthwise layers between two dense ones, then convolutions reading a graph input — and the list of the layers;
 * `model` itself when none qualify (or before opset 11: Pad takes uint8 from 11 on).
 */
export function alignForKernels(model: ModelProto, opset: number): { model: ModelProto; padded: PaddedInput[] } {
  const original = new Graph(model.graph!);
  const any = original.nodes.some((n) => depthwiseCandidate(original, n) || inputCandidate(original, n));
  if (opset < 11 || !any) return { model, padded: [] };
  const copy = copySharingInitializers(model);
  const graph = new Graph(copy.graph!);
  const padded: PaddedInput[] = [];
  const reshaped = new Set<string>();
  for (const node of [...graph.nodes]) {
    const c = depthwiseCandidate(graph, node);
    if (!c) continue;
    padded.push(padDepthwise(graph, c));
    for (const t of c.tensors) reshaped.add(t);
    graph.reindex();
  }
  for (const node of [...graph.nodes]) {
    const c = inputCandidate(graph, node);
    if (!c) continue;
    padded.push(padInput(graph, c));
    reshaped.add(c.dq.output[0]!);
    graph.reindex();
  }
  graph.removeUnusedInitializers();
  // Shapes recorded for the padded tensors would now be wrong.
  copy.graph!.value_info = copy.graph!.value_info.filter((vi) => !reshaped.has(vi.name ?? ''));
  return { model: copy, padded };
}
