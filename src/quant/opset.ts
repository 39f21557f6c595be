// Opset requirements of the QDQ format: QuantizeLinear/DequantizeLinear exist from opset 10, their `axis`
// (per-channel scales) from opset 13. Older models are moved to opset 13 when every op they use means the same
// thing there; otherwise Octet stays at the model's opset (per-tensor weights) or refuses below 10.
import { opsetVersion } from '../onnx/graph';
import { ModelProto } from '../onnx/proto';

/**
 * Ops whose definition did not change in a way that matters between opset 7 and 13 for the inputs models use
 * (the later versions add types or attributes with defaults equal to the old behaviour).
 */
const STABLE_TO_13 = new Set([
  'Abs', 'Add', 'And', 'ArgMax', 'ArgMin', 'AveragePool', 'Cast', 'Ceil', 'Concat', 'Constant',
  'Conv', 'ConvTranspose', 'Div', 'Elu', 'Equal', 'Erf', 'Exp', 'Expand', 'Flatten', 'Floor', 'Gather',
  'Gemm', 'GlobalAveragePool', 'GlobalMaxPool', 'Greater', 'HardSigmoid', 'Identity', 'InstanceNormalization',
  'LeakyRelu', 'Less', 'Log', 'LRN', 'MatMul', 'Max', 'MaxPool', 'Mean', 'Min', 'Mul', 'Neg', 'Not', 'Or', 'Pow',
  'PRelu', 'Reciprocal', 'Relu', 'Reshape', 'Selu', 'Shape', 'Sigmoid', 'Sign', 'Sin', 'Cos', 'Size', 'Sqrt',
  'Sub', 'Sum', 'Tanh', 'Tile', 'Transpose', 'Where', 'Xor', 'Einsum', 'Range', 'ConstantOfShape',
  'GlobalLpPool', 'LpNormalization', 'Softplus', 'Softsign', 'ThresholdedRelu', 'MatMulInteger', 'QuantizeLinear',
  'DequantizeLinear', 'NonZero', 'Not', 'IsNaN',
]);

export interface OpsetDecision {
  from: number;
  to: number;
  perChannelAllowed: boolean;
  /** Why per-channel weights are not possible, when they are not. */
  note: string | null;
}

/** Chooses the opset the quantized model will declare and updates `model` to it. Throws when < 10 cannot be moved. */
export function prepareOpset(model: ModelProto): OpsetDecision {
  const from = opsetVersion(model, '');
  if (from >= 13) return { from, to: from, perChannelAllowed: true, note: null };
  const nodes = model.graph?.node ?? [];
  const blocking = [...new Set(nodes.filter((n) => (!n.domain || n.domain === 'ai.onnx') && !STABLE_TO_13.has(n.op_type ?? '')).map((n) => n.op_type ?? ''))];
  if (blocking.length === 0) {
    setOpset(model, 13);
    return { from, to: 13, perChannelAllowed: true, note: `opset ${from} moved to 13 for per-channel weights` };
  }
  if (from >= 10) {
    return { from, to: from, perChannelAllowed: false,
      note: `opset ${from} has no per-channel QDQ and ${blocking.join(', ')} changed meaning by opset 13: weights use per-tensor scales` };
  }
  throw new Error(`opset ${from} predates QuantizeLinear (opset 10) and ${blocking.join(', ')} cannot be moved to opset 13 safely; convert the model to opset 13 first`);
}

function setOpset(model: ModelProto, version: number): void {
  const entry = model.opset_import.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (entry) entry.version = version;
  else model.opset_import.push({ domain: '', version });
  // IR version 7 is the minimum that ONNX Runtime accepts with opset 13.
  if ((model.ir_version ?? 0) < 7) model.ir_version = 7;
}
