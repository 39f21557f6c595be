// ONNX scope -> ViewGraph: visible nodes, edges between them (labelled with dtype/shape when known) and, when
// folding, QuantizeLinear/DequantizeLinear pairs and Constant nodes merged into the ops that read them.
import { DataType, NodeProto, TensorProto } from '../onnx/proto';
import { dataTypeName, elementCount, tensorToNumbers } from '../onnx/tensor';
import { categoryOf, inputParamName, isDequantizeOp, isIntegerOp, isQuantizeOp } from './categories';
import { attributeTypeName, formatAttribute } from './onnx-text';
import { nodeLabel, ScopeSource } from './scopes';
import { inferShapes, TypeTable } from './shapes';
import { QuantAnnotation, SubgraphLink, TensorRef, ViewEdge, ViewGraph, ViewNode, ViewOptions } from './types';

/** Constant tensors of a scope: initializers and the values of Constant nodes. */
export function constantTensors(source: ScopeSource): Map<string, TensorProto> {
  const out = new Map<string, TensorProto>();
  for (const t of source.initializers) if (t.name) out.set(t.name, t);
  for (const node of source.nodes) {
    if (node.op_type !== 'Constant' || !node.output[0]) continue;
    const t = node.attribute.find((a) => a.name === 'value')?.t;
    if (t) out.set(node.output[0], t);
  }
  return out;
}

function smallValues(t: TensorProto | undefined, limit: number): number[] | undefined {
  if (!t || elementCount(t.dims) > limit) return undefined;
  try {
    return tensorToNumbers(t);
  } catch {
    return undefined;
  }
}

/** Element type and shape of every tensor the scope declares or that can be inferred. */
export function scopeTypes(source: ScopeSource, constants: Map<string, TensorProto>, outer?: TypeTable): TypeTable {
  const types = new TypeTable(outer);
  const fromValue = (name: string, type: ScopeSource['inputs'][number]['type']) => {
    const tensorType = type?.tensor_type;
    if (!tensorType) return;
    const dims = tensorType.shape?.dim.map((d) => (d.dim_value !== undefined ? d.dim_value : d.dim_param || '?'));
    types.set(name, { elemType: tensorType.elem_type, shape: dims });
  };
  for (const v of source.inputs) fromValue(v.name, v.type);
  for (const v of source.valueInfo) if (v.name) fromValue(v.name, v.type);
  for (const v of source.outputs) if (!types.get(v.name)) fromValue(v.name, v.type);
  for (const [name, t] of constants) types.set(name, { elemType: t.data_type, shape: [...t.dims] });
  inferShapes(source.nodes, types, (name) => smallValues(constants.get(name), 64));
  return types;
}

interface Alias {
  /** The tensor the folded Q/DQ chain started from. */
  source: string;
  quant: QuantAnnotation;
}

function quantAnnotation(node: NodeProto, constants: Map<string, TensorProto>, via: string[], storage?: number): QuantAnnotation {
  const scaleTensor = node.input[1] ?? '';
  const zeroPointTensor = node.input[2] || undefined;
  const axisAttr = node.attribute.find((a) => a.name === 'axis');
  const scaleValues = smallValues(constants.get(scaleTensor), 1);
  const zeroPointValues = zeroPointTensor ? smallValues(constants.get(zeroPointTensor), 1) : [0];
  const zpType = zeroPointTensor ? constants.get(zeroPointTensor)?.data_type : undefined;
  const annotation: QuantAnnotation = {
    scaleTensor, storage: dataTypeName(storage ?? zpType ?? DataType.UINT8), via,
  };
  if (zeroPointTensor) annotation.zeroPointTensor = zeroPointTensor;
  if (axisAttr?.i !== undefined && (constants.get(scaleTensor)?.dims.length ?? 0) > 0) annotation.axis = axisAttr.i;
  if (scaleValues?.length === 1) annotation.scale = scaleValues[0];
  if (zeroPointValues?.length === 1) annotation.zeroPoint = zeroPointValues[0];
  return annotation;
}

