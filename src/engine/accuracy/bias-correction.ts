// Bias correction: rounding a layer's weights and clipping/rounding its input shift the mean of its output, channel
// by channel; the shift adds up through the network (depthwise convolutions with few weights per channel suffer most).
// For every quantized layer the op registry calls bias-correctable (Conv; Gemm with transA=0, beta=1), the shift is
// measured with FP32 inputs — for the convolutions of a fixed-size model from their inputs' means (bias-input-means.ts),
// for the others with a copy: the FP32 graph gets, per layer, a copy of
// the layer that reads its input through the INT8 model's Q/DQ and uses the INT8 model's dequantized weights; the
// per-channel mean of (FP32 output) − (copy's output + INT8 bias) over calibration samples is added to the INT8 bias
// (re-quantized with the bias's own scale, so ORT still fuses QLinearConv/QGemm). Each layer is corrected for its
// own error on FP32 inputs (like NNCF's fast bias correction), so one pass measures all layers and corrections do not
// compound. A shift depends only on the layer's weights and input scale: callers cache it across conversions.
import { attrInt, Graph, intAttribute, makeNode } from '../../onnx/graph';
import { makeTensor, tensorToArray, tensorToFloat32 } from '../../onnx/tensor';
import { AttributeProto, ModelProto, NodeProto, TensorProto } from '../../onnx/proto';
import { CalibrationOptions, collectChannelMeans } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { ModelInput } from '../../data/model-input';
import { biasCorrectionOf, ruleFor } from '../../quant/registry';
import { addInputMeanProbe, InputMeanProbe } from './bias-input-means';

/** A Conv/Gemm of an INT8 QDQ model whose bias can be corrected, with what is needed to measure its shift. */
export interface BiasTarget {
  node: NodeProto;
  /** Identifies the shift: node name + input scale/zero point (weights are fixed for a run). */
  key: string;
  fp32Input: string;
  fp32Output: string;
  inputScale: TensorProto;
  inputZeroPoint: TensorProto;
  /** The INT8 model's weights, dequantized (computed when asked: only measuring a shift needs them), and their dims. */
  weights: () => { values: Float32Array; dims: number[] };
  /** Per output channel: the bias the INT8 model adds (dequantized; zeros when it has none) and its int32 scale. */
  bias: Float32Array;
  biasScales: Float32Array;
  /** The int32 bias initializer to rewrite, or null when the layer has no bias yet. */
  biasCodes: TensorProto | null;
  /** The node's input indices of its activation, weight and bias (from the op registry). */
  inputs: { activation: number; weight: number; bias: number };
}

const INT32_MAX = 2147483647;

function scalar(t: TensorProto | undefined): boolean {
  return t !== undefined && t.dims.reduce((n, d) => n * Number(d), 1) === 1;
}

/** Dequantizes a DequantizeLinear's constant input (per tensor, or per channel along `axis`). */
function dequantize(dq: NodeProto, graph: Graph): { values: Float32Array; dims: number[] } | null {
  const [q, s, z] = dq.input.map((i) => graph.initializers.get(i));
  if (!q || !s) return null;
  const codes = tensorToArray(q);
  const scales = tensorToFloat32(s);
  const zeros = z ? tensorToFloat32(z) : new Float32Array(scales.length);
  const dims = q.dims.map(Number);
  const axis = (() => { const a = attrInt(dq, 'axis', 1); return a < 0 ? a + dims.length : a; })();
  const inner = scales.length === 1 ? codes.length : dims.slice(axis + 1).reduce((n, d) => n * d, 1);
  const values = new Float32Array(codes.length);
  // Runs of `inner` values cycle through the channels (a channel index per value cost ResNet-50 0.25 s).
  for (let start = 0, c = 0; start < codes.length; start += inner, c = (c + 1) % scales.length) {
    const [zero, scale] = [zeros[c], scales[c]];
    const end = Math.min(codes.length, start + inner);
    for (let i = start; i < end; i++) values[i] = (Number(codes[i]) - zero) * scale;
  }
  return { values, dims };
}

/**
 * Bias-correctable nodes of `int8` (see the op registry) with a Q/DQ'd input, int8 weights and (optionally) an int32
 * bias, matched to `fp32`.
 */
