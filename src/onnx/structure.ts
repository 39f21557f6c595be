// A model's structure apart from the values of its initializers: what ONNX Runtime picks its kernels from. Two models
// with the same structure — the same nodes (op, domain, inputs, outputs, attributes), the same initializers by name,
// element type and dims, the same graph inputs and outputs — run the same kernels on the same shapes: the speed step
// times one for the other (a conversion before its bias shifts for the one after them).
import type { AttributeProto, GraphProto, ModelProto, TensorProto, ValueInfoProto } from './proto';

/** Whether `a` and `b` have the same structure (see above); the order of their nodes does not matter. */
export function sameStructure(a: ModelProto, b: ModelProto): boolean {
  if (!a.graph || !b.graph) return a.graph === b.graph;
  return graphKey(a.graph) === graphKey(b.graph) && opsetKey(a) === opsetKey(b);
}

function opsetKey(model: ModelProto): string {
  return (model.opset_import ?? []).map((o) => `${o.domain ?? ''}:${Number(o.version ?? 0)}`).sort().join(',');
}

function graphKey(graph: GraphProto): string {
  const nodes = graph.node.map((n) => [n.op_type ?? '', n.domain ?? '', n.input.join(','), n.output.join(','),
    (n.attribute ?? []).map(attributeKey).sort().join(';')].join('|')).sort();
  const initializers = graph.initializer.map(tensorShapeKey).sort();
  const values = (infos: readonly ValueInfoProto[]) => infos.map((v) => v.name ?? '').join(',');
  return JSON.stringify([nodes, initializers, values(graph.input), values(graph.output)]);
}

function tensorShapeKey(t: TensorProto): string {
  return `${t.name ?? ''}:${t.data_type ?? 0}:${t.dims.map(Number).join('x')}`;
}

/** An attribute with its value; a tensor attribute (a Constant's value) with its bytes too. */
function attributeKey(a: AttributeProto): string {
  const text = (s: Uint8Array | undefined) => (s ? Buffer.from(s).toString('base64') : '');
  return JSON.stringify([a.name ?? '', a.type ?? 0, a.f ?? 0, String(a.i ?? 0), text(a.s), a.floats ?? [], (a.ints ?? []).map(String),
    (a.strings ?? []).map(text), a.t ? tensorKey(a.t) : '', (a.tensors ?? []).map(tensorKey), a.g ? graphKey(a.g) : '', (a.graphs ?? []).map(graphKey)]);
}

function tensorKey(t: TensorProto): string {
  const numbers = [t.float_data, t.int32_data, t.int64_data, t.double_data, t.uint64_data].map((d) => (d ?? []).map(String).join(','));
  return `${tensorShapeKey(t)}:${t.raw_data ? Buffer.from(t.raw_data).toString('base64') : ''}:${numbers.join('/')}`;
}
