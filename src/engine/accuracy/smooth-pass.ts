// SmoothQuant on the FP32 reference (src/quant/smooth-quant.ts does the math): measures each LayerNorm output's
// per-channel range over the last axis on calibration samples, derives the factors and returns a smoothed copy of
// the reference with what changed, so the caller can recalibrate just those tensors and compare both models.
import type { SmoothQuantLayer } from '../../common/report';
import { copyProto, Graph, intAttribute, makeNode, opsetVersion } from '../../onnx/graph';
import { intsAttribute } from '../../onnx/build';
import { makeTensor } from '../../onnx/tensor';
import { ModelProto, NodeProto, TensorProto } from '../../onnx/proto';
import type { TensorFacts } from '../../quant/convert';
import { applySmoothing, findSmoothTargets, smoothFactors, SMOOTH_ALPHA, weightChannelMax } from '../../quant/smooth-quant';
import { CalibrationOptions, forEachBatch } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { ModelInput } from '../../data/model-input';

export interface SmoothedReference {
  model: ModelProto;
  layers: SmoothQuantLayer[];
  /** Tensors whose values differ from the original reference (their calibration statistics must be redone). */
  changedTensors: string[];
  /** Per changed tensor, the factor s each channel of its last axis was divided by. */
  factors: Map<string, Float64Array>;
  seconds: number;
}

/**
 * Per-channel max |x| over the last axis of each tensor: reduced inside ONNX Runtime (Abs, ReduceMax over every other
 * axis) where the rank is known, so that a run returns C values per tensor and ORT may optimize the graph; whole
 * tensors otherwise. (Exposing ConvNeXt-T's 18 LayerNorm outputs whole, unoptimized, and folding them value by value
 * took most of its SmoothQuant trial.)
 */
async function lastAxisMaxima(model: ModelProto, tensors: readonly string[], rankOf: (tensor: string) => number | undefined,
  samples: SampleSet, input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float64Array>> {
  const graph = new Graph(model.graph!);
  const opset = opsetVersion(model);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const sourceOf = new Map<string, string>();
  for (const t of tensors) {
    const rank = rankOf(t);
    if (rank === undefined || rank < 2) { sourceOf.set(t, t); continue; }
    const abs = graph.uniqueName(`${t}_abs`);
    const out = graph.uniqueName(`${t}_last_axis_max`);
    const axes = Array.from({ length: rank - 1 }, (_, i) => i);
    nodes.push(makeNode('Abs', [t], [abs], graph.uniqueName(`${abs}_Abs`)));
    // ReduceMax takes its axes as an attribute before opset 18, as an input from 18 on.
    if (opset < 18) {
      nodes.push(makeNode('ReduceMax', [abs], [out], graph.uniqueName(`${out}_ReduceMax`), [intsAttribute('axes', axes), intAttribute('keepdims', 0)]));
    } else {
      const axesName = graph.uniqueName(`${out}_axes`);
      initializers.push(makeTensor(axesName, [axes.length], BigInt64Array.from(axes.map(BigInt))));
      nodes.push(makeNode('ReduceMax', [abs, axesName], [out], graph.uniqueName(`${out}_ReduceMax`), [intAttribute('keepdims', 0)]));
    }
    sourceOf.set(out, t);
  }
  const g = model.graph!;
  const probe: ModelProto = nodes.length > 0 ? { ...model, graph: { ...g, node: [...g.node, ...nodes], initializer: [...g.initializer, ...initializers] } } : model;
  // Reduced outputs are new tensors ORT keeps through its optimizations; whole ones need the graph as it is.
  const level = [...sourceOf].every(([exposed, t]) => exposed !== t) ? 'all' : options.level;
  const maxima = new Map<string, Float64Array>();
  await forEachBatch(probe, [...sourceOf.keys()], samples, input, { ...options, level }, label, (exposed, value) => {
    const tensor = sourceOf.get(exposed)!;
    const channels = value.dims[value.dims.length - 1];
    const data = value.data as Float32Array;
    let m = maxima.get(tensor);
    if (!m) { m = new Float64Array(channels); maxima.set(tensor, m); }
    for (let start = 0; start < data.length; start += channels) {
      for (let j = 0; j < channels; j++) {
        const a = Math.abs(data[start + j]);
        if (a > m[j]) m[j] = a;
      }
    }
  });
  return maxima;
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

/**
 * The smoothed copy of `reference`, or null when no LayerNorm feeds only quantized weighted layers. `eligible` is asked
 * about nodes of the copy (compare by name).
 */
export async function smoothReference(reference: ModelProto, facts: ReadonlyMap<string, TensorFacts>, opset: number,
  eligible: (node: NodeProto) => boolean, samples: SampleSet, input: ModelInput, options: CalibrationOptions, label: string,
  alpha = SMOOTH_ALPHA): Promise<SmoothedReference | null> {
  const started = performance.now();
  const dims = (t: string) => facts.get(t)?.dims;
  const find = (graph: Graph) => findSmoothTargets(graph, opset, (t) => dims(t)?.[dims(t)!.length - 1], eligible, (t) => dims(t)?.length);
  // Looked for on the reference first: most models have none, and copying a large model costs.
  if (find(new Graph(reference.graph!)).length === 0) return null;
  const model: ModelProto = copyProto(reference);
  const graph = new Graph(model.graph!);
  const targets = find(graph);
  const maxima = await lastAxisMaxima(reference, targets.map((t) => t.tensor), (t) => dims(t)?.length, samples, input, options, label);
  const layers: SmoothQuantLayer[] = [];
  const factors = new Map<string, Float64Array>();
  for (const target of targets) {
    const activation = maxima.get(target.tensor);
    if (!activation || activation.length !== target.channels) continue;
    const s = smoothFactors(activation, weightChannelMax(graph, target), alpha);
    applySmoothing(graph, target, s);
    for (const t of target.changed) factors.set(t, s);
    const after = activation.map((a, j) => a / s[j]);
    layers.push({
      tensor: target.tensor, readers: target.readers.map((r) => r.node.name ?? r.node.output[0]), alpha,
      factorMin: round(Math.min(...s)), factorMax: round(Math.max(...s)),
      activationMax: { before: round(Math.max(...activation)), after: round(Math.max(...after)) },
    });
  }
  return { model, layers, changedTensors: targets.flatMap((t) => t.changed), factors, seconds: (performance.now() - started) / 1000 };
}
