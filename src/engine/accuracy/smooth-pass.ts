// SmoothQuant on the FP32 reference (src/quant/smooth-quant.ts does the math): measures each LayerNorm output's
// per-channel range over the last axis on calibration samples, derives the factors and returns a smoothed copy of
// the reference with what changed, so the caller can recalibrate just those tensors and compare both models.
import type { SmoothQuantLayer } from '../../common/report';
import { copyProto, Graph, makeNode, opsetVersion } from '../../onnx/graph';
import { reduceNode } from '../../onnx/build';
import { makeTensor } from '../../onnx/tensor';
import { ModelProto, NodeProto, TensorProto } from '../../onnx/proto';
import type { TensorFacts } from '../../quant/convert';
import { applySmoothing, findSmoothTargets, smoothFactors, SMOOTH_ALPHA, weightChannelMax } from '../../quant/smooth-quant';
import { CalibrationOptions, collectStatistics } from '../runtime/calibrate';
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

/** `model` with, for each tensor, its max |x| per channel of the last axis as a [1, C] output. */
export interface LastAxisMaxProbe {
  model: ModelProto;
  /** Output → the tensor it reduces. */
  sourceOf: Map<string, string>;
}

/**
 * Adds the last-axis maxima of the tensors of `channels` (tensor → C) to `model`, reduced inside ONNX Runtime (Abs,
 * Reshape to [-1, C], ReduceMax over the rows) so that a run returns C values per tensor (the reducer's 'channel-max'
 * of a [1, C] tensor) and ORT may optimize the graph. (Exposing ConvNeXt-T's 18 LayerNorm outputs whole, unoptimized,
 * and folding them value by value took most of its SmoothQuant trial.)
 */
export function lastAxisMaxProbe(model: ModelProto, channels: ReadonlyMap<string, number>): LastAxisMaxProbe {
  const graph = new Graph(model.graph!);
  const opset = opsetVersion(model);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  const sourceOf = new Map<string, string>();
  const constant = (base: string, values: bigint[]): string => {
    const name = graph.uniqueName(base);
    initializers.push(makeTensor(name, [values.length], BigInt64Array.from(values)));
    return name;
  };
  let firstAxis: string | null = null;
  for (const [t, count] of channels) {
    const [abs, rows, out] = [`${t}_abs`, `${t}_rows`, `${t}_last_axis_max`].map((n) => graph.uniqueName(n));
    nodes.push(makeNode('Abs', [t], [abs], graph.uniqueName(`${abs}_Abs`)),
      makeNode('Reshape', [abs, constant(`${rows}_shape`, [-1n, BigInt(count)])], [rows], graph.uniqueName(`${rows}_Reshape`)),
      reduceNode('ReduceMax', rows, out, graph.uniqueName(`${out}_ReduceMax`), [0], true, opset,
        () => (firstAxis ??= constant('last_axis_max_rows_axis', [0n]))));
    sourceOf.set(out, t);
  }
  const g = model.graph!;
  return { model: nodes.length > 0 ? { ...model, graph: { ...g, node: [...g.node, ...nodes], initializer: [...g.initializer, ...initializers] } } : model,
    sourceOf };
}

/** Each reduced tensor's maxima, from the channel maxima a pass over `probe`'s model gave its outputs. */
export function lastAxisMaximaOf(probe: LastAxisMaxProbe, results: ReadonlyMap<string, Float32Array>): Map<string, Float64Array> {
  return new Map([...probe.sourceOf].flatMap(([exposed, t]) => {
    const maxima = results.get(exposed);
    return maxima ? [[t, Float64Array.from(maxima)] as const] : [];
  }));
}

/** Per-channel max |x| over the last axis of each tensor of `channels`, in a pass of its own. */
async function lastAxisMaxima(model: ModelProto, channels: ReadonlyMap<string, number>, samples: SampleSet, input: ModelInput,
  options: CalibrationOptions, label: string): Promise<Map<string, Float64Array>> {
  const probe = lastAxisMaxProbe(model, channels);
  // Reduced outputs are new tensors ORT keeps through its optimizations.
  const { maxima } = await collectStatistics(probe.model, [], samples, input, { ...options, level: 'all' }, label, { maxed: [...probe.sourceOf.keys()] });
  return lastAxisMaximaOf(probe, maxima);
}

/** What finding the smoothing targets needs: the tensors' facts, the opset, which nodes will be quantized. */
export interface SmoothScope {
  facts: ReadonlyMap<string, TensorFacts>;
  opset: number;
  /** Asked about nodes of the graph searched (compare by name). */
  eligible: (node: NodeProto) => boolean;
}

function smoothTargets(graph: Graph, scope: SmoothScope) {
  const dims = (t: string) => scope.facts.get(t)?.dims;
  return findSmoothTargets(graph, scope.opset, (t) => dims(t)?.[dims(t)!.length - 1], scope.eligible, (t) => dims(t)?.length);
}

/** The LayerNorm outputs SmoothQuant would smooth in `reference`, with their channels (to measure in another pass). */
export function smoothedTensors(reference: ModelProto, scope: SmoothScope): Map<string, number> {
  return new Map(smoothTargets(new Graph(reference.graph!), scope).map((t) => [t.tensor, t.channels] as const));
}

const round = (v: number) => Math.round(v * 1e4) / 1e4;

/**
 * The smoothed copy of `reference`, or null when no LayerNorm feeds only quantized weighted layers. The per-channel
 * maxima come from `measured` (the statistics pass's, see smoothedTensors) where it has every target's, else from a
 * pass over `samples`.
 */
export async function smoothReference(reference: ModelProto, scope: SmoothScope, samples: SampleSet, input: ModelInput,
  options: CalibrationOptions, label: string, measured: ReadonlyMap<string, Float64Array> = new Map(),
  alpha = SMOOTH_ALPHA): Promise<SmoothedReference | null> {
  const started = performance.now();
  // Looked for on the reference first: most models have none, and copying a large model costs.
  if (smoothTargets(new Graph(reference.graph!), scope).length === 0) return null;
  const model: ModelProto = copyProto(reference);
  const graph = new Graph(model.graph!);
  const targets = smoothTargets(graph, scope);
  const maxima = targets.every((t) => measured.get(t.tensor)?.length === t.channels) ? measured
    : await lastAxisMaxima(reference, new Map(targets.map((t) => [t.tensor, t.channels] as const)), samples, input, options, label);
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
