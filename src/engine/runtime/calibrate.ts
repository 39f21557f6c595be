// Calibration: run the FP32 model over the calibration samples with the tensors that need statistics exposed as
// extra outputs, folding each batch into streaming statistics. Memory stays bounded whatever the data-set size and
// the model: samples stream (sample-set.ts), and the exposed tensors follow a byte budget (exposure.ts) — smaller
// runs, and several passes over the samples when one sample's tensors alone are too many. Two kinds of statistics:
// per-tensor (min/max + growing histogram, for ranges; large tensors exposed in half precision, half-exposure.ts) and
// per-channel maxima or means (equalization, bias shifts), folded on the reducing thread (reducer.ts) while the next
// batch runs.
import type * as ort from 'onnxruntime-node';
import { encodeSplit, ModelProto, NodeProto, TensorProto } from '../../onnx/proto';
import { TensorStats } from '../../quant/histogram';
import type { ReductionKind, ReductionResult } from '../../quant/tensor-reductions';
import { HalfExposure, halfPrecisionProbe, PickWalks, statsFromHalf } from './half-exposure';
import { RescaledTensors, Rescaling } from './rescaled-tensors';
import { InternalError } from '../../common/errors';
import type { ModelInput } from '../../data/model-input';
import { withExtraOutputs } from './prepare';
import { OptimizationLevel, openSession, runFloat } from './session';
import { Graph, makeNode, opsetVersion } from '../../onnx/graph';
import { reduceNode } from '../../onnx/build';
import { makeTensor } from '../../onnx/tensor';
import { throwIfCancelled } from '../cancel';
import { EXPOSURE_BUDGET_BYTES, planExposure } from './exposure';
import { ReducePass } from './reducer';
import { splitBatch, SampleSet } from './sample-set';
import type { OutputCapture } from './evaluate';

export interface CalibrationOptions {
  threads: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Bytes a tensor takes for one sample, when known (from the probe): sizes the runs to the exposure budget. */
  tensorBytes?: (tensor: string) => number | undefined;
  /** A tensor's dims for one probe sample, when known: per-channel passes reduce tensors of rank ≥ 3 inside ONNX Runtime. */
  tensorDims?: (tensor: string) => readonly number[] | undefined;
  /** Overrides EXPOSURE_BUDGET_BYTES (tests). */
  exposureBudget?: number;
  /** false: ORT's threads sleep between parallel sections (see SessionSettings.spin). */
  spin?: boolean;
  /** ORT's graph optimization for the pass (default 'disabled': the exposed tensors are the graph's own). */
  level?: OptimizationLevel;
  /** The probe's other inputs for a run over `samples` samples that fetches `fetched` (the half probe's pick walks). */
  runInputs?: (samples: number, fetched: ReadonlySet<string>) => Record<string, ort.Tensor>;
  /**
   * Called once the pass's last ONNX Runtime run is done (what follows is this thread's work and the reducing
   * thread's); collectStatistics: after its last run over the samples (a re-measurement in float32 may follow).
   */
  afterRuns?: () => void;
}

export interface CalibrationResult {
  stats: Map<string, TensorStats>;
  images: number;
  seconds: number;
  /** Passes over the samples the exposure budget needed (1 when every tensor fitted in one). */
  passes: number;
}

/**
 * Runs the model over the samples and hands every exposed float tensor to `visit`, within the exposure budget; after
 * each run, `afterRun` (awaited) may hold the next one back; `capture` keeps model outputs of the first pass. Returns
 * the samples seen per pass and the number of passes.
 */