export function buildViewGraph(source: ScopeSource, links: Map<NodeProto, SubgraphLink[]>, options: ViewOptions,
  known?: { constants: Map<string, TensorProto>; types: TypeTable }): ViewGraph {
  const { nodes } = source;
  const constants = known?.constants ?? constantTensors(source);
  const types = known?.types ?? scopeTypes(source, constants);
  const initializerNames = new Set(source.initializers.map((t) => t.name ?? ''));
  const graphOutputs = new Set(source.outputs.map((o) => o.name));
  const producerOf = new Map<string, number>();
  const consumersOf = new Map<string, number[]>();
  nodes.forEach((node, i) => {
    for (const o of node.output) if (o) producerOf.set(o, i);
    for (const inp of node.input) {
      if (!inp) continue;
      const list = consumersOf.get(inp);
      if (list) list.push(i); else consumersOf.set(inp, [i]);
    }
  });
  const labels = nodes.map((node, i) => nodeLabel(node, i));

  const hidden = new Set<number>();
  const foldedInto = new Map<string, string[]>();
  const alias = new Map<string, Alias>();
  const outputQuant = new Map<string, QuantAnnotation>();
  const constantOutputs = new Set<string>();
  const isConstant = (t: string) => initializerNames.has(t) || constantOutputs.has(t);
  const feedsGraphOutput = (node: NodeProto) => node.output.some((o) => graphOutputs.has(o));
  let qdqNodes = 0;
  for (const node of nodes) if (isQuantizeOp(node.op_type ?? '') || isDequantizeOp(node.op_type ?? '')) qdqNodes++;

  if (options.fold) {
    nodes.forEach((node, i) => {
      if (node.op_type !== 'Constant' || feedsGraphOutput(node) || links.has(node) || !constants.has(node.output[0] ?? '')) return;
      hidden.add(i);
      constantOutputs.add(node.output[0]);
      foldedInto.set(node.output[0], [labels[i]]);
    });
    // Weights: constant -> DequantizeLinear -> op.
    nodes.forEach((node, i) => {
      if (!isDequantizeOp(node.op_type ?? '') || feedsGraphOutput(node) || !node.output[0]) return;
      const stored = node.input[0];
      if (!stored || !isConstant(stored)) return;
      hidden.add(i);
      const quant = quantAnnotation(node, constants, [labels[i]], constants.get(stored)?.data_type);
      quant.storedTensor = stored;
      alias.set(node.output[0], { source: stored, quant });
      constantOutputs.add(node.output[0]);
      foldedInto.set(node.output[0], [...(foldedInto.get(stored) ?? []), labels[i]]);
    });
    // Activations: x -> QuantizeLinear -> DequantizeLinear (one per reader, or shared) -> ops; a reader may reach its
    // DequantizeLinear through a constant Pad of the codes (Octet pads a convolution's input channels for ORT's fast
    // int8 kernel: kernel-alignment.ts), folded with them.
    const paddedDq = (r: number): number | null => {
      const pad = nodes[r];
      if (pad.op_type !== 'Pad' || feedsGraphOutput(pad) || !pad.output[0] || !pad.input.slice(1).every((t) => !t || isConstant(t))) return null;
      const next = consumersOf.get(pad.output[0]) ?? [];
      return next.length === 1 && isDequantizeOp(nodes[next[0]].op_type ?? '') ? next[0] : null;
    };
    nodes.forEach((q, qi) => {
      if (!isQuantizeOp(q.op_type ?? '') || feedsGraphOutput(q) || !q.output[0] || !q.input[0]) return;
      const readers = (consumersOf.get(q.output[0]) ?? []).map((r) => {
        const dq = isDequantizeOp(nodes[r].op_type ?? '') ? r : paddedDq(r);
        return { dq, via: dq === r ? [] : [r] };
      });
      if (readers.length === 0) return;
      const allDq = readers.every(({ dq }) => dq !== null && !feedsGraphOutput(nodes[dq]) && !hidden.has(dq));
      if (!allDq) return;
      hidden.add(qi);
      const storage = q.attribute.find((a) => a.name === 'output_dtype')?.i || (q.input[2] ? constants.get(q.input[2])?.data_type : undefined);
      outputQuant.set(q.input[0], quantAnnotation(q, constants, [labels[qi]], storage));
      for (const { dq: r, via } of readers) {
        const folded = [labels[qi], ...via.map((v) => labels[v]), labels[r!]];
        for (const i of [...via, r!]) hidden.add(i);
        const dq = nodes[r!];
        alias.set(dq.output[0], { source: q.input[0], quant: quantAnnotation(dq, constants, folded, storage) });
        if (isConstant(q.input[0])) constantOutputs.add(dq.output[0]);
        foldedInto.set(dq.output[0], [...(foldedInto.get(q.input[0]) ?? []), ...folded]);
      }
    });
  }

  const resolve = (t: string): string => {
    let current = t;
    for (let hops = 0; hops < 16; hops++) {
      const next = alias.get(current);
      if (!next) break;
      current = next.source;
    }
    return current;
  };
  const typeRef = (t: string): Pick<TensorRef, 'dtype' | 'shape'> => {
    const type = types.get(t);
    const ref: Pick<TensorRef, 'dtype' | 'shape'> = {};
    if (type?.elemType) ref.dtype = dataTypeName(type.elemType);
    if (type?.shape) ref.shape = type.shape;
    return ref;
  };

  const viewNodes: ViewNode[] = [];
  const edges: ViewEdge[] = [];
  const nodeIdOfTensorSource = new Map<string, number>();
  const baseNode = (kind: ViewNode['kind'], name: string, label: string, opType: string): ViewNode => ({
    id: viewNodes.length, kind, name, label, opType, domain: '', category: kind === 'op' ? categoryOf(opType) : 'io',
    inputs: [], outputs: [], attributes: [], int8: false, folded: [], subgraphs: [],
  });

  for (const input of source.inputs) {
    if (initializerNames.has(input.name)) continue;
    const node = baseNode('input', input.name, input.name, 'Input');
    node.outputs.push({ name: input.name, ...typeRef(input.name) });
    if (input.docString) node.docString = input.docString;
    viewNodes.push(node);
    nodeIdOfTensorSource.set(input.name, node.id);
  }
  const opIds = new Map<number, number>();
  nodes.forEach((proto, i) => {
    if (hidden.has(i)) return;
    const opType = proto.op_type ?? '';
    const node = baseNode('op', proto.name ?? '', labels[i], opType);
    node.domain = proto.domain ?? '';
    node.category = categoryOf(opType, node.domain);
    node.attributes = proto.attribute.map((a) => ({ name: a.name ?? '', type: attributeTypeName(a.type), value: formatAttribute(a) }));
    node.subgraphs = links.get(proto) ?? [];
    if (proto.doc_string) node.docString = proto.doc_string;
    node.int8 = isIntegerOp(opType);
    proto.output.forEach((o) => {
      const ref: TensorRef = { name: o, ...typeRef(o) };
      const q = outputQuant.get(o);
      if (q) ref.quant = q;
      node.outputs.push(ref);
      if (o) nodeIdOfTensorSource.set(o, viewNodes.length);
    });
    viewNodes.push(node);
    opIds.set(i, node.id);
  });

  const outerNode = (tensor: string): number => {
    const existing = nodeIdOfTensorSource.get(tensor);
    if (existing !== undefined) return existing;
    const node = baseNode('input', tensor, tensor, 'Outer value');
    node.outputs.push({ name: tensor, ...typeRef(tensor) });
    viewNodes.push(node);
    nodeIdOfTensorSource.set(tensor, node.id);
    return node.id;
  };

  nodes.forEach((proto, i) => {
    const id = opIds.get(i);
    if (id === undefined) return;
    const node = viewNodes[id];
    const folded = new Set<string>();
    proto.input.forEach((t, index) => {
      const ref: TensorRef = { name: t };
      const param = inputParamName(node.opType, index);
      if (param) ref.param = param;
      if (!t) { node.inputs.push(ref); return; }
      const hop = alias.get(t);
      const source = resolve(t);
      // A folded weight reads as the dequantized tensor (float, the stored shape); an activation as its source.
      Object.assign(ref, typeRef(hop && !hop.quant.storedTensor ? source : t));
      if (hop) {
        ref.quant = hop.quant;
        node.int8 = true;
      }
      for (const f of foldedInto.get(t) ?? []) folded.add(f);
      if (isConstant(t) || isConstant(source)) { ref.constant = true; node.inputs.push(ref); return; }
      node.inputs.push(ref);
      const from = nodeIdOfTensorSource.get(source) ?? outerNode(source);
      const edge: ViewEdge = { from, to: id, tensor: source, ...typeRef(source) };
      if (hop) edge.quantized = true;
      edges.push(edge);
    });
    node.folded = [...folded];
  });

  for (const output of source.outputs) {
    const node = baseNode('output', output.name, output.name, 'Output');
    node.inputs.push({ name: output.name, ...typeRef(output.name) });
    if (output.docString) node.docString = output.docString;
    viewNodes.push(node);
    const producer = producerOf.get(output.name);
    const from = producer !== undefined && opIds.has(producer) ? (opIds.get(producer) as number) : nodeIdOfTensorSource.get(output.name);
    if (from !== undefined) edges.push({ from, to: node.id, tensor: output.name, ...typeRef(output.name) });
  }

  return {
    scope: source.info.id, title: source.info.title, nodes: viewNodes, edges, qdqNodes,
    int8Nodes: viewNodes.filter((n) => n.int8).length,
  };
}
