// Input channels padded for ONNX Runtime's fast int8 convolution. On x64, ORT's QLinearConv runs a dense convolution
// with its direct (indirect-buffer) u8s8 kernel only when the input channels are a multiple of 4 and the output
// channels at least 16 and a multiple of 8 (MLAS ConvSym: KernelInputChannelAlignment 4; 8 on AVX2, 4 on AVX-512;
// FilterOutputChannelPackCount 16), and the weights symmetric; otherwise it falls back to im2col and a GEMM. The
// first convolution of an RGB model reads 3 channels: MobileNet-V2's took 0.41 ms in int8 against 0.31 ms in float
// (batch 1, one thread, AVX512-VNNI), and Octet's speed-aware choice had to keep it float. With the model input
// padded to 4 channels (a zero channel, quantized to the zero point, read by zero weights: the output is bit for bit
// the same), ORT uses the fast kernel: MobileNet-V2 3.73 → 3.54 ms, MobileNet-V1 0.75 3.16 → 2.95 ms, ResNet-50
// 21.3 → 20.9 ms. The pad is on the uint8 tensor after its QuantizeLinear (a quarter of the bytes of a float pad,
// measured faster; Pad takes uint8 from opset 11 on, so older models are left as they are).
// Only convolutions reading a graph input are padded: an inner tensor would need a copy per run, and its Q/DQ output
// keeps its FP32 name for the per-layer error.
import { attrInt, Graph, makeNode, copySharingInitializers } from '../onnx/graph';
import type { PaddedInput } from '../common/report';
import type { ModelProto, NodeProto } from '../onnx/proto';
import { makeTensor, tensorToArray } from '../onnx/tensor';

/** MLAS ConvSym's alignments on x64 (the strictest of its AVX2, AVX-VNNI and AVX-512 kernels). */
const INPUT_CHANNEL_ALIGNMENT = 4;
const OUTPUT_CHANNEL_ALIGNMENT = 8;
const MIN_OUTPUT_CHANNELS = 16;

/** TensorProto.DataType INT8, UINT8. */
const INT8 = 3;
const UINT8 = 2;

/** Whether ONNX Runtime on this machine has the kernel the padding is for (x64 with AVX2 or better). */
export function alignmentPays(machine: { avx2: boolean }, arch: string = process.arch): boolean {
  return arch === 'x64' && machine.avx2;
}

/** What one padding changes: the Conv, its activation's Q and DQ, and its int8 weight initializer. */
interface Candidate { conv: NodeProto; q: NodeProto; dq: NodeProto; weight: string; dims: number[] }

function candidateOf(graph: Graph, conv: NodeProto): Candidate | null {
  if (conv.op_type !== 'Conv' || conv.domain || attrInt(conv, 'group', 1) !== 1) return null;
  const dq = graph.producers.get(conv.input[0] ?? '');
  const weightDq = graph.producers.get(conv.input[1] ?? '');
  if (dq?.op_type !== 'DequantizeLinear' || weightDq?.op_type !== 'DequantizeLinear') return null;
  const q = graph.producers.get(dq.input[0] ?? '');
  if (q?.op_type !== 'QuantizeLinear' || !graph.graphInputs.has(q.input[0] ?? '')) return null;
  // The DQ is this layer's own: its output changes shape.
  if (graph.consumersOf(dq.output[0] ?? '').length !== 1 || graph.graphOutputs.has(dq.output[0] ?? '')) return null;
  const zeroPoint = graph.initializers.get(q.input[2] ?? '');
  if (zeroPoint?.data_type !== UINT8 || tensorToArray(zeroPoint).length !== 1 || graph.initializers.get(dq.input[2] ?? '') !== zeroPoint) return null;
  const weight = graph.initializers.get(weightDq.input[0] ?? '');
  const weightZeroPoint = graph.initializers.get(weightDq.input[2] ?? '');
  if (weight?.data_type !== INT8 || weight.dims.length !== 4) return null;
  if (weightZeroPoint && tensorToArray(weightZeroPoint).some((z) => Number(z) !== 0)) return null;
  const weightUses = graph.nodes.filter((n) => n.input.includes(weight.name ?? '')).length;
  const dims = weight.dims.map(Number);
  const [outputs, inputs] = dims;
  if (weightUses !== 1 || inputs % INPUT_CHANNEL_ALIGNMENT === 0) return null;
  if (outputs < MIN_OUTPUT_CHANNELS || outputs % OUTPUT_CHANNEL_ALIGNMENT !== 0) return null;
  return { conv, q, dq, weight: weight.name!, dims };
}

/** `codes` [O, I, kh, kw] with zero input channels appended up to `to`. */
function padInputChannels(codes: Int8Array, [outputs, inputs, kh, kw]: number[], to: number): Int8Array {
  const plane = kh * kw;
  const padded = new Int8Array(outputs * to * plane);
  for (let o = 0; o < outputs; o++) padded.set(codes.subarray(o * inputs * plane, (o + 1) * inputs * plane), o * to * plane);
  return padded;
}

/**
 * A copy of the QDQ `model` (sharing its untouched initializers) whose convolutions reading a graph input with a
 * channel count ORT's fast int8 kernel cannot take have that input padded with zero channels, and the list of them;
 * `model` itself when none qualify.
 */
export function alignInputChannels(model: ModelProto, opset: number): { model: ModelProto; padded: PaddedInput[] } {
  const original = new Graph(model.graph!);
  if (opset < 11 || !original.nodes.some((n) => candidateOf(original, n))) return { model, padded: [] };
  const copy = copySharingInitializers(model);
  const graph = new Graph(copy.graph!);
  const padded: PaddedInput[] = [];
  const reshaped = new Set<string>();
  for (const node of [...graph.nodes]) {
    const c = candidateOf(graph, node);
    if (!c) continue;
    const channels = c.dims[1];
    const to = Math.ceil(channels / INPUT_CHANNEL_ALIGNMENT) * INPUT_CHANNEL_ALIGNMENT;
    const weight = graph.initializers.get(c.weight)!;
    const fresh = makeTensor(c.weight, [c.dims[0], to, c.dims[2], c.dims[3]], padInputChannels(tensorToArray(weight) as Int8Array, c.dims, to));
    copy.graph!.initializer[copy.graph!.initializer.indexOf(weight)] = fresh;
    const pads = [0, 0, 0, 0, 0, to - channels, 0, 0];
    const base = `${c.conv.name || c.conv.output[0]}_input_channels`;
    const out = graph.uniqueName(`${base}_padded`);
    // On the uint8 codes, with the zero point (which dequantizes to 0) as the pad value.
    const padsName = graph.uniqueName(`${base}_pads`);
    graph.addInitializer(makeTensor(padsName, [8], BigInt64Array.from(pads, BigInt)));
    const pad = makeNode('Pad', [c.dq.input[0]!, padsName, c.q.input[2]!], [out], graph.uniqueName(`${base}_Pad`));
    c.dq.input[0] = out;
    graph.nodes.splice(graph.nodes.indexOf(c.dq), 0, pad);
    graph.reindex();
    reshaped.add(c.dq.output[0]!);
    padded.push({ node: c.conv.name ?? '', channels, paddedTo: to });
  }
  // A shape recorded for the dequantized input would now be wrong.
  copy.graph!.value_info = copy.graph!.value_info.filter((vi) => !reshaped.has(vi.name ?? ''));
  return { model: copy, padded };
}
