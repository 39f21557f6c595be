// Bias shifts of convolutions from the means of their inputs, without running a copy of each layer. A convolution is
// linear: the mean of its output channel c over the output positions is Σ_k W[c,k]·m[k] + b[c], where m is the mean
// over those positions of the input patch (im2col) vector — padding included as zeros. So the shift FP32 − INT8 of
// a layer is W·m(x) + b − Ŵ·m(Q(x)) − b̂ = (W − Ŵ)·m(x) + Ŵ·m(x − Q(x)) + b − b̂, and each m needs, per input channel
// and kernel offset (ky, kx), the sum of the input over the rows i·s + ky·d − pad and columns likewise: exactly a
// depthwise Conv of the input with a kernel of ones the size of the output, dilated by the layer's strides and strided
// by its dilations ([N, C, kh, kw] out), done as two separable ones (a row of ones, then a column). The pass then costs
// the FP32 model plus a few reads of each layer's input, not the model twice over. Only for 2-D convolutions of fixed
// size (the kernels of ones are sized from the probe's output); other targets keep the copy.
import { attrInt, attrInts, attrString, Graph, intAttribute, makeNode } from '../../onnx/graph';
import { intsAttribute } from '../../onnx/build';
import { makeTensor, tensorToFloat32 } from '../../onnx/tensor';
import type { NodeProto, TensorProto } from '../../onnx/proto';
import type { BiasTarget } from './bias-correction';

/** What the probe computes for one convolution, and how to turn it into the layer's shift. */
export interface InputMeanProbe {
  target: BiasTarget;
  /** Outputs [N, C·kh·kw]: per sample, the input patch sums of x and of x − Q/DQ(x), over the output positions. */
  fp32Sums: string;
  errorSums: string;
  /** Per output channel c, from the two vectors' means over samples (each already summed over positions). */
  shift(fp32: Float64Array, error: Float64Array): Float64Array;
}

/**
 * Adds, for `target` (a Conv of the FP32 `graph` with a 2-D kernel, NOTSET padding, input [N, C, H, W] and output dims
 * known), the nodes that sum the patches of its input and of that input less `qdqInput` (its Q/DQ), named unique in
 * `graph`; null when the target is not such a convolution.
 */
