// The op rules: one entry per ONNX op type Octet knows, carrying every fact the rest of Octet needs about it — how it
// is quantized (kind, activation inputs, weight and bias), what blocks a node, its sub-kinds (depthwise Conv), whether
// bias correction and equalization apply, and what ONNX Runtime's CPU provider runs it as (int8 kernels after its QDQ
// fusions, float kernels, its own re-quantization of float layers). Adding an op is adding one entry to OP_RULES.
// Queries over these entries live in registry.ts (graph side) and runtime-ops.ts (ORT's executed op types).
// Entries read nodes and graphs through the small structural views below (NodeProto and Graph satisfy them), so this
// file imports nothing: the report webview classifies run-time ops from it too.

/** What a rule reads of a node (onnx NodeProto satisfies it). */
export interface RuleNode {
  op_type?: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: readonly { name?: string; i?: number; f?: number }[];
}

/** What a rule reads of a graph (onnx Graph satisfies it). */
export interface RuleGraph {
  isConstant(tensor: string): boolean;
  readonly initializers: ReadonlyMap<string, { readonly dims: readonly number[] }>;
  readonly graphOutputs: ReadonlySet<string>;
  consumersOf(tensor: string): readonly RuleNode[];
}

/** Reads a one-element constant (null when the tensor is not one). */
export type ScalarReader = (tensor: string) => number | null;

export type RuleKind =
  /** Int8 kernel with a constant weight (per-channel int8) and optional int32 bias. */
  | 'weighted'
  /** Int8 kernel over activations only, with its own output scale (QLinearAdd, QLinearConcat, QLinearAveragePool). */
  | 'requantizing'
  /** Data movement: runs on uint8 when input and output share scale and zero point (ORT drops the Q/DQ pair). */
  | 'passthrough'
  /** Relu/Clip right after a quantized op: removed, the quantization range of its output does the clamping. */
  | 'foldable-activation'
  /**
   * Mul/Div of a quantized activation by one positive constant: removed; its output is the input's int8 codes read at
   * the input's scale times `rescale` (exact: no float island, no extra rounding).
   */
  | 'rescale'
  /**
   * y = clamp(a·x + b, lo, hi) with a > 0 (HardSigmoid): runs as QLinearAdd(x, b/a) whose output, quantized over
   * [lo/a, hi/a], saturates exactly at the clamp; those codes read at scale × a are y.
   */
  | 'clamped-affine'
  /** Stays float (no int8 kernel Octet targets yet); listed for what ONNX Runtime does with it. */
  | 'float';

/** How a weight's reduction (K) dimension is laid out in ORT's int8 GEMM (see saturation.ts). */
export type KOrder = 'conv' | 'rows' | 'columns';

export interface WeightSpec {
  /** Input index of the constant weight. */
  input: number;
  /** Output-channel axis of the weight, for per-channel scales (and the channels bias correction measures). */
  axis: (node: RuleNode, weightRank: number) => number;
  /** Input index of the bias that becomes int32, if the op has one. */
  bias?: number;
  /** Layout of K, for weights that cannot saturate ORT's U8S8 pairs. */
  kOrder: (node: RuleNode) => KOrder;
}

/** Equalization roles (equalize.ts): how per-channel factors of a tensor between two layers move into their weights. */
export interface EqualizationRole {
  /** As producer: output channel c of the weight (along WeightSpec.axis) and of the bias can be divided by s_c. */
  producer: boolean;
  /** As consumer: the weight axis that reads the producer's channels (multiplied by s_c); null = cannot be one. */
  consumerAxis: number | null;
}

/** A sub-kind of an op, recognised on a node and its constant weight's dims; the first matching variant applies. */
export interface OpVariant {
  name: string;
  matches: (node: RuleNode, weightDims: readonly number[]) => boolean;
  /**
   * Runs on its own ORT kernel that accumulates in int32, so its weights cannot saturate U8S8 pairs: it keeps the full
   * int8 range whatever --weight-range says.
   */
  fullRangeWeights?: boolean;
  /** Replaces the op's equalization roles. */
  equalization?: EqualizationRole;
}

/** What ONNX Runtime's CPU provider runs the op as. */
export interface OrtFacts {
  /** Op types it becomes when quantized, after ORT's QDQ fusions; empty = none of its own (same op on uint8, or folded). */
  int8: readonly string[];
  /** Op types it runs as when it stays float, including ORT's fusions (FusedConv, ...). */
  float: readonly string[];
  /** Its float form only moves data (no arithmetic). */
  movesData?: boolean;
  /**
   * ORT's WeightBiasQuantization (level basic) quantizes a float node of this op by itself, with per-tensor weights,
   * when its input comes from a scalar-scale DequantizeLinear.
   */
  requantizesFloat?: boolean;
  /**
   * ORT also fuses it without a QuantizeLinear after it, writing float (QGemm with a float output,
   * MatMulIntegerToFloat): its output needs int8 codes only when a consumer reads them.
   */
  floatOutput?: boolean;
}

