// Sequential (empirical) bias correction: each quantized Conv/Gemm's output mean is matched to FP32 on the INT8
// model's real inputs to it — every layer before it already quantized and already corrected — rather than on FP32
// inputs layer by layer (bias-correction.ts, the fast mode, which runs first: what is left is the shift a layer's
// corrected predecessors still pass on). Layers are corrected by depth: a stage holds the layers none of whose
// ancestors is in the stage or later (parallel branches share a stage; a plain chain takes one stage per layer).
// One ORT session per stage runs the part of the INT8 model (QDQ, unfused) the stage needs, with its pre-activation
// outputs exposed; their per-channel means are compared with FP32's and the shifts folded into the int32 biases.
// Measuring layers of one chain together does not work: each one's shift includes its predecessors' uncorrected
// shift, which their own correction then removes a second time (on MobileNet-V1, 3 to 6 such stages for 28 layers
// brought output SQNR from 45 dB down to 7-14 dB).
import { Graph } from '../../onnx/graph';
import { ModelProto, NodeProto } from '../../onnx/proto';
import { CalibrationOptions, collectChannelMeans } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { ModelInput } from '../../data/model-input';
import { applyBiasShifts, BiasTarget, findBiasTargets } from './bias-correction';

export interface SequentialSetup {
  reference: ModelProto;
  samples: SampleSet;
  input: ModelInput;
  options: CalibrationOptions;
  label: string;
  /** FP32 means of reference tensors already measured (filled as they are measured). */
  fp32Means: Map<string, Float64Array>;
}

/** Corrects `int8` (changed in place) stage by stage. Returns how many layers were corrected. */
export async function correctSequentially(int8: ModelProto, setup: SequentialSetup): Promise<number> {
  const fp32Graph = new Graph(setup.reference.graph!);
  const initial = findBiasTargets(new Graph(int8.graph!), fp32Graph);
  if (initial.length === 0) return 0;
  const missing = [...new Set(initial.map((t) => t.fp32Output))].filter((t) => !setup.fp32Means.has(t));
  if (missing.length > 0) {
    const means = await collectChannelMeans(setup.reference, missing, setup.samples, setup.input, setup.options, setup.label);
    for (const [t, m] of means) setup.fp32Means.set(t, m);
  }
  const stages = depthStages(new Graph(int8.graph!), new Set(initial.map((t) => t.node)));
  let corrected = 0;
  for (let s = 0; s < stages.length; s++) {
    const stageNames = new Set(stages[s].map((n) => n.name ?? ''));
    // Targets are looked up again on the current model: earlier stages may have added bias initializers.
    const graph = new Graph(int8.graph!);
    const targets = findBiasTargets(graph, fp32Graph).filter((t) => stageNames.has(t.node.name ?? ''));
    const outputs = targets.map((t) => t.node.output[0]);
    // The QDQ model runs unfused here (optimization disabled), with the same arithmetic as the int8 kernels.
    const measured = await collectChannelMeans(prunedTo(int8, graph, outputs), outputs, setup.samples, setup.input, setup.options, setup.label);
    const shifts = new Map<string, Float64Array>();
    for (const t of targets) {
      const shift = shiftOf(t, setup.fp32Means.get(t.fp32Output), measured.get(t.node.output[0]));
      if (shift) shifts.set(t.key, shift);
    }
    corrected += applyBiasShifts(graph, targets, shifts);
    graph.sortTopologically();
  }
  return corrected;
}

/** Targets grouped by depth: a target's depth is 1 + the largest depth of the targets it depends on. */
export function depthStages(graph: Graph, targets: ReadonlySet<NodeProto>): NodeProto[][] {
  const depthOf = new Map<string, number>();
  const stages: NodeProto[][] = [];
  for (const node of graph.topologicalOrder()) {
    const inputDepth = Math.max(0, ...node.input.map((i) => depthOf.get(i) ?? 0));
    const depth = targets.has(node) ? inputDepth + 1 : inputDepth;
    if (targets.has(node)) (stages[depth - 1] ??= []).push(node);
    for (const o of node.output) depthOf.set(o, depth);
  }
  return stages.filter((s) => s !== undefined);
}

/** `model` reduced to the nodes `outputs` depend on (ORT would run every node otherwise). */
function prunedTo(model: ModelProto, graph: Graph, outputs: readonly string[]): ModelProto {
  const needed = new Set<NodeProto>();
  const pending = [...outputs];
  while (pending.length > 0) {
    const producer = graph.producers.get(pending.pop()!);
    if (!producer || needed.has(producer)) continue;
    needed.add(producer);
    pending.push(...producer.input.filter((i) => i !== ''));
  }
  const g = model.graph!;
  const inputs = new Set([...needed].flatMap((n) => n.input));
  return { ...model, graph: { ...g, node: g.node.filter((n) => needed.has(n)), output: [], initializer: g.initializer.filter((t) => inputs.has(t.name ?? '')) } };
}

/** FP32 mean − INT8 mean per channel (the INT8 output includes the bias that applyBiasShifts adds the shift to). */
function shiftOf(target: BiasTarget, fp32: Float64Array | undefined, int8: Float64Array | undefined): Float64Array | null {
  if (!fp32 || !int8 || fp32.length !== target.bias.length || int8.length !== fp32.length) return null;
  return fp32.map((v, c) => v - int8[c]);
}
