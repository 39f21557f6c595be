// The op registry: the one place that says which op types Octet quantizes and how. The facts are the entries of
// op-rules.ts (one per op type, following the QDQ patterns ONNX Runtime's CPU execution provider fuses into int8
// kernels: QLinearConv, QGemm, QLinearMatMul, QLinearAdd/Mul, QLinearConcat, QLinearAveragePool/GlobalAveragePool,
// uint8 MaxPool/Reshape/... by dropping Q/DQ); this module answers questions about graph nodes from them. What ORT's
// optimized graph runs (int8 kernel, float compute, Q/DQ) is answered by runtime-ops.ts from the same entries.
import { Graph } from '../onnx/graph';
import { tensorToFloat32 } from '../onnx/tensor';
import { EqualizationRole, OP_RULES, OpRule, OpVariant, RuleNode, WeightSpec } from './op-rules';

export { isModelOutput } from './op-rules';
export type { EqualizationRole, KOrder, OpForm, OpRule, OpVariant, RuleKind, RuleNode, WeightSpec } from './op-rules';

const byOpType = new Map(OP_RULES.map((r) => [r.opType, r] as const));

/** Reads one-element constants of a graph (the scalar operand of a Mul/Div, Clip bounds). */
export function scalarReader(graph: Graph): (tensor: string) => number | null {
  return (tensor) => {
    const t = graph.initializers.get(tensor);
    if (!t) return null;
    const values = tensorToFloat32(t);
    return values.length === 1 ? values[0] : null;
  };
}

/**
 * The rule for a node. With its graph, the rule of the form the node takes (OpForm: MatMul of two activations, Mul by
 * one positive constant) — what planning and rewriting need; without, the op type's rule.
 */
export function ruleFor(node: RuleNode, graph?: Graph): OpRule | undefined {
  if (node.domain && node.domain !== 'ai.onnx') return undefined;
  const rule = byOpType.get(node.op_type ?? '');
  if (!rule?.forms || !graph) return rule;
  const scalar = scalarReader(graph);
  const form = rule.forms.find((f) => f.matches(node, graph, scalar));
  if (!form) return rule;
  const { kind, activationInputs, blocker } = form;
  return { ...rule, kind, activationInputs: activationInputs ?? rule.activationInputs, blocker,
    ...(kind === 'weighted' ? {} : { weight: undefined, variants: undefined, biasCorrectable: undefined, equalization: undefined }) };
}

/** The factor a 'rescale' node (Mul/Div by one positive constant) multiplies its input's scale by, or null. */
export function rescaleFactor(node: RuleNode, graph: Graph): number | null {
  const rule = ruleFor(node, graph);
  return rule?.kind === 'rescale' && rule.rescale ? rule.rescale(node, scalarReader(graph)) : null;
}

/**
 * Inputs that carry a shape, sizes, scales, indices or axes rather than data, by op type (ONNX opset ≥ 13 signatures).
 * A tensor that ends in one must be computed exactly: quantizing it (or what it is computed from) would change
 * output sizes or make ORT refuse the values (e.g. Resize's 'linear' scales must keep 1 for N and C exactly).
 */
const PARAMETER_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Reshape: [1], Expand: [1], Tile: [1], Slice: [1, 2, 3, 4], Pad: [1, 2, 3], Resize: [1, 2, 3], Upsample: [1],
  Squeeze: [1], Unsqueeze: [1], Split: [1], TopK: [1], ConstantOfShape: [0], Range: [0, 1, 2], OneHot: [1],
  ReduceSum: [1], ReduceMean: [1], ReduceMax: [1], ReduceMin: [1], ReduceProd: [1], ReduceL2: [1], CumSum: [1],
  Gather: [1], GatherElements: [1], GatherND: [1], ScatterElements: [1], ScatterND: [1], NonMaxSuppression: [2, 3, 4],
};

/** Indices of a node's parameter inputs (shapes, scales, indices, axes): never quantized. */
export function parameterInputs(node: RuleNode): readonly number[] {
  if (node.domain && node.domain !== 'ai.onnx') return [];
  return PARAMETER_INPUTS[node.op_type ?? ''] ?? [];
}

/** Op types Octet can quantize, for help texts and `--op-types` validation. */
export function quantizableOpTypes(): string[] {
  return OP_RULES.filter((r) => (r.kind !== 'foldable-activation' && r.kind !== 'float') || r.forms?.some((f) => f.kind !== 'float')).map((r) => r.opType);
}

/** Whether a node, once quantized, runs an int8 kernel (as opposed to moving uint8 data, folding away or staying
 *  float). Give the graph to judge the node's form (a Mul by a constant folds away). */
export function runsInt8Kernel(node: RuleNode, graph?: Graph): boolean {
  const kind = ruleFor(node, graph)?.kind;
  return kind === 'weighted' || kind === 'requantizing' || kind === 'clamped-affine';
}

/** Whether a node's output holds exactly its first input's values, rearranged (see OpRule.keepsValues). */
export function keepsValues(node: RuleNode): boolean {
  return ruleFor(node)?.keepsValues === true;
}

/** The sub-kind of a node (e.g. depthwise Conv), given its constant weight's dims. */
export function variantOf(node: RuleNode, weightDims: readonly number[]): OpVariant | undefined {
  return ruleFor(node)?.variants?.find((v) => v.matches(node, weightDims));
}

/** Whether a weighted node keeps full-range int8 weights whatever --weight-range says (depthwise Conv). */
export function keepsFullRangeWeights(node: RuleNode, weightDims: readonly number[]): boolean {
  return variantOf(node, weightDims)?.fullRangeWeights === true;
}

/** The weight and bias inputs of a node bias correction may correct, or null when it may not. */
export function biasCorrectionOf(node: RuleNode): (WeightSpec & { bias: number }) | null {
  const rule = ruleFor(node);
  const weight = rule?.weight;
  if (!weight || weight.bias === undefined || !rule.biasCorrectable?.(node)) return null;
  return { ...weight, bias: weight.bias };
}

/** How a node may take part in equalization, given its constant weight's dims (null = not at all). */
export function equalizationOf(node: RuleNode, weightDims: readonly number[]): EqualizationRole | null {
  return variantOf(node, weightDims)?.equalization ?? ruleFor(node)?.equalization ?? null;
}

/** Whether ORT quantizes a float node of this op by itself when it reads a scalar-scale DequantizeLinear. */
export function requantizedByOrtWhenFloat(node: RuleNode): boolean {
  return ruleFor(node)?.ort.requantizesFloat === true;
}

/** Clamp bounds of a foldable activation (Relu, Clip), or null when it is none or its bounds are not constant. */
export function activationBounds(node: RuleNode, graph: Graph, opset: number): { lo: number; hi: number } | null {
  const clamp = ruleFor(node)?.clamp;
  return clamp ? clamp(node, opset, scalarReader(graph)) : null;
}