export function findBiasTargets(int8: Graph, fp32: Graph): BiasTarget[] {
  const fp32ByName = new Map(fp32.nodes.filter((n) => n.name).map((n) => [n.name!, n] as const));
  const targets: BiasTarget[] = [];
  for (const node of int8.nodes) {
    const spec = biasCorrectionOf(node);
    if (!spec) continue;
    const original = node.name ? fp32ByName.get(node.name) : undefined;
    if (!original || original.op_type !== node.op_type) continue;
    const activationInput = ruleFor(node)!.activationInputs(node)[0];
    const inputDq = int8.producers.get(node.input[activationInput]);
    const weightDq = int8.producers.get(node.input[spec.input]);
    if (inputDq?.op_type !== 'DequantizeLinear' || weightDq?.op_type !== 'DequantizeLinear') continue;
    const inputScale = int8.initializers.get(inputDq.input[1]);
    const inputZeroPoint = int8.initializers.get(inputDq.input[2] ?? '');
    if (!scalar(inputScale) || !scalar(inputZeroPoint) || !int8.producers.has(inputDq.input[0])) continue;
    const weightCodes = int8.initializers.get(weightDq.input[0]);
    if (!weightCodes || weightCodes.data_type !== 3 /* int8 */) continue;
    const scalesOfWeights = int8.initializers.get(weightDq.input[1]);
    if (!scalesOfWeights) continue;
    const weightDims = weightCodes.dims.map(Number);
    const channels = weightDims[spec.axis(node, weightDims.length)];
    const weightScales = tensorToFloat32(scalesOfWeights);
    const s = tensorToFloat32(inputScale!)[0];
    const biasScales = new Float32Array(channels).map((_, c) => Math.fround(s * weightScales[weightScales.length === 1 ? 0 : c]));
    let bias: Float32Array = new Float32Array(channels);
    let biasCodes: TensorProto | null = null;
    if (node.input[spec.bias]) {
      const biasDq = int8.producers.get(node.input[spec.bias]);
      const codes = biasDq?.op_type === 'DequantizeLinear' ? int8.initializers.get(biasDq.input[0]) : undefined;
      const values = biasDq && codes?.data_type === 6 /* int32 */ ? dequantize(biasDq, int8) : null;
      if (!values || values.values.length !== channels) continue;
      bias = values.values;
      biasCodes = codes!;
    }
    const zp = Number(tensorToArray(inputZeroPoint!)[0]);
    targets.push({
      node, key: `${node.name}|${s}|${zp}`, fp32Input: original.input[activationInput], fp32Output: original.output[0],
      inputScale: inputScale!, inputZeroPoint: inputZeroPoint!, weights: () => dequantize(weightDq, int8)!,
      bias, biasScales, biasCodes, inputs: { activation: activationInput, weight: spec.input, bias: spec.bias },
    });
  }
  return targets;
}

/** The inputs of a copy of the target's layer, at the positions the op takes them. */
function layerInputs(target: BiasTarget, activation: string, weight: string, bias: string): string[] {
  const inputs: string[] = [];
  inputs[target.inputs.activation] = activation;
  inputs[target.inputs.weight] = weight;
  inputs[target.inputs.bias] = bias;
  return Array.from(inputs, (name) => name ?? '');
}

/**
 * Measures, for each target, the per-channel shift FP32 mean − INT8 mean of its output (INT8 = the layer on Q/DQ'd
 * FP32 input with dequantized weights, plus the INT8 bias), over `samples`. Keyed by target key.
 */
