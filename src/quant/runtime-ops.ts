// What an op type in ONNX Runtime's optimized graph is (the histogram of what actually runs): an int8 kernel, a Q/DQ
// conversion, data movement, the float form of a layer Octet makes int8 (lost speed when it survives), or other float
// work. Derived from the op rules' ORT facts (op-rules.ts) plus the few ORT op types no rule stands for. Imports only
// op-rules.ts, so the report webview can use it.
import { OP_RULES } from './op-rules';

export type RuntimeRole =
  | 'int8'
  | 'conversion'
  | 'data movement'
  /** The float form of an op Octet quantizes to an int8 kernel with weights (Conv, FusedConv, Gemm, ...). */
  | 'float compute'
  | 'float';

const CONVERSION_OPS = ['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear'];

/** ORT int8 kernels Octet's rules do not produce (other quantizers' models, contrib ops), by name pattern. */
const OTHER_INT8_KERNELS = /^QLinear|^QGemm$|^MatMulInteger|^ConvInteger|^QAttention|^QOrdered|^DynamicQuantize/;

/** ORT op types that only move data and have no rule (yet): they stay float between float ops. */
const OTHER_DATA_MOVEMENT = ['Slice', 'Pad', 'Gather', 'Split', 'Shape', 'Identity', 'Resize', 'DepthToSpace', 'SpaceToDepth'];

/** Role of every op type the rules name, in rule order (int8 kernels win over float names). */
const roles = (() => {
  const map = new Map<string, RuntimeRole>(CONVERSION_OPS.map((op) => [op, 'conversion']));
  for (const rule of OP_RULES) for (const op of rule.ort.int8) if (!map.has(op)) map.set(op, 'int8');
  for (const rule of OP_RULES) {
    const role: RuntimeRole = rule.ort.movesData ? 'data movement' : rule.kind === 'weighted' ? 'float compute' : 'float';
    for (const op of rule.ort.float) if (!map.has(op)) map.set(op, role);
  }
  for (const op of OTHER_DATA_MOVEMENT) if (!map.has(op)) map.set(op, 'data movement');
  return map;
})();

/** What ORT does when it runs `op` (an op type of its optimized graph). */
export function runtimeOpRole(op: string): RuntimeRole {
  const known = roles.get(op);
  if (known === 'conversion' || known === 'int8') return known;
  if (OTHER_INT8_KERNELS.test(op)) return 'int8';
  return known ?? 'float';
}

/** Every op type the rules give `role`, in rule order (for messages that list them in a stable order). */
export function runtimeOpsWithRole(role: RuntimeRole): string[] {
  return [...roles].filter(([, r]) => r === role).map(([op]) => op);
}

/** The float compute ops of an ORT op histogram that ran at least once, with their counts, in rule order. */
export function floatComputeRan(ops: Readonly<Record<string, number>>): { op: string; count: number }[] {
  return runtimeOpsWithRole('float compute').filter((op) => (ops[op] ?? 0) > 0).map((op) => ({ op, count: ops[op] }));
}
