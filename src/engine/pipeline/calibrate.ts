// Step 4: calibration — streaming statistics of every Q/DQ'd tensor, shared-scale ones too (returning a layer to FP32
// in tuning can leave a data-movement op's output needing its own range), and in the same pass the input moments weight
// rounding needs (unless --weight-rounding off) and the LayerNorm outputs' per-channel maxima SmoothQuant needs (unless
// --smooth-quant off). The activation equalization (which rescales the reference graph's weights) is steered by the
// channel ranges of the pass's first samples and applied there, the statistics of those samples rescaled with it
// (runtime/rescaled-tensors.ts); when what that keeps would not fit, a pass of its own measures the ranges first. The
// samples (opened with the data, step 2) are decoded once when the passes that read them fit in memory.
import type { TensorStats } from '../../quant/histogram';
import { EqualizationPair, equalizePairs, findEqualizationPairs } from '../../quant/equalize';
import { keptBytes, Rescaling } from '../runtime/rescaled-tensors';
import { keepsValues, ruleFor } from '../../quant/registry';
import type { Graph } from '../../onnx/graph';
import { momentProbe, momentsOfPass } from '../accuracy/input-moments';
import { lastAxisMaximaOf, lastAxisMaxProbe, smoothedTensors } from '../accuracy/smooth-pass';
import { LayerRounding } from '../accuracy/layer-rounding';
import { CalibrationOptions, collectChannelMaxima, collectStatistics } from '../runtime/calibrate';
import { sampleBytes, SampleSet } from '../runtime/sample-set';
import type { OutputCapture } from '../runtime/evaluate';
import { checkSetCapture } from './check-set';
import type { CalibrationData } from './calibration-data';
import type { Planned } from './plan';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';

/** Samples used to measure per-channel ranges for equalization. */
const EQUALIZATION_SAMPLES = 32;

export interface Calibrated {
  stats: Map<string, TensorStats>;
  /** The calibration samples (kept in memory when the passes over them fit). */
  samples: SampleSet;
  images: number;
  seconds: number;
  /** Passes over the samples the exposure budget needed for the statistics. */
  passes: number;
  peakRssMb: number;
  options: CalibrationOptions;
  /** Weight rounding with the input moments of the layers in its scope (null with --weight-rounding off). */
  rounding: LayerRounding | null;
  /** The check set's FP32 outputs, kept from the statistics pass (null when they could not be). */
  checkOutputs: OutputCapture | null;
  /** SmoothQuant's per-channel max |x| (last axis) of the LayerNorm outputs it would smooth, from the same pass. */
  smoothMaxima: Map<string, Float64Array>;
}

