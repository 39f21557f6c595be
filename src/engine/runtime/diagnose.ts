// Reads ONNX Runtime's optimized INT8 graph for signs of speed lost: float compute ops that survived, Q/DQ pairs
// ORT could not fuse. What counts as float compute comes from the op registry (quant/runtime-ops.ts).
import { floatComputeRan } from '../../quant/runtime-ops';

export function diagnoseRuntime(ops: Record<string, number>): string[] {
  const warnings: string[] = [];
  const floatCompute = floatComputeRan(ops);
  if (floatCompute.length > 0) {
    warnings.push(`ONNX Runtime still runs float ${floatCompute.map(({ op, count }) => `${op} x${count}`).join(', ')} in the INT8 model (not quantized or not fused).`);
  }
  const q = ops.QuantizeLinear ?? 0;
  const dq = ops.DequantizeLinear ?? 0;
  if (q + dq > 6) {
    warnings.push(`${q} QuantizeLinear and ${dq} DequantizeLinear remain after ORT's fusion: each is a float round trip between int8 kernels.`);
  }
  return warnings;
}