/** A form an op takes on particular nodes (MatMul of two activations, Mul by one positive constant): replaces the
 *  rule's kind, activation inputs and blocker; the first matching form applies. */
export interface OpForm {
  name: string;
  matches: (node: RuleNode, graph: RuleGraph, scalar: ScalarReader) => boolean;
  kind: RuleKind;
  activationInputs?: (node: RuleNode) => number[];
  blocker?: (node: RuleNode, graph: RuleGraph) => string | null;
}

export interface OpRule {
  opType: string;
  kind: RuleKind;
  /** Per-node forms with another kind (see OpForm); read through the registry's ruleFor(node, graph). */
  forms?: readonly OpForm[];
  /** Input indices that carry float activations to quantize. */
  activationInputs: (node: RuleNode) => number[];
  weight?: WeightSpec;
  /** Why this particular node cannot be quantized (null = it can). */
  blocker?: (node: RuleNode, graph: RuleGraph) => string | null;
  variants?: readonly OpVariant[];
  /** Whether bias correction (bias-correction.ts) may correct this node; needs weight.bias. Absent = never. */
  biasCorrectable?: (node: RuleNode) => boolean;
  equalization?: EqualizationRole;
  /** Clamp bounds of a foldable activation (`scalar` reads a one-element constant), null when not constant. */
  clamp?: (node: RuleNode, opset: number, scalar: ScalarReader) => { lo: number; hi: number } | null;
  /** 'rescale' form: the factor its output's scale is the input's times. */
  rescale?: (node: RuleNode, scalar: ScalarReader) => number | null;
  /** 'clamped-affine': y = clamp(a·x + b, lo, hi). */
  affine?: (node: RuleNode) => { a: number; b: number; lo: number; hi: number };
  /** Why this op type stays float when it has no int8 form (shown in the report's kept-float list). */
  floatReason?: string;
  /** Its output holds exactly its first input's values, rearranged: the same statistics (calibration measures one). */
  keepsValues?: true;
  ort: OrtFacts;
}

// Attribute readers over RuleNode (onnx/graph has the same for NodeProto; this file stays import-free).
const intAttr = (node: RuleNode, name: string, fallback: number): number => node.attribute.find((a) => a.name === name)?.i ?? fallback;
const floatAttr = (node: RuleNode, name: string, fallback: number): number => node.attribute.find((a) => a.name === name)?.f ?? fallback;

const first = (): number[] => [0];
const all = (node: RuleNode): number[] => node.input.map((_, i) => i).filter((i) => node.input[i] !== '');

function constantWeight(index: number) {
  return (node: RuleNode, graph: RuleGraph): string | null =>
    graph.isConstant(node.input[index] ?? '') ? null : 'its weight is not a constant initializer';
}

/** A data-movement op that runs on uint8 between quantized ops (ORT drops the Q/DQ around it; every output shares the
 *  input's scale). */
function passthrough(opType: string, blocker?: OpRule['blocker'], keepsValues?: true): OpRule {
  return { opType, kind: 'passthrough', activationInputs: first, ...(blocker ? { blocker } : {}), ...(keepsValues ? { keepsValues } : {}),
    ort: { int8: [], float: [opType], movesData: true } };
}

/** The value of the one positive constant a Mul/Div scales its activation by (input `index`), or null. */
function positiveScalar(node: RuleNode, index: number, scalar: ScalarReader): number | null {
  const v = node.input[index] ? scalar(node.input[index]) : null;
  return v !== null && Number.isFinite(v) && v > 0 ? v : null;
}

/** A Mul's factor when exactly one input is a positive one-element constant. */
function mulFactor(node: RuleNode, scalar: ScalarReader): number | null {
  if (node.input.length !== 2) return null;
  const [a, b] = [positiveScalar(node, 0, scalar), positiveScalar(node, 1, scalar)];
  return a !== null && b === null && scalar(node.input[1]) === null ? a : b !== null && scalar(node.input[0]) === null ? b : null;
}

/** Ops that only reshape data: a tensor they pass on unchanged to a model output is that output. */
const RESHAPING = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity']);

/** Whether a tensor is a model output, directly or through reshaping ops only (Keras ends with Softmax → Reshape). */
export function isModelOutput(tensor: string, graph: RuleGraph, depth = 0): boolean {
  if (graph.graphOutputs.has(tensor)) return true;
  const consumers = graph.consumersOf(tensor);
  return depth < 4 && consumers.length === 1 && RESHAPING.has(consumers[0].op_type ?? '') && isModelOutput(consumers[0].output[0] ?? '', graph, depth + 1);
}