export async function forEachBatch(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string, visit: (tensor: string, value: ort.Tensor) => void,
  afterRun?: () => Promise<void>, capture?: Capture): Promise<{ samples: number; passes: number }> {
  const plan = planExposure(tensors, options.tensorBytes ?? (() => undefined), samples.batch, options.exposureBudget ?? EXPOSURE_BUDGET_BYTES);
  const total = samples.size * plan.groups.length;
  let done = 0;
  let seen = 0;
  for (const [index, group] of plan.groups.entries()) {
    // The first pass also keeps the outputs `capture` asks for (copied before the tensors are handed on).
    const captured = index === 0 && capture ? capture.names.filter((n) => !group.includes(n)) : [];
    const fetched = [...group, ...captured];
    const fetchedSet = new Set(fetched);
    const session = await openSession(encodeSplit(withExtraOutputs(model, fetched)),
      { threads: options.threads, level: options.level ?? 'disabled', lowMemory: true, spin: options.spin }, label);
    seen = 0;
    let offset = 0;
    try {
      for await (const batch of samples.batches(options.signal)) {
        for (const run of splitBatch(batch, plan.batch, input)) {
          throwIfCancelled(options.signal);
          const outputs = await runFloat(session, input.name, run.data, run.shape, fetched, options.runInputs?.(run.shape[0], fetchedSet));
          if (index === 0) capture?.add(offset, run.shape[0], outputs);
          offset += run.shape[0];
          for (const t of captured) outputs[t]?.dispose?.();
          for (const t of group) {
            const value = outputs[t];
            if (value && (value.type === 'float32' || value.type === 'float16')) visit(t, value);
            value?.dispose?.();
          }
          await afterRun?.();
        }
        seen += batch.count;
        done += batch.count;
        options.onProgress?.(done, total);
      }
    } finally {
      await session.release();
    }
  }
  options.afterRuns?.();
  return { samples: seen, passes: plan.groups.length };
}

/**
 * Runs `model` over `samples`, folding every exposed tensor into `pass` (under the name `route` gives it; null: the
 * tensor was taken elsewhere) on the reducing thread, overlapping the next run. One run's tensors may wait there while
 * the next is computed, so the runs are planned within 2/3 of the exposure budget: the peak stays what one run within
 * the whole budget costs when folded here.
 */
async function foldBatches(pass: ReducePass, model: ModelProto, tensors: readonly string[], samples: SampleSet, input: ModelInput,
  options: CalibrationOptions, label: string, capture?: Capture, route: (tensor: string, value: ort.Tensor) => string | null = (t) => t):
  Promise<{ samples: number; passes: number }> {
  let posted = 0;
  const budget = Math.floor(((options.exposureBudget ?? EXPOSURE_BUDGET_BYTES) * 2) / 3);
  // ORT's threads share the cores with the folding (and any decoding still going on): they must not spin.
  return forEachBatch(model, tensors, samples, input, { ...options, exposureBudget: budget, spin: false }, label,
    (t, value) => {
      const name = route(t, value);
      if (name !== null) posted += pass.add(name, value);
    },
    async () => {
      await pass.settle(posted);
      posted = 0;
    }, capture);
}

/** Folds every exposed tensor into a reduction of `kind` on the reducing thread (see foldBatches). */
export async function reduceTensors(model: ModelProto, tensors: readonly string[], kind: ReductionKind | ((tensor: string) => ReductionKind), samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string, capture?: OutputCapture): Promise<{ results: Map<string, ReductionResult>; samples: number; passes: number }> {
  const pass = new ReducePass(kind);
  try {
    const counted = await foldBatches(pass, model, tensors, samples, input, options, label, capture);
    return { results: await pass.finish(), ...counted };
  } finally {
    pass.drop();
  }
}

/** What a statistics pass gathers besides the histograms of its tensors. */
export interface StatisticsExtras {
  /** Outputs of probe nodes that already reduce a run to a fixed size (e.g. weight rounding's input moments): summed element-wise over runs. */
  summed?: readonly string[];
  /** Probe outputs [1, C] of a run's max |x| per channel (e.g. SmoothQuant's): their maxima over runs. */
  maxed?: readonly string[];
  /** Keeps the model outputs of some of the samples (the check set's FP32 outputs). */
  capture?: OutputCapture;
  /** Channels the pass rescales after its first samples (activation equalization; see rescaled-tensors.ts). */
  rescaling?: Rescaling;
}

export interface StatisticsResult extends CalibrationResult {
  /** The element-wise sums of `summed` (over the samples after the rescaling, when there was one). */
  sums: Map<string, Float64Array>;
  /** The sums of `summed` over the samples before the rescaling (null without one): of the tensors as they were. */
  sumsBeforeRescaling: Map<string, Float64Array> | null;
  /** The factors the rescaling divided each rescaled tensor's channels by (empty without one). */
  rescaledBy: ReadonlyMap<string, Float32Array>;
  maxima: Map<string, Float32Array>;
}