export function addInputMeanProbe(target: BiasTarget, graph: Graph, dimsOf: (t: string) => readonly number[] | undefined,
  qdqInput: string, nodes: NodeProto[], initializers: TensorProto[]): InputMeanProbe | null {
  const original = graph.nodes.find((n) => n.name === target.node.name);
  if (!original || original.op_type !== 'Conv' || (attrString(original, 'auto_pad') ?? 'NOTSET') !== 'NOTSET') return null;
  const weight = graph.initializers.get(original.input[1]);
  const inputDims = dimsOf(target.fp32Input);
  const outputDims = dimsOf(target.fp32Output);
  if (!weight || weight.dims.length !== 4 || inputDims?.length !== 4 || outputDims?.length !== 4) return null;
  const [rows, perGroup, kh, kw] = weight.dims.map(Number);
  const channels = inputDims[1];
  const groups = attrInt(original, 'group', 1);
  if (channels !== perGroup * groups || rows % groups !== 0) return null;
  const strides = attrInts(original, 'strides') ?? [1, 1];
  const dilations = attrInts(original, 'dilations') ?? [1, 1];
  const pads = attrInts(original, 'pads') ?? [0, 0, 0, 0];
  const [outH, outW] = [outputDims[2], outputDims[3]];
  const base = `${target.node.name}_input_means`;
  const constant = (suffix: string, dims: number[], values: Float32Array | BigInt64Array): string => {
    const name = graph.uniqueName(`${base}_${suffix}`);
    initializers.push(makeTensor(name, dims, values));
    return name;
  };
  // Separable: a row of ones sums along the width, then a column of ones along the height (zero rows of padding sum to
  // nothing either way) — each input value is read kw times, not kh·kw times as by one kernel of ones.
  const onesAlongWidth = constant('ones_w', [channels, 1, 1, outW], new Float32Array(channels * outW).fill(1));
  const onesAlongHeight = constant('ones_h', [channels, 1, outH, 1], new Float32Array(channels * outH).fill(1));
  const start = constant('start', [2], BigInt64Array.of(0n, 0n));
  const end = constant('end', [2], BigInt64Array.of(BigInt(kh), BigInt(kw)));
  const shape = constant('shape', [2], BigInt64Array.of(0n, -1n));
  const axes = constant('axes', [2], BigInt64Array.of(2n, 3n));
  const [strideH, strideW] = strides.map(Number);
  const [dilationH, dilationW] = dilations.map(Number);
  const [padTop, padLeft, padBottom, padRight] = pads.map(Number);
  const sums = (input: string, tag: string): string => {
    const rowSums = graph.uniqueName(`${base}_${tag}_row_sums`);
    const patches = graph.uniqueName(`${base}_${tag}_patches`);
    const cut = graph.uniqueName(`${base}_${tag}_offsets`);
    const flat = graph.uniqueName(`${base}_${tag}_sums`);
    nodes.push(
      makeNode('Conv', [input, onesAlongWidth], [rowSums], graph.uniqueName(`${base}_${tag}_ConvW`), [
        intsAttribute('kernel_shape', [1, outW]), intsAttribute('dilations', [1, strideW]), intsAttribute('strides', [1, dilationW]),
        intsAttribute('pads', [0, padLeft, 0, padRight]), intAttribute('group', channels),
      ]),
      makeNode('Conv', [rowSums, onesAlongHeight], [patches], graph.uniqueName(`${base}_${tag}_ConvH`), [
        intsAttribute('kernel_shape', [outH, 1]), intsAttribute('dilations', [strideH, 1]), intsAttribute('strides', [dilationH, 1]),
        intsAttribute('pads', [padTop, 0, padBottom, 0]), intAttribute('group', channels),
      ]),
      // The output has kh×kw offsets, or one more row/column when the stride leaves room: the first kh×kw are the patch.
      makeNode('Slice', [patches, start, end, axes], [cut], graph.uniqueName(`${base}_${tag}_Slice`)),
      makeNode('Reshape', [cut, shape], [flat], graph.uniqueName(`${base}_${tag}_Reshape`)),
    );
    return flat;
  };
  // Sums of the input and of what its Q/DQ takes away (small: summed apart, it keeps its precision; a sum of Q(x)
  // would lose it against the sum of x it is subtracted from).
  const residual = graph.uniqueName(`${base}_quantization_error`);
  nodes.push(makeNode('Sub', [target.fp32Input, qdqInput], [residual], graph.uniqueName(`${base}_Sub`)));
  const fp32Sums = sums(target.fp32Input, 'fp32');
  const errorSums = sums(residual, 'error');
  const positions = outH * outW;
  const w = tensorToFloat32(weight);
  const biasTensor = original.input[2] ? graph.initializers.get(original.input[2]) : undefined;
  const b = biasTensor ? tensorToFloat32(biasTensor) : new Float32Array(rows);
  return {
    target, fp32Sums, errorSums,
    shift: (fp32, error) => {
      const dequantized = target.weights().values;
      const k = perGroup * kh * kw;
      const out = new Float64Array(rows);
      for (let c = 0; c < rows; c++) {
        const first = Math.floor(c / (rows / groups)) * perGroup;
        // W·m(x) − Ŵ·m(Q(x)) = (W − Ŵ)·m(x) + Ŵ·m(x − Q(x)): two small terms, no cancellation.
        let sum = b[c] - target.bias[c];
        for (let i = 0; i < k; i++) {
          const at = first * kh * kw + i;
          const wq = dequantized[c * k + i];
          sum += ((w[c * k + i] - wq) * fp32[at] + wq * error[at]) / positions;
        }
        out[c] = sum;
      }
      return out;
    },
  };
}
