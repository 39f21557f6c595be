// Reads ONNX Runtime's optimized INT8 graph for signs of speed lost: float compute ops that survived, Q/DQ pairs
// ORT could not fuse.
export function diagnoseRuntime(ops: Record<string, number>): string[] {
  const warnings: string[] = [];
  const floatCompute = ['Conv', 'FusedConv', 'Gemm', 'FusedGemm', 'MatMul', 'FusedMatMul'].filter((op) => (ops[op] ?? 0) > 0);
  if (floatCompute.length > 0) {
    warnings.push(`ONNX Runtime still runs float ${floatCompute.map((op) => `${op} x${ops[op]}`).join(', ')} in the INT8 model (not quantized or not fused).`);
  }
  const q = ops.QuantizeLinear ?? 0;
  const dq = ops.DequantizeLinear ?? 0;
  if (q + dq > 6) {
    warnings.push(`${q} QuantizeLinear and ${dq} DequantizeLinear remain after ORT's fusion: each is a float round trip between int8 kernels.`);
  }
  return warnings;
}
