// Operator categories (they pick node colours) and schema input names (X, W, B...) for the node boxes.
import { NodeCategory } from './types';

const CATEGORY_BY_OP: Record<string, NodeCategory> = {};

function assign(category: NodeCategory, ops: string): void {
  for (const op of ops.split(/\s+/)) if (op) CATEGORY_BY_OP[op] = category;
}

assign('conv', 'Conv ConvTranspose ConvInteger QLinearConv DeformConv');
assign('linear', 'Gemm MatMul MatMulInteger QLinearMatMul QGemm Einsum Attention MultiHeadAttention LSTM GRU RNN FusedMatMul');
assign('activation', `Relu LeakyRelu PRelu Sigmoid HardSigmoid Tanh Softmax LogSoftmax Softplus Softsign Elu Selu Celu
  ThresholdedRelu HardSwish Gelu FastGelu BiasGelu Mish Clip Hardmax Shrink QuickGelu Swish QLinearSigmoid QLinearLeakyRelu
  QLinearSoftmax`);
assign('pool', `MaxPool AveragePool GlobalAveragePool GlobalMaxPool LpPool GlobalLpPool MaxRoiPool RoiAlign MaxUnpool
  QLinearAveragePool QLinearGlobalAveragePool`);
assign('norm', `BatchNormalization InstanceNormalization LayerNormalization GroupNormalization LRN
  MeanVarianceNormalization SkipLayerNormalization SimplifiedLayerNormalization RMSNormalization LpNormalization
  Dropout`);
assign('shape', `Reshape Flatten Transpose Squeeze Unsqueeze Concat Split Slice Gather GatherElements GatherND Scatter
  ScatterElements ScatterND Expand Tile Pad Shape Size Identity DepthToSpace SpaceToDepth Resize Upsample Cast CastLike
  Compress OneHot NonZero Range Trilu ReverseSequence CenterCropPad Col2Im GridSample QLinearConcat SplitToSequence
  SequenceAt SequenceConstruct SequenceInsert SequenceErase SequenceLength SequenceEmpty ConcatFromSequence Optional
  OptionalGetElement OptionalHasElement`);
assign('quantize', 'QuantizeLinear DequantizeLinear DynamicQuantizeLinear DynamicQuantizeMatMul');
assign('math', `Add Sub Mul Div Pow Sqrt Exp Log Abs Neg Reciprocal Floor Ceil Round Sign Erf Sin Cos Tan Asin Acos
  Atan Sinh Cosh Asinh Acosh Atanh Max Min Mean Sum Mod BitShift BitwiseAnd BitwiseOr BitwiseXor BitwiseNot And Or Xor
  Not Equal Greater GreaterOrEqual Less LessOrEqual Where IsNaN IsInf CumSum Det QLinearAdd QLinearMul Sign`);
assign('reduce', `ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp
  ReduceSumSquare ArgMax ArgMin TopK NonMaxSuppression`);
assign('constant', 'Constant ConstantOfShape RandomNormal RandomUniform RandomNormalLike RandomUniformLike EyeLike Bernoulli');
assign('control', 'If Loop Scan');

export function categoryOf(opType: string, domain = ''): NodeCategory {
  const known = CATEGORY_BY_OP[opType];
  if (known) return known;
  if (domain && domain !== 'ai.onnx' && /^QLinear/.test(opType)) return 'quantize';
  return 'other';
}

/** Ops that compute on integers: they get the "int8" badge even without folded Q/DQ. */
export function isIntegerOp(opType: string): boolean {
  return /^QLinear|Integer$|^QGemm$|^DynamicQuantize/.test(opType);
}

export function isQuantizeOp(opType: string): boolean {
  return opType === 'QuantizeLinear';
}

export function isDequantizeOp(opType: string): boolean {
  return opType === 'DequantizeLinear';
}

const INPUT_NAMES: Record<string, string[]> = {
  Conv: ['X', 'W', 'B'],
  ConvTranspose: ['X', 'W', 'B'],
  Gemm: ['A', 'B', 'C'],
  MatMul: ['A', 'B'],
  BatchNormalization: ['X', 'scale', 'B', 'mean', 'var'],
  InstanceNormalization: ['input', 'scale', 'B'],
  LayerNormalization: ['X', 'Scale', 'B'],
  PRelu: ['X', 'slope'],
  Reshape: ['data', 'shape'],
  Clip: ['input', 'min', 'max'],
  Pad: ['data', 'pads', 'constant_value', 'axes'],
  Resize: ['X', 'roi', 'scales', 'sizes'],
  Slice: ['data', 'starts', 'ends', 'axes', 'steps'],
  Gather: ['data', 'indices'],
  QuantizeLinear: ['x', 'y_scale', 'y_zero_point'],
  DequantizeLinear: ['x', 'x_scale', 'x_zero_point'],
  QLinearConv: ['x', 'x_scale', 'x_zero_point', 'w', 'w_scale', 'w_zero_point', 'y_scale', 'y_zero_point', 'B'],
  QLinearMatMul: ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'],
  LSTM: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'],
  GRU: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h'],
  Unsqueeze: ['data', 'axes'],
  Squeeze: ['data', 'axes'],
  Expand: ['input', 'shape'],
  Tile: ['input', 'repeats'],
  Split: ['input', 'split'],
  Where: ['condition', 'X', 'Y'],
};

/** Schema name of input `index` of `opType`, when known. */
export function inputParamName(opType: string, index: number): string | undefined {
  return INPUT_NAMES[opType]?.[index];
}
