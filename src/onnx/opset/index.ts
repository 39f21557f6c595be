// Exact opset conversion of ONNX models to opset 13, the first opset with per-channel QuantizeLinear/DequantizeLinear.
// Pure graph work (no ONNX Runtime): every node of the default domain is rewritten by the adapter of its op when its
// signature or meaning changed between the model's opset and 13, kept when it did not (ops.ts), and refused with an
// OctetError naming the node otherwise. Subgraphs (If/Loop/Scan bodies) are converted the same way. The source model
// is not modified: the result shares its tensors but has its own graph, node and attribute lists.
import { OctetError } from '../../common/errors';
import { opsetVersion } from '../graph';
import { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto } from '../proto';
import { clipToInputs, padToInputs, reduceSumAxes, sliceToInputs, splitSizes, squeezeAxes, topKToInput, unsqueezeAxes } from './attribute-inputs';
import { constantTensor, Facts, inferFacts } from './facts';
import { batchNormalization, castTo, dropout, gemmBroadcast, imageScaler, scatterElements, TensorReaders } from './legacy';
import { refusal, UNCHANGED_TO_13 } from './ops';
import { resize10To13, upsampleToResize } from './resize';
import { Adapter, NamePool, Rewriter } from './rewriter';
import { coercedTo2d } from './softmax';

export const TARGET_OPSET = 13;
/** The oldest opset ONNX Runtime loads, so the oldest whose conversion can be checked against the original. */
export const OLDEST_OPSET = 7;
/** ONNX Runtime wants IR version 7 or newer with opset 13. */
const MIN_IR_VERSION = 7;

export interface OpsetChange { change: string; count: number }

export interface OpsetUpgrade {
  model: ModelProto;
  from: number;
  to: number;
  /** What was rewritten, most frequent first (empty when nothing had to change). */
  changes: OpsetChange[];
}

function adapters(isRead: TensorReaders): Record<string, Adapter> {
  return {
    BatchNormalization: batchNormalization(isRead), Cast: castTo, Clip: clipToInputs, Dropout: dropout(isRead), Gemm: gemmBroadcast,
    Hardmax: coercedTo2d, ImageScaler: imageScaler, LogSoftmax: coercedTo2d, Pad: padToInputs, ReduceSum: reduceSumAxes,
    Resize: resize10To13, Scatter: scatterElements, Slice: sliceToInputs, Softmax: coercedTo2d, Split: splitSizes,
    Squeeze: squeezeAxes, TopK: topKToInput, Unsqueeze: unsqueezeAxes, Upsample: upsampleToResize,
  };
}

function subgraphsOf(node: NodeProto): GraphProto[] {
  return node.attribute.flatMap((a) => [...(a.g ? [a.g] : []), ...a.graphs]);
}

function forEachGraph(graph: GraphProto, visit: (g: GraphProto) => void): void {
  visit(graph);
  for (const node of graph.node) for (const sub of subgraphsOf(node)) forEachGraph(sub, visit);
}

function constantsOf(graph: GraphProto, outer?: ReadonlyMap<string, TensorProto>): Map<string, TensorProto> {
  const constants = new Map(outer ?? []);
  for (const t of graph.initializer) if (t.name) constants.set(t.name, t);
  for (const node of graph.node) {
    if (node.op_type !== 'Constant' || (node.domain && node.domain !== 'ai.onnx')) continue;
    const value = constantTensor(node);
    if (value && node.output[0]) constants.set(node.output[0], value);
  }
  return constants;
}

/**
 * Moves `model` to opset `target` (13) exactly; models already at 13 or newer are returned as they are.
 * Throws OctetError (exit 1) for opsets older than ONNX Runtime reads and for nodes that cannot be converted exactly.
 */
