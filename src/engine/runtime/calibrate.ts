// Calibration: run the FP32 model over the calibration samples with the tensors that need statistics exposed as
// extra outputs, folding each batch into streaming statistics. Memory stays bounded whatever the data-set size and
// the model: samples stream (sample-set.ts), and the exposed tensors follow a byte budget (exposure.ts) — smaller
// runs, and several passes over the samples when one sample's tensors alone are too many. Two kinds of statistics:
// per-tensor (min/max + growing histogram, for ranges) and per-channel maxima (for activation equalization).
import type * as ort from 'onnxruntime-node';
import { encodeModel, ModelProto } from '../../onnx/proto';
import { TensorStats } from '../../quant/histogram';
import type { ModelInput } from '../../data/model-input';
import { withExtraOutputs } from './prepare';
import { openSession, runFloat } from './session';
import { throwIfCancelled } from '../cancel';
import { EXPOSURE_BUDGET_BYTES, planExposure } from './exposure';
import { splitBatch, SampleSet } from './sample-set';

export interface CalibrationOptions {
  threads: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Bytes a tensor takes for one sample, when known (from the probe): sizes the runs to the exposure budget. */
  tensorBytes?: (tensor: string) => number | undefined;
  /** Overrides EXPOSURE_BUDGET_BYTES (tests). */
  exposureBudget?: number;
}

export interface CalibrationResult {
  stats: Map<string, TensorStats>;
  images: number;
  seconds: number;
  /** Passes over the samples the exposure budget needed (1 when every tensor fitted in one). */
  passes: number;
}

/**
 * Runs the model over the samples and hands every exposed float tensor to `visit`, within the exposure budget.
 * Returns the samples seen per pass and the number of passes.
 */
export async function forEachBatch(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string, visit: (tensor: string, value: ort.Tensor) => void): Promise<{ samples: number; passes: number }> {
  const plan = planExposure(tensors, options.tensorBytes ?? (() => undefined), samples.batch, options.exposureBudget ?? EXPOSURE_BUDGET_BYTES);
  const total = samples.size * plan.groups.length;
  let done = 0;
  let seen = 0;
  for (const group of plan.groups) {
    const session = await openSession(encodeModel(withExtraOutputs(model, group)), { threads: options.threads, level: 'disabled', lowMemory: true }, label);
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

export async function collectStatistics(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<CalibrationResult> {
  const started = performance.now();
  const stats = new Map<string, TensorStats>(tensors.map((t) => [t, new TensorStats()]));
  const { samples: images, passes } = await forEachBatch(model, tensors, samples, input, options, label,
    (t, value) => stats.get(t)!.update(value.data as Float32Array));
  return { stats, images, seconds: (performance.now() - started) / 1000, passes };
}

/** For a [N, C, ...] tensor: calls visit(channel, start, end) for every sample's run of one channel's values. */
export function forEachChannelRun(dims: readonly number[], visit: (channel: number, start: number, end: number) => void): void {
  const channels = dims[1] ?? 1;
  const inner = dims.slice(2).reduce((a, b) => a * b, 1);
  for (let n = 0; n < dims[0]; n++) {
    for (let c = 0; c < channels; c++) {
      const start = (n * channels + c) * inner;
      visit(c, start, start + inner);
    }
  }
}

/** Per-channel maximum of |x| along dim 1 (channels of NCHW / features of [N, F]) for each tensor. */
export async function collectChannelMaxima(model: ModelProto, tensors: readonly string[], samples: SampleSet,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float32Array>> {
  const maxima = new Map<string, Float32Array>();
  await forEachBatch(model, tensors, samples, input, options, label, (t, value) => {
    const data = value.data as Float32Array;
    let m = maxima.get(t);
    if (!m) { m = new Float32Array(value.dims[1] ?? 1); maxima.set(t, m); }
    const top = m;
    forEachChannelRun(value.dims, (c, start, end) => {
      let highest = top[c];
      for (let i = start; i < end; i++) {
        const v = data[i];
        const a = v < 0 ? -v : v;
        if (a > highest) highest = a;
      }
      top[c] = highest;
    });
  });
  return maxima;
}
