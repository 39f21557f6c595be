// Quantization planning: which nodes run in int8, which float tensors get a QuantizeLinear/DequantizeLinear pair,
// which Relu/Clip fold into their producer, which tensors must share scales, and why the rest stays FP32.
// Pure: decides from the graph, the op registry and the user's filters; no ranges needed yet.
import { Graph } from '../onnx/graph';
import { NodeProto } from '../onnx/proto';
import { activationBounds, parameterInputs, rescaleFactor, ruleFor } from './registry';

export interface PlanOptions {
  /** Only these op types are quantized (null = every type the registry knows). */
  opTypes: ReadonlySet<string> | null;
  /** Node names kept in FP32: the user's --exclude, and Octet's own choices (reasons in floatReasons). */
  exclude: ReadonlySet<string>;
  /** Why Octet keeps an excluded node in float (speed, accuracy); absent = the user's --exclude. */
  floatReasons?: ReadonlyMap<string, string>;
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
  /** Float activation tensors with int8 codes, in graph order (names after folding): each gets a Q/DQ pair, except
   *  the `scaled` ones, which read another tensor's codes. Calibration observes them all. */
  qdqTensors: string[];
  /** Tensor -> tensor whose scale/zero point it must reuse (outputs of passthrough ops). */
  sharedParams: Map<string, string>;
  /** Outputs of 'rescale' nodes (Mul/Div by one positive constant, removed): the codes of `from` at its scale × factor. */
  scaled: Map<string, { from: string; factor: number }>;
  /** Tensors whose range is fixed by the op, not calibrated ('clamped-affine' outputs: HardSigmoid's [0, 1]). */
  fixedRanges: Map<string, { min: number; max: number }>;
  /** Tensors whose QuantizeLinear uses the DequantizeLinear's scale times this factor (the producer computes them
   *  divided by it: a HardSigmoid lowered to an Add). */
  quantizeFactor: Map<string, number>;
  /** Tensors that need a calibrated range (qdqTensors not shared, scaled or fixed; not constants). */
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
  const scaled = new Map<string, { from: string; factor: number }>();
  const fixedRanges = new Map<string, { min: number; max: number }>();
  const quantizeFactor = new Map<string, number>();
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

  /** The Relu/Clip that would fold into this node's output but is excluded (the two stay float together), if any. */
  const excludedFoldPartner = (node: NodeProto): NodeProto | null => {
    const out = node.output[0];
    const consumers = graph.consumersOf(out);
    if (consumers.length !== 1 || graph.graphOutputs.has(out)) return null;
    const next = consumers[0];
    if (ruleFor(next)?.kind !== 'foldable-activation' || !options.exclude.has(next.name ?? '')) return null;
    const bounds = activationBounds(next, graph, options.opset);
    return bounds && bounds.lo <= 0 && bounds.hi >= 0 ? next : null;
  };

  /** Whether a consumer will likely read int8 codes (a quantizable node, not excluded or blocked); a wrong guess costs a
   *  Q/DQ pair at most, since quantized consumers quantize their inputs themselves. */
  const takesInt8 = (consumer: NodeProto): boolean => {
    const rule = ruleFor(consumer, graph);
    if (!rule || rule.kind === 'float' || rule.kind === 'foldable-activation' || options.exclude.has(consumer.name ?? '')) return false;
    if (options.opTypes && !options.opTypes.has(consumer.op_type ?? '')) return false;
    return !rule.blocker?.(consumer, graph);
  };

  const parameters = parameterComputation(graph, options.isFloat);
  for (const node of order) {
    const rule = ruleFor(node, graph);
    const label = nodeLabel(node);
    if (folded.has(node)) continue;
    if (parameters.has(node)) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'computes a shape, size or scale parameter (kept exact)' });
      continue;
    }
    if (!rule || rule.kind === 'float') {
      kept.push({ node: label, opType: node.op_type ?? '', reason: rule?.floatReason ?? 'no int8 kernel for this op type' });
      continue;
    }
    if (rule.kind === 'foldable-activation') {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'activation not after a quantized op (not folded)' });
      continue;
    }
    if (options.exclude.has(node.name ?? '')) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: options.floatReasons?.get(node.name ?? '') ?? 'excluded by the user (--exclude)' });
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
    const partner = rule.kind === 'passthrough' || rule.kind === 'rescale' ? null : excludedFoldPartner(node);
    if (partner) {
      // Quantized alone, this node would need its raw (pre-activation) output calibrated; it stays float with it.
      kept.push({ node: label, opType: node.op_type ?? '', reason: `the ${partner.op_type} after it (${nodeLabel(partner)}) is kept in float, so it stays float too` });
      continue;
    }
    const inputs = rule.activationInputs(node).map((i) => node.input[i]).filter((t) => t !== undefined && t !== '');
    const out = node.output[0];
    const outputs = node.output.filter((o) => o !== '');
    if (!outputs.every((o) => options.isFloat(o)) || inputs.some((t) => !graph.isConstant(t) && !options.isFloat(t))) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'works on non-float tensors' });
      continue;
    }
    if (rule.kind === 'passthrough' || rule.kind === 'rescale') {
      const input = rule.kind === 'rescale' ? inputs.find((t) => !graph.isConstant(t)) : inputs[0];
      if (!input || !qdq.has(input)) {
        kept.push({ node: label, opType: node.op_type ?? '', reason: rule.kind === 'rescale'
          ? 'its input is not quantized, so there is no int8 scale to fold the constant into'
          : 'its input is not quantized, so moving data in int8 gains nothing' });
        continue;
      }
      quantized.push(node);
      quantizedSet.add(node);
      if (rule.kind === 'rescale') {
        addQdq(out);
        scaled.set(out, { from: input, factor: rescaleFactor(node, graph)! });
        continue;
      }
      for (const o of outputs) {
        addQdq(o);
        sharedParams.set(o, sharedParams.get(input) ?? input);
      }
      continue;
    }
    if (rule.kind === 'clamped-affine') {
      const { a, lo, hi } = rule.affine!(node);
      quantized.push(node);
      quantizedSet.add(node);
      for (const t of inputs) if (isActivation(t)) addQdq(t);
      addQdq(out);
      fixedRanges.set(out, { min: lo, max: hi });
      quantizeFactor.set(out, 1 / a);
      continue;
    }
    if (rule.kind === 'requantizing' && inputs.every((t) => graph.isConstant(t))) {
      kept.push({ node: label, opType: node.op_type ?? '', reason: 'all inputs are constants' });
      continue;
    }
    quantized.push(node);
    quantizedSet.add(node);
    for (const t of inputs) if (isActivation(t)) addQdq(t);
    const output = outputAfterFolding(node);
    // A layer ORT also runs with a float output (QGemm, MatMulIntegerToFloat) writes int8 codes only for consumers that
    // read them: a float consumer then reads no DequantizeLinear, so ORT cannot fuse it into int8 behind our back.
    if (!rule.ort.floatOutput || output !== out || graph.consumersOf(output).some(takesInt8)) addQdq(output);
  }

  const calibrationTensors = qdqOrder.filter((t) => !sharedParams.has(t) && !scaled.has(t) && !fixedRanges.has(t));
  return { quantized, folded, qdqTensors: qdqOrder, sharedParams, scaled, fixedRanges, quantizeFactor, calibrationTensors, kept };
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