/**
 * Histogram statistics of `tensors` over `samples`, with what `extras` asks for in the same pass. With a rescaling,
 * the statistics are those of the rescaled model over every sample.
 */
export async function collectStatistics(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string, extras: StatisticsExtras = {}): Promise<StatisticsResult> {
  const started = performance.now();
  const { summed = [], maxed = [], capture, rescaling } = extras;
  // Large tensors with known dims leave ORT in half precision beside their exact extent (half-exposure.ts); those to be
  // rescaled leave it in float32 until they are.
  const half = halfPrecisionProbe(model, tensors, options.tensorDims, rescaling?.tensors);
  const kinds = new Map<string, ReductionKind>([...tensors.map((t) => [t, 'histogram'] as const), ...summed.map((t) => [t, 'sum'] as const),
    ...maxed.map((t) => [t, 'channel-max'] as const)]);
  const sourceOf = new Map<string, string>();
  for (const [t, e] of half.exposed) {
    kinds.delete(t);
    kinds.set(e.values, 'half-histogram');
    kinds.set(e.extent, 'extent');
    sourceOf.set(e.values, t);
  }
  // Before a rescaling, the summed outputs are folded under names of their own (the caller rescales those sums).
  const before = new Map<string, string>(rescaling ? summed.map((t) => [t, `${t} (before rescaling)`]) : []);
  const beforeNames = new Set<string>(before.values());
  /** Outputs of a few values per channel (a rescaling's channel extents). */
  const perChannel = new Set<string>();
  // A float16 copy takes half its source's bytes; an extent, two floats; a run's maxima, next to nothing.
  const tensorBytes = (t: string): number | undefined => {
    const source = sourceOf.get(t);
    if (source !== undefined) return (options.tensorBytes?.(source) ?? 0) / 2 || undefined;
    const kind = kinds.get(t);
    return kind === 'extent' || kind === 'channel-max' || perChannel.has(t) ? 8 : options.tensorBytes?.(t);
  };
  const walks = new PickWalks(half.exposed);
  // afterRuns: once, after the last run over the samples (not after the first samples of a rescaled pass).
  const { afterRuns, ...given } = options;
  const passOptions = { ...given, tensorBytes, runInputs: (n: number, fetched: ReadonlySet<string>) => walks.feeds(n, fetched) };
  const pass = new ReducePass((t) => kinds.get(t) ?? (beforeNames.has(t) ? 'sum' : 'histogram'));
  let results: Map<string, ReductionResult>;
  let images: number;
  let passes: number;
  /** The model the statistics describe (the rescaled one after a rescaling). */
  let described = model;
  let rescaledBy: ReadonlyMap<string, Float32Array> = new Map();
  try {
    if (!rescaling) {
      ({ samples: images, passes } = await foldBatches(pass, half.model, [...kinds.keys()], samples, input, { ...passOptions, afterRuns }, label, capture));
    } else {
      const first = Math.min(rescaling.samples, samples.size);
      const kept = new RescaledTensors(rescaling.tensors, options.tensorDims ?? (() => undefined), half.exposed);
      const probe = kept.probe(half.model);
      for (const t of probe.outputs) perChannel.add(t);
      // Progress over the whole pass: the samples before the rescaling, then the others.
      const progressOf = (from: number, count: number) => (done: number, total: number) => options.onProgress?.(from + Math.round((done / total) * count), samples.size);
      const unexposed = kept.unexposed;
      const measured = await foldBatches(pass, probe.model, [...[...kinds.keys()].filter((t) => !unexposed.has(t)), ...probe.outputs],
        samples.slice(0, first), input, { ...passOptions, onProgress: progressOf(0, first), ...(samples.size > first ? {} : { afterRuns }) }, label, capture,
        (t, value) => (kept.take(t, value, (x) => walks.startOf(x)) ? null : before.get(t) ?? t));
      const { model: rescaled, scales } = rescaling.rescale(kept.maxima());
      // Divided on the reducing thread, before it folds the next runs, while this thread opens the rescaled model's session.
      for (const u of kept.updates(scales)) pass.addData(u.tensor, u.data, u.dims, u.divide);
      described = rescaled;
      rescaledBy = scales;
      const next = halfPrecisionProbe(rescaled, tensors, options.tensorDims);
      requireSameExposure(half.exposed, next.exposed);
      const rest = samples.size > first ? await foldBatches(pass, next.model, [...kinds.keys()], samples.slice(first, samples.size - first), input,
        { ...passOptions, onProgress: progressOf(first, samples.size - first), afterRuns }, label, capture && shiftedCapture(capture, first)) : { samples: 0, passes: 0 };
      images = measured.samples + rest.samples;
      passes = Math.max(measured.passes, rest.passes);
    }
    results = await pass.finish();
  } finally {
    pass.drop();
  }
  const stats = new Map<string, TensorStats>();
  const again: string[] = [];
  for (const t of tensors) {
    const e = half.exposed.get(t);
    if (e) {
      const counts = results.get(e.values);
      const extent = results.get(e.extent);
      const fromHalf = counts?.kind === 'half-histogram' && extent?.kind === 'extent' ? statsFromHalf(counts.stats, extent) : null;
      if (fromHalf) stats.set(t, fromHalf);
      else again.push(t);
      continue;
    }
    const result = results.get(t);
    stats.set(t, result?.kind === 'histogram' ? TensorStats.fromState(result.stats) : new TensorStats());
  }
  let extraPasses = 0;
  if (again.length > 0) {
    // Ranges a half cannot hold (rare: beyond ±65504, or tiny): those tensors once more, in float32.
    const redo = await collectStatistics(described, again, samples, input, { ...given, tensorDims: undefined }, label);
    for (const [t, s] of redo.stats) stats.set(t, s);
    extraPasses = redo.passes;
  }
  const sums = new Map<string, Float64Array>();
  const maxima = new Map<string, Float32Array>();
  for (const [t, r] of results) {
    if (r.kind === 'sum' && !beforeNames.has(t)) sums.set(t, r.sum);
    else if (r.kind === 'channel-max') maxima.set(t, r.maxima);
  }
  const sumsBeforeRescaling = rescaling ? new Map(summed.flatMap((t) => {
    const r = results.get(before.get(t)!);
    return r?.kind === 'sum' ? [[t, r.sum] as const] : [];
  })) : null;
  return { stats, sums, sumsBeforeRescaling, rescaledBy, maxima, images, seconds: (performance.now() - started) / 1000, passes: passes + extraPasses };
}

