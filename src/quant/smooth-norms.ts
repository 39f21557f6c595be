// Normalization layers as the quantizer must see them: LayerNormalization (opset ≥ 17) and its decomposed export
// (opset < 17: ReduceMean, Sub, Pow, ReduceMean, Add eps, Sqrt, Div, then Mul γ and Add β), found by pattern. Used for
//   - keeping normalization in float: a normalized tensor's input must not go through a per-tensor 8-bit Q/DQ (rows
//     with a small spread, e.g. a class token, lose everything; per-token variance spans decades), and the eps Add
//     and β Add inside it gain nothing from int8 kernels. normFloatNodes() lists the quantizable nodes that would put
//     a Q/DQ there: the LayerNorm's own requantizing pieces and the producers/readers of its input (residual Adds).
//     Softmax inputs inside the graph (attention scores) get the same treatment.
//   - SmoothQuant (smooth-quant.ts): γ and β are where per-channel factors fold exactly.
import { attrInt, Graph } from '../onnx/graph';
import { NodeProto } from '../onnx/proto';
import { tensorToNumbers } from '../onnx/tensor';
import { isModelOutput, ruleFor } from './registry';

export interface LayerNorm {
  /** The tensor normalized (over its last axis). */
  input: string;
  /** Every node of the pattern, in order. */
  nodes: NodeProto[];
  /** The constant per-channel scale γ and shift β (initializer names), when the pattern has them. */
  gamma: string | null;
  beta: string | null;
  /** The tensor after γ/β (or after the division when they are absent). */
  output: string;
}

/** The constant operand of a binary node whose other operand is `tensor`, as a vector of the last axis. */
function constantOperand(graph: Graph, node: NodeProto, tensor: string): string | null {
  if (node.input.length !== 2) return null;
  const other = node.input[0] === tensor ? node.input[1] : node.input[1] === tensor ? node.input[0] : null;
  return other && graph.isConstant(other) ? other : null;
}

/** A ReduceMean over the last axis only (axes [-1], or [rank − 1] when the rank is known), keeping dims. */
function isLastAxisMean(graph: Graph, node: NodeProto | undefined, opset: number, rankOf: (t: string) => number | undefined): boolean {
  if (node?.op_type !== 'ReduceMean' || attrInt(node, 'keepdims', 1) !== 1) return false;
  const axesInput = opset >= 18 && node.input[1] ? graph.initializers.get(node.input[1]) : undefined;
  const axes = axesInput ? tensorToNumbers(axesInput) : node.attribute.find((a) => a.name === 'axes')?.ints?.map(Number);
  if (axes?.length !== 1) return false;
  return axes[0] === -1 || axes[0] === (rankOf(node.input[0]) ?? 0) - 1;
}

/** Adds the γ Mul and β Add after `tensor` (each optional, with constant operands) to `norm`. */
function withAffine(graph: Graph, norm: Omit<LayerNorm, 'gamma' | 'beta'>): LayerNorm {
  let { output } = norm;
  const nodes = [...norm.nodes];
  let gamma: string | null = null;
  let beta: string | null = null;
  const mul = graph.soleConsumer(output);
  if (mul?.op_type === 'Mul' && (gamma = constantOperand(graph, mul, output))) {
    nodes.push(mul);
    output = mul.output[0];
  }
  const add = graph.soleConsumer(output);
  if (add?.op_type === 'Add' && (beta = constantOperand(graph, add, output))) {
    nodes.push(add);
    output = add.output[0];
  }
  return { ...norm, nodes, gamma, beta, output };
}

