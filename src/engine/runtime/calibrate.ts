// Calibration: run the FP32 model over the calibration samples with the tensors that need statistics exposed as
// extra outputs, folding each batch into streaming statistics. Memory stays bounded whatever the data-set size and
// the model: samples stream (sample-set.ts), and the exposed tensors follow a byte budget (exposure.ts) — smaller
// runs, and several passes over the samples when one sample's tensors alone are too many. Two kinds of statistics:
// per-tensor (min/max + growing histogram, for ranges) and per-channel maxima (for activation equalization), folded on
// the reducing thread (reducer.ts) while the next batch runs.
import type * as ort from 'onnxruntime-node';
import { encodeModel, ModelProto } from '../../onnx/proto';
import { TensorStats } from '../../quant/histogram';
import type { ReductionKind, ReductionResult } from '../../quant/tensor-reductions';
import type { ModelInput } from '../../data/model-input';
import { withExtraOutputs } from './prepare';
import { openSession, runFloat } from './session';
import { throwIfCancelled } from '../cancel';
import { EXPOSURE_BUDGET_BYTES, planExposure } from './exposure';
import { ReducePass } from './reducer';
import { splitBatch, SampleSet } from './sample-set';

export interface CalibrationOptions {
  threads: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Bytes a tensor takes for one sample, when known (from the probe): sizes the runs to the exposure budget. */
  tensorBytes?: (tensor: string) => number | undefined;
  /** Overrides EXPOSURE_BUDGET_BYTES (tests). */
  exposureBudget?: number;
  /** false: ORT's threads sleep between parallel sections (see SessionSettings.spin). */
  spin?: boolean;
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
 * each run, `afterRun` (awaited) may hold the next one back. Returns the samples seen per pass and the number of passes.
 */
export async function forEachBatch(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string, visit: (tensor: string, value: ort.Tensor) => void,
  afterRun?: () => Promise<void>): Promise<{ samples: number; passes: number }> {
  const plan = planExposure(tensors, options.tensorBytes ?? (() => undefined), samples.batch, options.exposureBudget ?? EXPOSURE_BUDGET_BYTES);
  const total = samples.size * plan.groups.length;
  let done = 0;
  let seen = 0;
  for (const group of plan.groups) {
    const session = await openSession(encodeModel(withExtraOutputs(model, group)),
      { threads: options.threads, level: 'disabled', lowMemory: true, spin: options.spin }, label);
    seen = 0;
    try {
      for await (const batch of samples.batches(options.signal)) {
        for (const run of splitBatch(batch, plan.batch, input)) {
          throwIfCancelled(options.signal);
          const outputs = await runFloat(session, input.name, run.data, run.shape, group);
          for (const t of group) {
            const value = outputs[t];
            if (value && value.type === 'float32') visit(t, value);
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
  return { samples: seen, passes: plan.groups.length };
}

/**
 * Folds every exposed tensor into a reduction of `kind` on the reducing thread, overlapping the next run. One run's
 * tensors may wait there while the next is computed, so the runs are planned within 2/3 of the exposure budget: the
 * peak stays what one run within the whole budget costs when folded here.
 */
export async function reduceTensors(model: ModelProto, tensors: readonly string[], kind: ReductionKind | ((tensor: string) => ReductionKind), samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<{ results: Map<string, ReductionResult>; samples: number; passes: number }> {
  const pass = new ReducePass(kind);
  try {
    let posted = 0;
    const budget = Math.floor(((options.exposureBudget ?? EXPOSURE_BUDGET_BYTES) * 2) / 3);
    // ORT's threads share the cores with the folding (and any decoding still going on): they must not spin.
    const counted = await forEachBatch(model, tensors, samples, input, { ...options, exposureBudget: budget, spin: false }, label,
      (t, value) => { posted += pass.add(t, value); },
      async () => {
        await pass.settle(posted);
        posted = 0;
      });
    return { results: await pass.finish(), ...counted };
  } finally {
    pass.drop();
  }
}

/**
 * Histogram statistics of `tensors`; in the same pass, the element-wise sums over batches of `summed` (outputs of probe
 * nodes that already reduce a run to a fixed size, e.g. weight rounding's input moments).
 */
export async function collectStatistics(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string, summed: readonly string[] = []): Promise<CalibrationResult & { sums: Map<string, Float64Array> }> {
  const started = performance.now();
  const sumSet = new Set(summed);
  const { results, samples: images, passes } = await reduceTensors(model, [...tensors, ...summed], (t) => (sumSet.has(t) ? 'sum' : 'histogram'),
    samples, input, options, label);
  const stats = new Map<string, TensorStats>(tensors.map((t) => {
    const result = results.get(t);
    return [t, result?.kind === 'histogram' ? TensorStats.fromState(result.stats) : new TensorStats()];
  }));
  const sums = new Map<string, Float64Array>();
  for (const [t, r] of results) if (r.kind === 'sum') sums.set(t, r.sum);
  return { stats, sums, images, seconds: (performance.now() - started) / 1000, passes };
}

/** Per-channel maximum of |x| along dim 1 (channels of NCHW / features of [N, F]) for each tensor. */
export async function collectChannelMaxima(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float32Array>> {
  const { results } = await reduceTensors(model, tensors, 'channel-max', samples, input, options, label);
  const maxima = new Map<string, Float32Array>();
  for (const [t, result] of results) if (result.kind === 'channel-max') maxima.set(t, result.maxima);
  return maxima;
}

/** Per-channel mean along dim 1 (channels of NCHW / features of [N, F]) for each tensor. */
export async function collectChannelMeans(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float64Array>> {
  const { results } = await reduceTensors(model, tensors, 'channel-sum', samples, input, options, label);
  const means = new Map<string, Float64Array>();
  for (const [t, r] of results) if (r.kind === 'channel-sum' && r.sums.count > 0) means.set(t, r.sums.sum.map((v) => v / r.sums.count));
  return means;
}
