// SmoothQuant on the FP32 reference (src/quant/smooth-quant.ts does the math): measures each LayerNorm output's
// per-channel range over the last axis on calibration samples, derives the factors and returns a smoothed copy of
// the reference with what changed, so the caller can recalibrate just those tensors and compare both models.
import type { SmoothQuantLayer } from '../../common/report';
import { copyProto, Graph } from '../../onnx/graph';
import { ModelProto, NodeProto } from '../../onnx/proto';
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
  seconds: number;
}

/** Per-channel max |x| over the last axis of each tensor. */
async function lastAxisMaxima(model: ModelProto, tensors: readonly string[], samples: SampleSet, input: ModelInput,
  options: CalibrationOptions, label: string): Promise<Map<string, Float64Array>> {
  const maxima = new Map<string, Float64Array>();
  await forEachBatch(model, tensors, samples, input, options, label, (tensor, value) => {
    const channels = value.dims[value.dims.length - 1];
    const data = value.data as Float32Array;
    let m = maxima.get(tensor);
    if (!m) { m = new Float64Array(channels); maxima.set(tensor, m); }
    for (let i = 0; i < data.length; i++) {
      const a = Math.abs(data[i]);
      const j = i % channels;
      if (a > m[j]) m[j] = a;
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
  const maxima = await lastAxisMaxima(reference, targets.map((t) => t.tensor), samples, input, options, label);
  const layers: SmoothQuantLayer[] = [];
  for (const target of targets) {
    const activation = maxima.get(target.tensor);
    if (!activation || activation.length !== target.channels) continue;
    const s = smoothFactors(activation, weightChannelMax(graph, target), alpha);
    applySmoothing(graph, target, s);
    const after = activation.map((a, j) => a / s[j]);
    layers.push({
      tensor: target.tensor, readers: target.readers.map((r) => r.node.name ?? r.node.output[0]), alpha,
      factorMin: round(Math.min(...s)), factorMax: round(Math.max(...s)),
      activationMax: { before: round(Math.max(...activation)), after: round(Math.max(...after)) },
    });
  }
  return { model, layers, changedTensors: targets.flatMap((t) => t.changed), seconds: (performance.now() - started) / 1000 };
}