/** The outputs a pass keeps: its own, or those of a pass whose samples start further on. */
type Capture = Pick<OutputCapture, 'names' | 'add'>;

/** `capture` for a pass over the samples from `first` on (its runs count their samples from 0). */
function shiftedCapture(capture: Capture, first: number): Capture {
  return { names: capture.names, add: (offset, samples, outputs) => capture.add(offset + first, samples, outputs) };
}

/** The rescaled model's probe must expose each tensor as the first one did: the picks walk on across both. */
function requireSameExposure(first: ReadonlyMap<string, HalfExposure>, next: ReadonlyMap<string, HalfExposure>): void {
  const key = (e: HalfExposure) => `${e.values}|${e.extent}|${e.walk.start}|${e.walk.stride}|${e.walk.perSample}`;
  const same = first.size === next.size && [...first].every(([t, e]) => next.has(t) && key(next.get(t)!) === key(e));
  if (!same) throw new InternalError('the rescaled model\'s statistics probe exposes its tensors differently from the first one');
}

/**
 * A copy of `model` in which every tensor of rank ≥ 3 ([N, C, …, W]) is reduced inside ONNX Runtime before it is
 * exposed — max |x| over all its spatial dims (GlobalMaxPool of Abs: exact), or the mean over its last dim only (a row
 * of a few hundred values summed in float32 stays exact to ~1e-7; a whole 112×112 plane would not, and bias shifts are
 * differences of such means) — so that a per-channel pass copies out [N, C, 1…] or [N, C, …] without W, not the whole
 * tensor, and ORT may optimize the graph. Tensors of unknown rank or rank < 3 are exposed as they are. Returns the
 * tensor each one is read from.
 */
