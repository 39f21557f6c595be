// Which ONNX ops (default domain) of opsets 7-12 mean the same at opset 13, and which cannot be converted. Every op
// here was checked against the ONNX operator changelog: the later versions only add types, negative axes or
// attributes whose defaults are the old behaviour. Ops with adapters are listed in index.ts; an op in none of these
// lists is refused, so a model is never passed on with an op whose meaning might have changed.

export const UNCHANGED_TO_13: ReadonlySet<string> = new Set([
  'Abs', 'Acos', 'Acosh', 'Add', 'And', 'ArgMax', 'ArgMin', 'Asin', 'Asinh', 'Atan', 'Atanh', 'AveragePool', 'BitShift',
  'Ceil', 'Celu', 'Compress', 'Concat', 'ConcatFromSequence', 'Constant', 'ConstantOfShape', 'Conv', 'ConvInteger',
  'ConvTranspose', 'Cos', 'Cosh', 'CumSum', 'DepthToSpace', 'DequantizeLinear', 'Det', 'Div', 'DynamicQuantizeLinear',
  'Einsum', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'EyeLike', 'Flatten', 'Floor', 'GRU', 'Gather', 'GatherElements',
  'GatherND', 'GlobalAveragePool', 'GlobalLpPool', 'GlobalMaxPool', 'Greater', 'GreaterOrEqual', 'HardSigmoid',
  'Identity', 'If', 'InstanceNormalization', 'IsInf', 'IsNaN', 'LRN', 'LSTM', 'LeakyRelu', 'Less', 'LessOrEqual', 'Log',
  'Loop', 'LpNormalization', 'LpPool', 'MatMul', 'MatMulInteger', 'Max', 'MaxPool', 'MaxRoiPool', 'MaxUnpool', 'Mean',
  'MeanVarianceNormalization', 'Min', 'Mod', 'Mul', 'Multinomial', 'Neg', 'NegativeLogLikelihoodLoss',
  'NonMaxSuppression', 'NonZero', 'Not', 'OneHot', 'Or', 'PRelu', 'Pow', 'QLinearConv', 'QLinearMatMul', 'QuantizeLinear',
  'RNN', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'Range', 'Reciprocal', 'ReduceL1',
  'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceMax', 'ReduceMean', 'ReduceMin', 'ReduceProd', 'ReduceSumSquare',
  'Relu', 'Reshape', 'ReverseSequence', 'RoiAlign', 'Round', 'ScatterElements', 'ScatterND', 'Selu', 'SequenceAt',
  'SequenceConstruct', 'SequenceEmpty', 'SequenceErase', 'SequenceInsert', 'SequenceLength', 'Shape', 'Shrink', 'Sigmoid',
  'Sign', 'Sin', 'Sinh', 'Size', 'SoftmaxCrossEntropyLoss', 'Softplus', 'Softsign', 'SpaceToDepth', 'SplitToSequence',
  'Sqrt', 'StringNormalizer', 'Sub', 'Sum', 'Tan', 'Tanh', 'TfIdfVectorizer', 'ThresholdedRelu', 'Tile', 'Transpose',
  'Unique', 'Where', 'Xor',
]);

/** Ops that cannot be carried to opset 13 exactly, with the reason (`from` is the model's opset). */
export function refusal(op: string, from: number): string | null {
  if (EXPERIMENTAL.has(op)) return `'${op}' was an experimental op, removed from ONNX at opset 10, with no exact replacement here`;
  if (op === 'Scan' && from < 9) return 'Scan-8 (batch-major, with sequence_lens) has no exact Scan-9 equivalent here';
  if (op === 'Scan') return null;
  return `'${op}' is not an ONNX operator of opset ${from}`;
}

const EXPERIMENTAL = new Set(['ATen', 'Affine', 'ConstantFill', 'Crop', 'DynamicSlice', 'GRUUnit', 'GivenTensorFill',
  'ParametricSoftplus', 'Scale', 'ScaledTanh']);
