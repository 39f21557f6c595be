// Reads ONNX Runtime's optimized INT8 graph for signs of speed lost: float compute ops that survived, Q/DQ pairs
// ORT could not fuse. What counts as float compute comes from the op registry (quant/runtime-ops.ts).
import { floatComputeRan } from '../../quant/runtime-ops';

/** `onPurpose`: layers with weights the run kept in float deliberately (--exclude, accuracy, speed): not a sign of loss. */
export function diagnoseRuntime(ops: Record<string, number>, onPurpose = 0): string[] {
  const warnings: string[] = [];
  const floatCompute = floatComputeRan(ops);
  const count = floatCompute.reduce((sum, f) => sum + f.count, 0);
  if (count > onPurpose) {
    const deliberate = onPurpose > 0 ? `; ${onPurpose} of them kept in float on purpose` : '';
    warnings.push(`ONNX Runtime still runs float ${floatCompute.map(({ op, count: n }) => `${op} x${n}`).join(', ')} in the INT8 model (not quantized or not fused${deliberate}).`);
  }
  const q = ops.QuantizeLinear ?? 0;
  const dq = ops.DequantizeLinear ?? 0;
  if (q + dq > 6) {
    warnings.push(`${q} QuantizeLinear and ${dq} DequantizeLinear remain after ORT's fusion: each is a float round trip between int8 kernels.`);
  }
  return warnings;
}