/** `afterRuns`: called once the statistics pass's last run is done (the reference's weights are final from then on). */
export async function calibrate(run: Run, model: PreparedModel, data: CalibrationData, planned: Planned, afterRuns?: () => void): Promise<Calibrated> {
  const { request, paths } = run;
  const { input, reference } = model;
  const options: CalibrationOptions = { threads: request.threads, signal: run.signal, tensorBytes: planned.tensorBytes, tensorDims: planned.tensorDims };
  const quantizedNodes = new Set(planned.plan.quantized);
  const pairs = request.equalize && model.perChannel ? findEqualizationPairs(planned.graph, model.opset.to, (n) => quantizedNodes.has(n)) : [];
  const { samples } = data;
  const started = performance.now();
  // Weight rounding's moments ride along the statistics pass: their probes reduce each run to a few small matrices.
  // (Planning them reads only the layers' shapes, which the equalization keeps.)
  const rounding = request.weightRounding === 'off' ? null : new LayerRounding({
    reference, facts: planned.ctx.facts, samples, input, options, label: paths.model, scope: request.weightRounding === 'on' ? 'all' : 'budget',
  });
  const targets = rounding?.planMissing(planned.plan.quantized.filter((n) => ruleFor(n)?.kind === 'weighted')) ?? [];
  // SmoothQuant's per-channel maxima of the LayerNorm outputs it would smooth ride along too (its trial needs no pass
  // of its own for them).
  const quantizedNames = new Set(planned.plan.quantized.map((n) => n.name));
  const smoothed = request.smoothQuant === 'off' ? new Map<string, number>()
    : smoothedTensors(reference, { facts: planned.ctx.facts, opset: planned.ctx.opset, eligible: (n) => quantizedNames.has(n.name) });
  /** The statistics probe of the reference as its weights are now (a probe holds the weights it was built with). */
  const probeOf = () => {
    const moments = targets.length > 0 ? momentProbe(reference, targets) : null;
    return { moments, maxima: lastAxisMaxProbe(moments?.model ?? reference, smoothed) };
  };
  // A Reshape's or Transpose's output holds its input's values: measured once, when both are calibrated.
  const sameAs = sameValues(planned.graph, planned.plan.qdqTensors);
  const measured = planned.plan.qdqTensors.filter((t) => !sameAs.has(t));
  const equalize = (maxima: ReadonlyMap<string, Float32Array>) => {
    const applied = equalizePairs(planned.graph, pairs, maxima, { strength: request.equalizeStrength, deadRatio: 1e-3 });
    run.log(`equalized channel ranges of ${applied.size} tensors`);
    return applied;
  };
  const folded = pairs.length > 0 ? foldableEqualization(pairs, measured, planned.tensorDims) : null;
  if (pairs.length > 0 && !folded) {
    // Channel ranges only steer the equalization; a few dozen samples are enough.
    run.progress('calibrate', 0, samples.size, `measuring channel ranges of ${pairs.length} conv pairs`);
    equalize(await collectChannelMaxima(reference, pairs.map((p) => p.tensor), samples.slice(0, EQUALIZATION_SAMPLES), input,
      { ...options, onProgress: run.progressOf('calibrate', (d, t) => `channel ranges ${d}/${t}`, 2) }, paths.model));
  }
  // Folded: the statistics pass measures the channel ranges on its first samples and equalizes there (rescaled-tensors.ts).
  const rescaling: Rescaling | undefined = folded ? {
    samples: EQUALIZATION_SAMPLES, tensors: new Set(folded.keys()),
    rescale: (maxima) => {
      // The maxima of producers' outputs come along; the equalization reads its pairs' tensors'.
      const applied = equalize(maxima);
      const scales = new Map([...folded].flatMap(([t, pair]) => (applied.has(pair) ? [[t, applied.get(pair)!] as const] : [])));
      return { model: probeOf().maxima.model, scales };
    },
  } : undefined;
  const probe = probeOf();
  const maxed = [...probe.maxima.sourceOf.keys()];
  run.progress('calibrate', 0, samples.size, `calibrating ${planned.plan.calibrationTensors.length} tensors`
    + (targets.length > 0 ? ` and the inputs of ${targets.length} layers to round` : '')
    + (folded ? `, equalizing ${pairs.length} conv pairs after ${EQUALIZATION_SAMPLES} samples` : ''));
  const checkOutputs = checkSetCapture(samples.size, sampleBytes(input), input, reference.graph!.output.map((o) => o.name ?? ''));
  const tensorBytes = probe.moments?.tensorBytes(samples.batch, planned.tensorBytes) ?? planned.tensorBytes;
  // Exposed tensors stay graph outputs through ORT's optimizations, which make the pass faster (fused, blocked layouts).
  const result = await collectStatistics(probe.maxima.model, measured, samples, input,
    { ...options, level: 'all', tensorBytes, afterRuns, onProgress: run.progressOf('calibrate', (d, t) => `${d}/${t} samples`) }, paths.model,
    { summed: probe.moments?.outputs ?? [], capture: checkOutputs ?? undefined, maxed, rescaling });
  const smoothMaxima = lastAxisMaximaOf(probe.maxima, result.maxima);
  for (const [t, source] of sameAs) {
    const stats = result.stats.get(source);
    if (stats) result.stats.set(t, stats);
  }
  if (result.passes > 1) run.log(`calibration read the samples ${result.passes} times to keep exposed tensors within the memory budget`);
  if (probe.moments) rounding!.adopt(targets, momentsOfPass(probe.moments, targets, planned.graph, result), 0);
  return {
    stats: result.stats, samples, images: result.images, seconds: (performance.now() - started) / 1000, passes: result.passes,
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024), options, rounding, checkOutputs, smoothMaxima,
  };
}

/** Bytes of the first samples' values the statistics pass may keep to fold the equalization into it. */
const FOLD_KEPT_BYTES = 192 * 2 ** 20;

/**
 * The measured tensors the equalization of `pairs` rescales (each pair's tensor, and its producer's output when an
 * activation sits between), each with its pair's tensor — when the statistics pass can equalize after its first
 * samples: every pair's tensor is measured, the dims of each are known, and what the pass keeps of them fits
 * FOLD_KEPT_BYTES. Else null (a pass of its own measures the channel ranges first).
 */
function foldableEqualization(pairs: readonly EqualizationPair[], measured: readonly string[],
  dimsOf: (tensor: string) => readonly number[] | undefined): Map<string, string> | null {
  const calibrated = new Set(measured);
  const rescaled = new Map<string, string>();
  for (const pair of pairs) {
    if (!calibrated.has(pair.tensor)) return null;
    for (const t of [pair.tensor, ...(pair.activation ? [pair.producer.output[0]] : [])]) if (calibrated.has(t)) rescaled.set(t, pair.tensor);
  }
  let bytes = 0;
  for (const t of rescaled.keys()) {
    const dims = dimsOf(t);
    if (!dims || dims.length < 2 || dims.some((d) => !(d > 0))) return null;
    bytes += keptBytes(dims, EQUALIZATION_SAMPLES);
  }
  return bytes <= FOLD_KEPT_BYTES ? rescaled : null;
}

/**
 * Tensors of `tensors` whose values are those of another of them, rearranged (the output of a Reshape, Transpose…
 * reading it: see keepsValues), each with the one it is measured as (the first of a chain). (Of Swin-T's 491 large
 * calibrated tensors, 173 are Reshape, Transpose or Squeeze outputs: its pass took 30.6 s for 64 images, now 13.5 s.)
 */
export function sameValues(graph: Graph, tensors: readonly string[]): Map<string, string> {
  const wanted = new Set(tensors);
  const sourceOf = new Map<string, string>();
  for (const node of graph.topologicalOrder()) {
    const [out] = node.output;
    const [input] = node.input;
    if (out && input && wanted.has(out) && wanted.has(input) && node.output.length === 1 && keepsValues(node)) {
      sourceOf.set(out, sourceOf.get(input) ?? input);
    }
  }
  return sourceOf;
}