/**
 * Int8 kernels over activations only (ORT's unary QDQ rules: QLinearSigmoid, QLinearLeakyRelu, QLinearSoftmax). One
 * that writes a model output stays float: its input needs a DequantizeLinear either way, and the output keeps full
 * precision (a classifier's softmax probabilities on 1/255 steps would tie).
 */
function unary(opType: string): OpRule {
  return {
    opType, kind: 'requantizing', activationInputs: first,
    blocker: (node, graph) => (isModelOutput(node.output[0] ?? '', graph) ? 'it writes a model output, which keeps full precision (int8 would gain no time there)' : null),
    ort: { int8: [`QLinear${opType}`], float: [opType] },
  };
}

const FLOAT_MAX = 3.4028234663852886e38;

export const OP_RULES: readonly OpRule[] = [
  {
    opType: 'Conv', kind: 'weighted', activationInputs: first,
    weight: { input: 1, axis: () => 0, bias: 2, kOrder: () => 'conv' },
    blocker: constantWeight(1),
    variants: [
      {
        // One filter per channel (channel multiplier 1): ORT runs it on a separate depthwise kernel. Weight
        // [C, 1, kh, kw]: as consumer it reads channel c through output axis 0.
        name: 'depthwise', fullRangeWeights: true,
        matches: (node, dims) => dims[1] === 1 && intAttr(node, 'group', 1) === dims[0] && dims[0] > 1,
        equalization: { producer: true, consumerAxis: 0 },
      },
      { name: 'grouped', matches: (node) => intAttr(node, 'group', 1) !== 1, equalization: { producer: true, consumerAxis: null } },
    ],
    biasCorrectable: () => true,
    // [O, I/group, kh, kw]: a dense consumer reads channel c through input axis 1.
    equalization: { producer: true, consumerAxis: 1 },
    ort: { int8: ['QLinearConv'], float: ['Conv', 'FusedConv'], requantizesFloat: true },
  },
  {
    opType: 'Gemm', kind: 'weighted', activationInputs: first,
    weight: {
      input: 1, bias: 2,
      axis: (node) => (intAttr(node, 'transB', 0) ? 0 : 1),
      kOrder: (node) => (intAttr(node, 'transB', 0) ? 'rows' : 'columns'),
    },
    blocker: (node, graph) => {
      if (intAttr(node, 'transA', 0) !== 0) return 'transA=1 has no int8 kernel';
      if (floatAttr(node, 'alpha', 1) !== 1 || floatAttr(node, 'beta', 1) !== 1) return 'alpha/beta other than 1 have no int8 kernel';
      const bias = node.input[2];
      if (bias && !graph.isConstant(bias)) return 'its bias is not a constant';
      return constantWeight(1)(node, graph);
    },
    // The correction is added to C, so C must be added once (beta=1) along output channels of an untransposed A.
    biasCorrectable: (node) => intAttr(node, 'transA', 0) === 0 && floatAttr(node, 'beta', 1) === 1,
    ort: { int8: ['QGemm'], float: ['Gemm', 'FusedGemm'], requantizesFloat: true, floatOutput: true },
  },
  {
    opType: 'MatMul', kind: 'weighted', activationInputs: first,
    weight: { input: 1, axis: (_node, rank) => rank - 1, kOrder: () => 'columns' },
    blocker: (node, graph) => {
      const w = graph.initializers.get(node.input[1] ?? '');
      return w && w.dims.length !== 2 ? 'only 2-D constant weights are quantized' : null;
    },
    // Attention's MatMuls multiply two activations (Q·Kᵀ, scores·V): QLinearMatMul with both inputs uint8.
    forms: [{ name: 'two activations', kind: 'requantizing', activationInputs: all, matches: (node, graph) => !graph.isConstant(node.input[1] ?? '') && !graph.isConstant(node.input[0] ?? '') }],
    // MatMulIntegerToFloat when its output is not quantized.
    ort: { int8: ['QLinearMatMul', 'MatMulIntegerToFloat'], float: ['MatMul', 'FusedMatMul'], floatOutput: true },
  },
  { opType: 'Add', kind: 'requantizing', activationInputs: all, ort: { int8: ['QLinearAdd'], float: ['Add'] } },
  {
    // Two activations (squeeze-excitation's scaling, x·HardSigmoid(x), SiLU's x·Sigmoid(x)): QLinearMul.
    opType: 'Mul', kind: 'requantizing', activationInputs: all,
    forms: [{ name: 'constant scale', kind: 'rescale', matches: (node, _graph, scalar) => mulFactor(node, scalar) !== null }],
    rescale: mulFactor,
    blocker: (node, graph) => (node.input.some((i) => graph.isConstant(i)) ? 'scaling by a constant tensor (not one positive number) stays float' : null),
    ort: { int8: ['QLinearMul'], float: ['Mul'] },
  },
  {
    // Only by one positive constant (hard-swish's /6, attention's 1/sqrt(d)): folded into the scale.
    opType: 'Div', kind: 'float', activationInputs: first,
    forms: [{ name: 'constant scale', kind: 'rescale', matches: (node, _graph, scalar) => positiveScalar(node, 1, scalar) !== null }],
    rescale: (node, scalar) => { const d = positiveScalar(node, 1, scalar); return d === null ? null : 1 / d; },
    floatReason: 'no int8 kernel for a division by a tensor (a division by one positive constant is folded into the scale)',
    ort: { int8: [], float: ['Div'] },
  },
  {
    // HardSigmoid(x) = clamp(alpha·x + beta, 0, 1): the int8 half of hard-swish with the QLinearMul after it.
    opType: 'HardSigmoid', kind: 'clamped-affine', activationInputs: first,
    affine: (node) => ({ a: floatAttr(node, 'alpha', 0.2), b: floatAttr(node, 'beta', 0.5), lo: 0, hi: 1 }),
    blocker: (node) => (floatAttr(node, 'alpha', 0.2) > 0 ? null : 'a non-positive alpha has no int8 form'),
    // Runs as QLinearAdd (named by Add's rule).
    ort: { int8: [], float: ['HardSigmoid', 'HardSwish'] },
  },
  unary('Sigmoid'),
  unary('LeakyRelu'),
  {
    // ORT has QLinearSoftmax, but on ViT-tiny's attention it took 6x the float Softmax's time (3.5 ms vs 0.6 ms for
    // 12 [3,197,197] softmaxes, ORT 1.30 CPU) and costs output SQNR: it stays float, reading the float output of the
    // MatMul before it (MatMulIntegerToFloat) so that ORT does not fuse it into int8 anyway.
    opType: 'Softmax', kind: 'float', activationInputs: first,
    floatReason: 'kept in float: ONNX Runtime\'s QLinearSoftmax is slower than float Softmax and less accurate',
    ort: { int8: [], float: ['Softmax'] },
  },
  { opType: 'Concat', kind: 'requantizing', activationInputs: all, ort: { int8: ['QLinearConcat'], float: ['Concat'], movesData: true } },
  { opType: 'GlobalAveragePool', kind: 'requantizing', activationInputs: first, ort: { int8: ['QLinearGlobalAveragePool'], float: ['GlobalAveragePool'] } },
  { opType: 'AveragePool', kind: 'requantizing', activationInputs: first, ort: { int8: ['QLinearAveragePool'], float: ['AveragePool'] } },
  passthrough('MaxPool', (node) => (node.output.length > 1 && node.output[1] ? 'its Indices output needs float' : null)),
  passthrough('Reshape', undefined, true),
  passthrough('Flatten', undefined, true),
  passthrough('Transpose', undefined, true),
  passthrough('Squeeze', undefined, true),
  passthrough('Unsqueeze', undefined, true),
  // Also dropped by ORT between Q/DQ with equal parameters (its DropQDQNodesRules, SplitQDQRules).
  // Not before a model output: dequantizing before an upsampling is cheaper than after it.
  passthrough('Resize', (node, graph) => (isModelOutput(node.output[0] ?? '', graph)
    ? 'it writes a model output: dequantizing its smaller input costs less' : node.output.length !== 1 ? 'unexpected outputs' : null)),
  passthrough('Split'),
  passthrough('Slice'),
  passthrough('Gather'),
  passthrough('Expand'),
  passthrough('Tile'),
  {
    opType: 'Relu', kind: 'foldable-activation', activationInputs: first,
    clamp: () => ({ lo: 0, hi: Infinity }),
    ort: { int8: [], float: ['Relu'] },
  },
  {
    opType: 'Clip', kind: 'foldable-activation', activationInputs: first,
    clamp: (node, opset, scalar) => {
      // Attributes before opset 11, optional constant inputs min/max since.
      if (opset < 11) return { lo: floatAttr(node, 'min', -FLOAT_MAX), hi: floatAttr(node, 'max', FLOAT_MAX) };
      const bound = (index: number, fallback: number): number | null => (node.input[index] ? scalar(node.input[index]) : fallback);
      const lo = bound(1, -Infinity);
      const hi = bound(2, Infinity);
      return lo === null || hi === null ? null : { lo, hi };
    },
    ort: { int8: [], float: ['Clip'] },
  },
  {
    opType: 'ConvTranspose', kind: 'float', activationInputs: first,
    floatReason: "no int8 kernel: ONNX Runtime's CPU provider has no QDQ fusion for ConvTranspose",
    ort: { int8: [], float: ['ConvTranspose'], requantizesFloat: true },
  },
];
