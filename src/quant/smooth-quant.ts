// SmoothQuant (Xiao et al. 2023) between a LayerNorm and the MatMul/Gemm layers that read it: activation channel j
// is divided by s_j and the weight row that multiplies channel j is multiplied by s_j, so the model computes the same
// function in FP32 while the activation's outlier channels (which set its per-tensor int8 scale) shrink and the
// weights (per-channel int8, one scale per output column) absorb them. The division folds exactly into the
// LayerNorm's γ and β:  (x̂·γ + β)/s = x̂·(γ/s) + β/s.
//   s_j = max|X_j|^α / max|W_j|^(1−α)   (max over calibration samples / over every reading layer's row j)
// Only exact cases are changed: every reader of the LayerNorm output must be such a layer, possibly through
// Reshape/Flatten that keep the channel (last) axis; γ, β and the weights must not be shared with other nodes.
import { attrInt, Graph } from '../onnx/graph';
import { NodeProto } from '../onnx/proto';
import { makeTensor, tensorToFloat32 } from '../onnx/tensor';
import { findLayerNorms, LayerNorm } from './smooth-norms';

export interface SmoothReader { node: NodeProto; weight: string; layout: 'rows' | 'columns' }

export interface SmoothTarget {
  norm: LayerNorm;
  /** The LayerNorm output whose channels (last axis) are scaled. */
  tensor: string;
  channels: number;
  readers: SmoothReader[];
  /** Tensors whose values change (the LayerNorm output and the reshaped copies the readers take). */
  changed: string[];
}

/** SmoothQuant's migration strength: 0 leaves activations alone, 1 moves all their range into the weights. */
export const SMOOTH_ALPHA = 0.5;

function useCounts(graph: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  for (const n of graph.nodes) for (const i of n.input) uses.set(i, (uses.get(i) ?? 0) + 1);
  return uses;
}

/**
 * The LayerNorms whose output only feeds layers with constant weights (through channel-preserving reshapes), and those
 * layers. `lastDimOf(t)` gives a tensor's last dimension (from the probe run); `eligible(node)` says whether a reader
 * is quantized (scaling helps only layers whose input is quantized).
 */
export function findSmoothTargets(graph: Graph, opset: number, lastDimOf: (t: string) => number | undefined,
  eligible: (node: NodeProto) => boolean, rankOf: (t: string) => number | undefined = () => undefined): SmoothTarget[] {
  const uses = useCounts(graph);
  const owned = (t: string | null) => t !== null && graph.isConstant(t) && (uses.get(t) ?? 0) === 1;
  const targets: SmoothTarget[] = [];
  for (const norm of findLayerNorms(graph, opset, rankOf)) {
    if (!owned(norm.gamma) || (norm.beta !== null && !owned(norm.beta))) continue;
    const channels = lastDimOf(norm.output);
    if (!channels || tensorToFloat32(graph.initializers.get(norm.gamma!)!).length !== channels) continue;
    if (norm.beta && tensorToFloat32(graph.initializers.get(norm.beta)!).length !== channels) continue;
    const readers: SmoothReader[] = [];
    const changed: string[] = [];
    let exact = !graph.graphOutputs.has(norm.output);
    const visit = (tensor: string) => {
      changed.push(tensor);
      for (const node of graph.consumersOf(tensor)) {
        if ((node.op_type === 'Reshape' || node.op_type === 'Flatten') && node.input[0] === tensor && lastDimOf(node.output[0]) === channels
          && !graph.graphOutputs.has(node.output[0])) {
          visit(node.output[0]);
          continue;
        }
        const w = graph.initializers.get(node.input[1] ?? '');
        const reads = node.input[0] === tensor && w?.dims.length === 2 && owned(node.input[1]) && eligible(node);
        if (reads && node.op_type === 'MatMul' && Number(w!.dims[0]) === channels) {
          readers.push({ node, weight: node.input[1], layout: 'rows' });
        } else if (reads && node.op_type === 'Gemm' && attrInt(node, 'transA', 0) === 0) {
          const transB = attrInt(node, 'transB', 0) === 1;
          if (Number(w!.dims[transB ? 1 : 0]) !== channels) { exact = false; continue; }
          readers.push({ node, weight: node.input[1], layout: transB ? 'columns' : 'rows' });
        } else {
          exact = false;
        }
      }
    };
    visit(norm.output);
    if (exact && readers.length > 0) targets.push({ norm, tensor: norm.output, channels, readers, changed });
  }
  return targets;
}

/** max_j |W| over every reader's weights that multiply channel j ('rows': W[j, :]; 'columns': W[:, j]). */
export function weightChannelMax(graph: Graph, target: SmoothTarget): Float64Array {
  const m = new Float64Array(target.channels);
  for (const r of target.readers) {
    const t = graph.initializers.get(r.weight)!;
    const w = tensorToFloat32(t);
    const other = w.length / target.channels;
    for (let j = 0; j < target.channels; j++) {
      for (let k = 0; k < other; k++) {
        const v = Math.abs(r.layout === 'rows' ? w[j * other + k] : w[k * target.channels + j]);
        if (v > m[j]) m[j] = v;
      }
    }
  }
  return m;
}

/** s_j = max|X_j|^α / max|W_j|^(1−α); channels with no activation or no weight keep 1. */
export function smoothFactors(activationMax: ArrayLike<number>, weightMax: ArrayLike<number>, alpha: number): Float64Array {
  const s = new Float64Array(activationMax.length);
  for (let j = 0; j < s.length; j++) {
    const a = activationMax[j];
    const w = weightMax[j];
    const v = a > 0 && w > 0 ? a ** alpha / w ** (1 - alpha) : 1;
    s[j] = Number.isFinite(v) && v > 0 ? v : 1;
  }
  return s;
}

/** Divides channel j of the LayerNorm output by s_j (γ, β) and multiplies the readers' weights for channel j by s_j. */
export function applySmoothing(graph: Graph, target: SmoothTarget, s: Float64Array): void {
  const replace = (name: string, values: Float32Array) => {
    const old = graph.initializers.get(name)!;
    Object.assign(old, makeTensor(name, old.dims.map(Number), values));
  };
  const divide = (name: string | null) => {
    if (!name) return;
    replace(name, tensorToFloat32(graph.initializers.get(name)!).map((v, j) => v / s[j]));
  };
  divide(target.norm.gamma);
  divide(target.norm.beta);
  for (const r of target.readers) {
    const w = tensorToFloat32(graph.initializers.get(r.weight)!);
    const other = w.length / target.channels;
    replace(r.weight, w.map((v, i) => v * s[r.layout === 'rows' ? Math.floor(i / other) : i % target.channels]));
  }
}