export async function measureBiasShifts(reference: ModelProto, targets: readonly BiasTarget[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float64Array>> {
  if (targets.length === 0) return new Map();
  const names = new Graph(reference.graph!);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const pairs: { target: BiasTarget; difference: string }[] = [];
  const means: InputMeanProbe[] = [];
  const renamed = (t: TensorProto, base: string): string => {
    const name = names.uniqueName(base);
    initializers.push({ ...t, name });
    return name;
  };
  // Convolutions of a fixed-size model are measured from their inputs' means (bias-input-means.ts); the others by a copy.
  const dimsOf = input.modelDims.every((d) => d > 0) ? options.tensorDims : undefined;
  for (const target of targets) {
    const base = `${target.node.name}_bias_correction`;
    const scale = renamed(target.inputScale, `${base}_scale`);
    const zeroPoint = renamed(target.inputZeroPoint, `${base}_zero_point`);
    const quantized = names.uniqueName(`${base}_input_quantized`);
    const dequantized = names.uniqueName(`${base}_input`);
    nodes.push(
      makeNode('QuantizeLinear', [target.fp32Input, scale, zeroPoint], [quantized], names.uniqueName(`${base}_Q`)),
      makeNode('DequantizeLinear', [quantized, scale, zeroPoint], [dequantized], names.uniqueName(`${base}_DQ`)),
    );
    const probe = dimsOf ? addInputMeanProbe(target, names, dimsOf, dequantized, nodes, initializers) : null;
    if (probe) {
      means.push(probe);
      continue;
    }
    const layerWeights = target.weights();
    const weights = renamed(makeTensor('w', layerWeights.dims, layerWeights.values), `${base}_weights`);
    // A zero bias: the INT8 bias is added when comparing, and some op versions require one (Gemm before opset 11).
    const zeroBias = renamed(makeTensor('b', [target.bias.length], new Float32Array(target.bias.length)), `${base}_zero_bias`);
    const copyOutput = names.uniqueName(`${base}_output`);
    const difference = names.uniqueName(`${base}_difference`);
    nodes.push(
      makeNode(target.node.op_type!, layerInputs(target, dequantized, weights, zeroBias), [copyOutput], names.uniqueName(`${base}_copy`),
        target.node.attribute.filter((a: AttributeProto) => a.name !== 'beta').map((a) => ({ ...a }))),
      // The shift is small beside the outputs: their difference, taken per element, keeps it exact where the means of
      // the two outputs (summed in float32 inside ORT) would each lose more than it.
      makeNode('Sub', [target.fp32Output, copyOutput], [difference], names.uniqueName(`${base}_Sub`)),
    );
    pairs.push({ target, difference });
  }
  const graph = reference.graph!;
  const probe: ModelProto = { ...reference, graph: { ...graph, node: [...graph.node, ...nodes], initializer: [...graph.initializer, ...initializers] } };
  // A difference has its layer's output shape, patch sums are [N, C·kh·kw]: the runs are sized by the layers' outputs
  // (an unknown tensor counts as the largest known).
  const outputOf = new Map([...pairs.map((p) => [p.difference, p.target.fp32Output] as const),
    ...means.flatMap((m) => [[m.fp32Sums, m.target.fp32Output], [m.errorSums, m.target.fp32Output]] as const)]);
  const sums = new Set(means.flatMap((m) => [m.fp32Sums, m.errorSums]));
  const tensorBytes = (t: string): number | undefined => options.tensorBytes?.(outputOf.get(t) ?? t);
  const tensorDims = (t: string): readonly number[] | undefined => (sums.has(t) ? [1, 1] : options.tensorDims?.(outputOf.get(t) ?? t));
  const exposed = [...pairs.map((p) => p.difference), ...sums];
  // Every tensor read is an output of the probe's own nodes: ORT may optimize the graph around them.
  const measured = await collectChannelMeans(probe, exposed, samples, input, { ...options, tensorBytes, tensorDims, level: 'all' }, label);
  const shifts = new Map<string, Float64Array>();
  for (const { target, difference } of pairs) {
    const mean = measured.get(difference);
    if (!mean || mean.length !== target.bias.length) continue;
    shifts.set(target.key, mean.map((v, c) => v - target.bias[c]));
  }
  for (const m of means) {
    const [fp32, error] = [measured.get(m.fp32Sums), measured.get(m.errorSums)];
    if (fp32 && error) shifts.set(m.target.key, m.shift(fp32, error));
  }
  return shifts;
}

/** Adds each target's shift to its int32 bias (creating the bias where the layer had none). Returns how many changed. */
export function applyBiasShifts(int8: Graph, targets: readonly BiasTarget[], shifts: ReadonlyMap<string, Float64Array>): number {
  let changed = 0;
  for (const target of targets) {
    const shift = shifts.get(target.key);
    if (!shift) continue;
    const codes = new Int32Array(target.bias.length);
    for (let c = 0; c < codes.length; c++) {
      const q = Math.round((target.bias[c] + shift[c]) / target.biasScales[c]);
      codes[c] = Math.max(-INT32_MAX, Math.min(INT32_MAX, q));
    }
    if (target.biasCodes) {
      Object.assign(target.biasCodes, makeTensor(target.biasCodes.name!, [codes.length], codes));
    } else {
      const base = `${target.node.name}_bias`;
      const codesName = int8.uniqueName(`${base}_quantized`);
      const scaleName = int8.uniqueName(`${base}_scale`);
      const zeroName = int8.uniqueName(`${base}_zero_point`);
      const output = int8.uniqueName(`${base}_dequantized`);
      int8.addInitializer(makeTensor(codesName, [codes.length], codes));
      // One scale for all channels (per-tensor weights) needs no `axis`, which opsets before 13 do not have.
      const perChannel = target.biasScales.some((v) => v !== target.biasScales[0]);
      int8.addInitializer(perChannel ? makeTensor(scaleName, [codes.length], target.biasScales) : makeTensor(scaleName, [], target.biasScales.subarray(0, 1)));
      int8.addInitializer(makeTensor(zeroName, perChannel ? [codes.length] : [], new Int32Array(perChannel ? codes.length : 1)));
      const dq = makeNode('DequantizeLinear', [codesName, scaleName, zeroName], [output], int8.uniqueName(`${base}_DequantizeLinear`),
        perChannel ? [intAttribute('axis', 0)] : []);
      int8.proto.node.unshift(dq);
      target.node.input[target.inputs.bias] = output;
    }
    changed++;
  }
  if (changed > 0) int8.reindex();
  return changed;
}
