// The op registry: the one place that says which op types Octet quantizes and how. Each rule follows the QDQ
// patterns ONNX Runtime's CPU execution provider fuses into int8 kernels (QLinearConv, QGemm, QLinearMatMul,
// QLinearAdd/Mul, QLinearConcat, QLinearAveragePool/GlobalAveragePool, uint8 MaxPool/Reshape/... by dropping Q/DQ).
import { attrFloat, attrInt, Graph } from '../onnx/graph';
import { NodeProto } from '../onnx/proto';

export type RuleKind =
  /** Int8 kernel with a constant weight (per-channel int8) and optional int32 bias. */
  | 'weighted'
  /** Int8 kernel over activations only, with its own output scale (QLinearAdd, QLinearConcat, QLinearAveragePool). */
  | 'requantizing'
  /** Data movement: runs on uint8 when input and output share scale and zero point (ORT drops the Q/DQ pair). */
  | 'passthrough'
  /** Relu/Clip right after a quantized op: removed, the quantization range of its output does the clamping. */
  | 'foldable-activation';

export interface WeightSpec {
  /** Input index of the constant weight. */
  input: number;
  /** Output-channel axis of the weight for per-channel scales. */
  axis: (node: NodeProto, weightRank: number) => number;
  /** Input index of the bias that becomes int32, if the op has one. */
  bias?: number;
}

export interface OpRule {
  opType: string;
  kind: RuleKind;
  /** Input indices that carry float activations to quantize. */
  activationInputs: (node: NodeProto) => number[];
  weight?: WeightSpec;
  /** Why this particular node cannot be quantized (null = it can). */
  blocker?: (node: NodeProto, graph: Graph) => string | null;
}

const first = (): number[] => [0];
const all = (node: NodeProto): number[] => node.input.map((_, i) => i).filter((i) => node.input[i] !== '');

function constantWeight(index: number) {
  return (node: NodeProto, graph: Graph): string | null =>
    graph.isConstant(node.input[index] ?? '') ? null : 'its weight is not a constant initializer';
}

const rules: OpRule[] = [
  {
    opType: 'Conv', kind: 'weighted', activationInputs: first,
    weight: { input: 1, axis: () => 0, bias: 2 },
    blocker: constantWeight(1),
  },
  {
    opType: 'Gemm', kind: 'weighted', activationInputs: first,
    weight: { input: 1, axis: (node) => (attrInt(node, 'transB', 0) ? 0 : 1), bias: 2 },
    blocker: (node, graph) => {
      if (attrInt(node, 'transA', 0) !== 0) return 'transA=1 has no int8 kernel';
      if (attrFloat(node, 'alpha', 1) !== 1 || attrFloat(node, 'beta', 1) !== 1) return 'alpha/beta other than 1 have no int8 kernel';
      const bias = node.input[2];
      if (bias && !graph.isConstant(bias)) return 'its bias is not a constant';
      return constantWeight(1)(node, graph);
    },
  },
  {
    opType: 'MatMul', kind: 'weighted', activationInputs: first,
    weight: { input: 1, axis: (_node, rank) => rank - 1 },
    blocker: (node, graph) => {
      const w = graph.initializers.get(node.input[1] ?? '');
      if (!w) return 'its second input is not a constant weight';
      return w.dims.length === 2 ? null : 'only 2-D constant weights are quantized';
    },
  },
  { opType: 'Add', kind: 'requantizing', activationInputs: all },
  { opType: 'Mul', kind: 'requantizing', activationInputs: all,
    blocker: (node, graph) => (node.input.some((i) => graph.isConstant(i)) ? 'scaling by a constant is cheaper in float' : null) },
  { opType: 'Concat', kind: 'requantizing', activationInputs: all },
  { opType: 'GlobalAveragePool', kind: 'requantizing', activationInputs: first },
  { opType: 'AveragePool', kind: 'requantizing', activationInputs: first },
  { opType: 'MaxPool', kind: 'passthrough', activationInputs: first,
    blocker: (node) => (node.output.length > 1 && node.output[1] ? 'its Indices output needs float' : null) },
  { opType: 'Reshape', kind: 'passthrough', activationInputs: first },
  { opType: 'Flatten', kind: 'passthrough', activationInputs: first },
  { opType: 'Transpose', kind: 'passthrough', activationInputs: first },
  { opType: 'Squeeze', kind: 'passthrough', activationInputs: first },
  { opType: 'Unsqueeze', kind: 'passthrough', activationInputs: first },
  { opType: 'Relu', kind: 'foldable-activation', activationInputs: first },
  { opType: 'Clip', kind: 'foldable-activation', activationInputs: first },
];

const byOpType = new Map(rules.map((r) => [r.opType, r] as const));

export function ruleFor(node: NodeProto): OpRule | undefined {
  if (node.domain && node.domain !== 'ai.onnx') return undefined;
  return byOpType.get(node.op_type ?? '');
}

/** Op types Octet can quantize, for help texts and `--op-types` validation. */
export function quantizableOpTypes(): string[] {
  return rules.filter((r) => r.kind !== 'foldable-activation').map((r) => r.opType);
}