/** Every LayerNorm of the graph (last-axis normalization), decomposed or as one op. */
export function findLayerNorms(graph: Graph, opset: number, rankOf: (tensor: string) => number | undefined = () => undefined): LayerNorm[] {
  const found: LayerNorm[] = [];
  for (const div of graph.nodes) {
    if (div.op_type === 'LayerNormalization') {
      if (attrInt(div, 'axis', -1) !== -1 || !graph.isConstant(div.input[1] ?? '')) continue;
      const bias = div.input[2] && graph.isConstant(div.input[2]) ? div.input[2] : null;
      found.push({ input: div.input[0], nodes: [div], gamma: div.input[1], beta: bias, output: div.output[0] });
      continue;
    }
    if (div.op_type !== 'Div') continue;
    const sub = graph.producers.get(div.input[0]);
    const sqrt = graph.producers.get(div.input[1]);
    if (sub?.op_type !== 'Sub' || sqrt?.op_type !== 'Sqrt') continue;
    const mean = graph.producers.get(sub.input[1]);
    if (!isLastAxisMean(graph, mean, opset, rankOf) || mean!.input[0] !== sub.input[0]) continue;
    const addEps = graph.producers.get(sqrt.input[0]);
    if (addEps?.op_type !== 'Add') continue;
    const varianceTensor = addEps.input.find((i) => !graph.isConstant(i));
    const variance = varianceTensor ? graph.producers.get(varianceTensor) : undefined;
    if (!variance || !isLastAxisMean(graph, variance, opset, rankOf)) continue;
    const square = graph.producers.get(variance.input[0]);
    const squares = square?.op_type === 'Pow' || (square?.op_type === 'Mul' && square.input[0] === square.input[1]);
    if (!squares || square!.input[0] !== sub.output[0]) continue;
    found.push(withAffine(graph, { input: sub.input[0], nodes: [mean!, sub, square!, variance, addEps, sqrt, div], output: div.output[0] }));
  }
  return found;
}

/**
 * Quantizable nodes to keep in float so that no normalization reads a Q/DQ'd tensor: each LayerNorm's own
 * requantizing pieces (eps Add, β Add) and every quantizable node that writes or reads its input (a quantized node
 * puts a Q/DQ pair on the tensors it touches); the same for Softmax inputs. Node name → why.
 */
export function normFloatNodes(graph: Graph, opset: number, rankOf: (tensor: string) => number | undefined = () => undefined): Map<string, string> {
  const keep = new Map<string, string>();
  const quantizable = (n: NodeProto | undefined): n is NodeProto => {
    // Float ops (a Div by a tensor, Softmax) and folded activations put no Q/DQ of their own on what they touch.
    const rule = n ? ruleFor(n, graph) : undefined;
    return rule !== undefined && rule.kind !== 'foldable-activation' && rule.kind !== 'float' && !rule.blocker?.(n!, graph);
  };
  const guard = (tensor: string, what: string) => {
    const producer = graph.producers.get(tensor);
    if (quantizable(producer) && ruleFor(producer, graph)!.kind !== 'passthrough') keep.set(producer.name ?? producer.output[0], `writes the input of ${what}`);
    for (const reader of graph.consumersOf(tensor)) {
      const rule = ruleFor(reader, graph);
      if (quantizable(reader) && rule!.kind !== 'passthrough' && rule!.activationInputs(reader).some((i) => reader.input[i] === tensor)) {
        keep.set(reader.name ?? reader.output[0], `reads the input of ${what}`);
      }
    }
  };
  for (const norm of findLayerNorms(graph, opset, rankOf)) {
    const label = `LayerNorm ${norm.nodes[norm.nodes.length - 1].name ?? norm.output}`;
    for (const n of norm.nodes) if (quantizable(n)) keep.set(n.name ?? n.output[0], `inside ${label}`);
    guard(norm.input, label);
  }
  // Softmax inside the graph (attention); a classifier's final Softmax reads logits int8 handles well.
  for (const softmax of graph.nodes.filter((n) => n.op_type === 'Softmax' && !isModelOutput(n.output[0] ?? '', graph))) {
    guard(softmax.input[0], `Softmax ${softmax.name ?? ''}`);
  }
  return keep;
}
