// Quantization planning: which nodes run in int8, which float tensors get a QuantizeLinear/DequantizeLinear pair,
// which Relu/Clip fold into their producer, which tensors must share scales, and why the rest stays FP32.
// Pure: decides from the graph, the op registry and the user's filters; no ranges needed yet.
import { Graph } from '../onnx/graph';
import { NodeProto } from '../onnx/proto';
import { activationBounds, parameterInputs, ruleFor } from './registry';

export interface PlanOptions {
  /** Only these op types are quantized (null = every type the registry knows). */
  opTypes: ReadonlySet<string> | null;
  /** Node names the user keeps in FP32. */
  exclude: ReadonlySet<string>;
  /** Tensors known to hold float32 (from a probe run); others are never quantized. */
  isFloat: (tensor: string) => boolean;
  opset: number;
}

export interface KeptNode { node: string; opType: string; reason: string }

export interface QuantPlan {
  /** Nodes that will run on int8 data (by node name). */
  quantized: NodeProto[];
  /** Relu/Clip nodes removed, mapped to the producer whose output takes over their output name. */
  folded: Map<NodeProto, NodeProto>;
  /** Float activation tensors that get a Q/DQ pair, in graph order (names after folding). */
  qdqTensors: string[];
  /** Tensor -> tensor whose scale/zero point it must reuse (outputs of passthrough ops). */
  sharedParams: Map<string, string>;
  /** Tensors that need a calibrated range (qdqTensors not in sharedParams, not constants). */
  calibrationTensors: string[];
  kept: KeptNode[];
}

function nodeLabel(node: NodeProto): string {
  return node.name || node.output[0] || node.op_type || '?';
}

export function planQuantization(graph: Graph, options: PlanOptions): QuantPlan {
  const order = graph.topologicalOrder();
  const quantized: NodeProto[] = [];
  const quantizedSet = new Set<NodeProto>();
  const folded = new Map<NodeProto, NodeProto>();
  const qdq = new Set<string>();
  const qdqOrder: string[] = [];
  const sharedParams = new Map<string, string>();
  const kept: KeptNode[] = [];
  const addQdq = (t: string) => { if (t && !qdq.has(t)) { qdq.add(t); qdqOrder.push(t); } };
  const isActivation = (t: string) => t !== '' && !graph.isConstant(t) && options.isFloat(t);

  /** The tensor that carries this node's output after folding a following Relu/Clip. */
  const outputAfterFolding = (node: NodeProto): string => {
    const out = node.output[0];
    const consumers = graph.consumersOf(out);
    if (consumers.length !== 1 || graph.graphOutputs.has(out)) return out;
    const next = consumers[0];
    const rule = ruleFor(next);
    if (rule?.kind !== 'foldable-activation' || options.exclude.has(next.name ?? '')) return out;
    const bounds = activationBounds(next, graph, options.opset);
    if (!bounds || bounds.lo > 0 || bounds.hi < 0) return out;
    folded.set(next, node);
    return next.output[0];
  };

  const parameters = parameterComputation(graph, options.isFloat);
  for (const node of order) {
    const rule = ruleFor(node);
    const label = nodeLabel(node);
    if (folded.has(node)) continue;
    if (parameters.has(node)) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'computes a shape, size or scale parameter (kept exact)' });
      continue;
    }
    if (!rule || rule.kind === 'float') {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'no int8 kernel for this op type' });
      continue;
    }
    if (rule.kind === 'foldable-activation') {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'activation not after a quantized op (not folded)' });
      continue;
    }
    if (options.exclude.has(node.name ?? '')) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'excluded by the user (--exclude)' });
      continue;
    }
    if (options.opTypes && !options.opTypes.has(node.op_type ?? '')) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'op type not selected (--op-types)' });
      continue;
    }
    const blocked = rule.blocker?.(node, graph) ?? null;
    if (blocked) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: blocked });
      continue;
    }
    const inputs = rule.activationInputs(node).map((i) => node.input[i]).filter((t) => t !== undefined && t !== '');
    const out = node.output[0];
    if (!options.isFloat(out) || inputs.some((t) => !graph.isConstant(t) && !options.isFloat(t))) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'works on non-float tensors' });
      continue;
    }
    if (rule.kind === 'passthrough') {
      const input = inputs[0];
      if (!input || !qdq.has(input)) {
        kept.push({ node: label, opType: node.op_type ?? '', reason: 'its input is not quantized, so moving data in int8 gains nothing' });
        continue;
      }
      quantized.push(node);
      quantizedSet.add(node);
      addQdq(out);
      sharedParams.set(out, sharedParams.get(input) ?? input);
      continue;
    }
    if (rule.kind === 'requantizing' && inputs.every((t) => graph.isConstant(t))) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'all inputs are constants' });
      continue;
    }
    quantized.push(node);
    quantizedSet.add(node);
    for (const t of inputs) if (isActivation(t)) addQdq(t);
    addQdq(outputAfterFolding(node));
  }

  const calibrationTensors = qdqOrder.filter((t) => !sharedParams.has(t));
  return { quantized, folded, qdqTensors: qdqOrder, sharedParams, calibrationTensors, kept };
}

/**
 * Nodes whose float output ends, through float tensors only, in a parameter input (Resize scales, Reshape shape…):
 * walking up from each parameter input while the tensor is float and produced by a node (an int64 Shape output stops
 * the walk, so the data those shapes were read from is not affected).
 */
function parameterComputation(graph: Graph, isFloat: (tensor: string) => boolean): Set<NodeProto> {
  const found = new Set<NodeProto>();
  const pending: string[] = [];
  for (const node of graph.nodes) for (const i of parameterInputs(node)) if (node.input[i]) pending.push(node.input[i]);
  const seen = new Set<string>();
  while (pending.length > 0) {
    const tensor = pending.pop()!;
    if (seen.has(tensor)) continue;
    seen.add(tensor);
    const producer = graph.producers.get(tensor);
    if (!producer || !isFloat(tensor)) continue;
    found.add(producer);
    for (const input of producer.input) if (input) pending.push(input);
  }
  return found;
}