export function upgradeOpset(model: ModelProto, options: { target?: number; label?: string } = {}): OpsetUpgrade {
  const target = options.target ?? TARGET_OPSET;
  if (target !== TARGET_OPSET) throw new Error(`upgradeOpset converts to opset ${TARGET_OPSET} only (asked for ${target})`);
  const label = options.label ?? 'model';
  const from = opsetVersion(model, '');
  if (!model.opset_import.some((o) => !o.domain || o.domain === 'ai.onnx')) {
    throw new OctetError(label, 'the model imports no opset of the default ONNX domain, so it has no standard ONNX ops to quantize');
  }
  if (from >= target) return { model, from, to: from, changes: [] };
  if (from < OLDEST_OPSET) {
    throw new OctetError(label, `the model declares opset ${from}; ONNX Runtime (and Octet) read opset ${OLDEST_OPSET} and newer. `
      + 'Re-export the model at opset 13 or newer.');
  }
  const root = model.graph!;
  const names = new NamePool();
  const read = new Set<string>();
  forEachGraph(root, (g) => {
    for (const t of g.initializer) names.add(t.name);
    for (const vi of [...g.input, ...g.output, ...g.value_info]) names.add(vi.name);
    for (const o of g.output) if (o.name) read.add(o.name);
    for (const node of g.node) {
      names.add(node.name);
      for (const t of [...node.input, ...node.output]) names.add(t);
      for (const t of node.input) if (t) read.add(t);
    }
  });
  const changes = new Map<string, number>();
  const table = adapters((t) => read.has(t));
  const facts = inferFacts(root, from);
  const rw = new Rewriter(from, label, names, facts, constantsOf(root), changes);
  let graph = convertGraph(root, rw, table, facts);
  const ir = model.ir_version ?? 0;
  if (ir < 4) {
    // Before IR 4 every initializer was also listed as a graph input and still constant; from IR 4 an initializer
    // listed as an input is a default that callers may override, so ONNX Runtime would no longer fold it.
    const initializers = new Set(graph.initializer.map((t) => t.name));
    graph = { ...graph, input: graph.input.filter((vi) => !initializers.has(vi.name)) };
  }
  const opsetImport = model.opset_import.map((o) => (!o.domain || o.domain === 'ai.onnx' ? { ...o, version: target } : o));
  return {
    model: { ...model, ir_version: Math.max(ir, MIN_IR_VERSION), opset_import: opsetImport, graph },
    from, to: target,
    changes: [...changes].map(([change, count]) => ({ change, count })).sort((a, b) => b.count - a.count),
  };
}

function convertGraph(graph: GraphProto, rw: Rewriter, table: Record<string, Adapter>, facts: Facts): GraphProto {
  const nodes: NodeProto[] = [];
  for (const original of graph.node) {
    const node = withConvertedSubgraphs(original, rw, table, facts);
    if (node.domain && node.domain !== 'ai.onnx') {
      nodes.push(node);
      continue;
    }
    const op = node.op_type ?? '';
    const adapter = table[op];
    if (adapter) {
      nodes.push(...(adapter(node, rw) ?? [node]));
      continue;
    }
    if (!UNCHANGED_TO_13.has(op)) {
      const reason = refusal(op, rw.from);
      if (reason) rw.fail(node, reason);
    }
    nodes.push(node);
  }
  // Outputs an adapter removed (the pre-10 Dropout mask) lose their declared types.
  const produced = new Set(nodes.flatMap((n) => n.output));
  const dropped = new Set(graph.node.flatMap((n) => n.output).filter((o) => o && !produced.has(o)));
  return {
    ...graph, node: nodes, initializer: [...graph.initializer, ...rw.added],
    value_info: graph.value_info.filter((vi) => !dropped.has(vi.name ?? '')),
  };
}

function withConvertedSubgraphs(node: NodeProto, rw: Rewriter, table: Record<string, Adapter>, outerFacts: Facts): NodeProto {
  if (subgraphsOf(node).length === 0) return node;
  const convert = (g: GraphProto): GraphProto => {
    const facts = inferFacts(g, rw.from, outerFacts);
    return convertGraph(g, rw.child(facts, constantsOf(g, rw.constants)), table, facts);
  };
  const attribute = node.attribute.map((a): AttributeProto => ({
    ...a, ...(a.g ? { g: convert(a.g) } : {}), graphs: a.graphs.map(convert),
  }));
  return { ...node, attribute };
}
