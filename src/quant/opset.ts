// Opset requirements of the QDQ format: QuantizeLinear/DequantizeLinear exist from opset 10, their `axis`
// (per-channel scales) from opset 13. Every model is moved to opset 13 or newer before Octet optimizes, plans and
// rewrites it (the exact converter in src/onnx/opset), so the rest of Octet always has per-channel QDQ available.
import { upgradeOpset } from '../onnx/opset';
import { ModelProto } from '../onnx/proto';

export interface OpsetDecision {
  /** The model at the opset Octet works in (the source when it already was ≥ 13). */
  model: ModelProto;
  from: number;
  to: number;
  /** What the conversion did, for the log (null when the model kept its opset). */
  note: string | null;
}

/** Moves `model` to opset 13 when it is older (a new model; the source is left as it is). `label` names it in errors. */
export function prepareOpset(model: ModelProto, label: string): OpsetDecision {
  const upgrade = upgradeOpset(model, { label });
  if (upgrade.from === upgrade.to) return { model: upgrade.model, from: upgrade.from, to: upgrade.to, note: null };
  const what = upgrade.changes.map((c) => `${c.change} ×${c.count}`).join(', ');
  return {
    model: upgrade.model, from: upgrade.from, to: upgrade.to,
    note: `opset ${upgrade.from} moved to ${upgrade.to}: ${what || 'no op changed meaning'}`,
  };
}