export function reducedPerChannel(model: ModelProto, tensors: readonly string[], reduce: 'max-abs' | 'mean',
  dimsOf: (tensor: string) => readonly number[] | undefined): { model: ModelProto; exposed: Map<string, string> } {
  const graph = new Graph(model.graph!);
  const opset = opsetVersion(model);
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  let lastAxis: string | null = null;
  const exposed = new Map<string, string>();
  for (const t of tensors) {
    const dims = dimsOf(t);
    if (dims === undefined || dims.length < 3) {
      exposed.set(t, t);
      continue;
    }
    const out = graph.uniqueName(`${t}_per_channel_${reduce}`);
    if (reduce === 'mean') {
      nodes.push(reduceNode('ReduceMean', t, out, graph.uniqueName(`${out}_ReduceMean`), [-1], false, opset, () => {
        if (!lastAxis) {
          lastAxis = graph.uniqueName('per_channel_last_axis');
          initializers.push(makeTensor(lastAxis, [1], BigInt64Array.of(-1n)));
        }
        return lastAxis;
      }));
    } else {
      const abs = graph.uniqueName(`${t}_abs`);
      nodes.push(makeNode('Abs', [t], [abs], graph.uniqueName(`${abs}_Abs`)),
        makeNode('GlobalMaxPool', [abs], [out], graph.uniqueName(`${out}_GlobalMaxPool`)));
    }
    exposed.set(t, out);
  }
  const g = model.graph!;
  return { model: nodes.length > 0 ? { ...model, graph: { ...g, node: [...g.node, ...nodes], initializer: [...g.initializer, ...initializers] } } : model,
    exposed };
}

/** Runs a per-channel reduction of `tensors`, reduced inside ORT where their rank is known (see reducedPerChannel). */
async function reduceChannels(model: ModelProto, tensors: readonly string[], reduce: 'max-abs' | 'mean', samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, ReductionResult>> {
  const probe = reducedPerChannel(model, tensors, reduce, options.tensorDims ?? (() => undefined));
  const reducedInGraph = [...probe.exposed].filter(([t, e]) => t !== e).length;
  // Whole tensors exposed need the graph as it is; reduced ones are new outputs ORT keeps through its optimizations.
  const level: OptimizationLevel = reducedInGraph === tensors.length ? 'all' : options.level ?? 'disabled';
  // A reduced tensor counts as its source: ORT holds the source while it runs, so the runs keep the batch they had
  // when whole tensors were exposed (a 640×640 detector's bias pass at batch 8 instead took 0.5 GB more).
  const sourceOf = new Map([...probe.exposed].map(([t, e]) => [e, t] as const));
  const tensorBytes = (e: string): number | undefined => options.tensorBytes?.(sourceOf.get(e) ?? e);
  const { results } = await reduceTensors(probe.model, [...new Set(probe.exposed.values())], reduce === 'mean' ? 'channel-sum' : 'channel-max',
    samples, input, { ...options, level, tensorBytes }, label);
  return new Map(tensors.flatMap((t) => {
    const r = results.get(probe.exposed.get(t)!);
    return r ? [[t, r] as const] : [];
  }));
}

/** Per-channel maximum of |x| along dim 1 (channels of NCHW / features of [N, F]) for each tensor. */
export async function collectChannelMaxima(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float32Array>> {
  const results = await reduceChannels(model, tensors, 'max-abs', samples, input, options, label);
  const maxima = new Map<string, Float32Array>();
  for (const [t, result] of results) if (result.kind === 'channel-max') maxima.set(t, result.maxima);
  return maxima;
}

/**
 * Per-channel mean along dim 1 (channels of NCHW / features of [N, F]) for each tensor: of every sample's own mean
 * when the tensor is reduced inside ORT (samples of one size weigh the same either way).
 */
export async function collectChannelMeans(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float64Array>> {
  const results = await reduceChannels(model, tensors, 'mean', samples, input, options, label);
  const means = new Map<string, Float64Array>();
  for (const [t, r] of results) if (r.kind === 'channel-sum' && r.sums.count > 0) means.set(t, r.sums.sum.map((v) => v / r.sums.count));
  return means;
}
