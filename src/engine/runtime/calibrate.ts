// Calibration: run the FP32 model over the calibration samples with the tensors that need statistics exposed as
// extra outputs, folding each batch into streaming statistics. Memory stays bounded by one batch of activations plus
// fixed-size accumulators, whatever the data-set size. Two kinds of statistics: per-tensor (min/max + growing
// histogram, for ranges) and per-channel maxima (for activation equalization).
import type * as ort from 'onnxruntime-node';
import { encodeModel, ModelProto } from '../../onnx/proto';
import { TensorStats } from '../../quant/histogram';
import { Dataset, readBatch } from '../../data/dataset';
import { batchShape, ModelInput } from '../../data/model-input';
import { withExtraOutputs } from './prepare';
import { EvalSet, loadEvalSet } from './evaluate';
import { openSession, runFloat } from './session';
import { throwIfCancelled } from '../cancel';

export interface CalibrationOptions {
  batch: number;
  threads: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface CalibrationResult {
  stats: Map<string, TensorStats>;
  images: number;
  seconds: number;
}

/**
 * Where calibration batches come from: decoded on the fly from the data set (streaming, any size), or decoded once
 * and kept (when several passes read the same samples and they fit in memory).
 */
export type CalibrationSamples =
  | { kind: 'stream'; dataset: Dataset; indices: readonly number[] }
  | { kind: 'memory'; set: EvalSet };

/** Keeps decoded samples in memory for repeated passes only below this many bytes. */
export const SAMPLE_CACHE_BYTES = 512 * 2 ** 20;

export async function calibrationSamples(dataset: Dataset, indices: readonly number[], input: ModelInput, batch: number,
  passes: number): Promise<CalibrationSamples> {
  const bytes = indices.length * input.shape.slice(1).reduce((a, b) => a * b, 1) * 4;
  if (passes < 2 || bytes > SAMPLE_CACHE_BYTES) return { kind: 'stream', dataset, indices };
  return { kind: 'memory', set: await loadEvalSet(dataset, indices, input, batch) };
}

/** The first `count` samples of a source (for passes that need fewer images). */
export function firstSamples(samples: CalibrationSamples, count: number, batch: number): CalibrationSamples {
  if (samples.kind === 'stream') return { ...samples, indices: samples.indices.slice(0, count) };
  const batches = samples.set.batches.slice(0, Math.max(1, Math.ceil(count / batch)));
  return { kind: 'memory', set: { ...samples.set, batches } };
}

function sampleCount(samples: CalibrationSamples): number {
  return samples.kind === 'stream' ? samples.indices.length : samples.set.batches.reduce((n, b) => n + b.count, 0);
}

/** Runs the model over the samples in batches and hands every exposed float tensor to `visit`. */
export async function forEachBatch(model: ModelProto, tensors: readonly string[], samples: CalibrationSamples,
  input: ModelInput, options: CalibrationOptions, label: string, visit: (tensor: string, value: ort.Tensor) => void): Promise<number> {
  const session = await openSession(encodeModel(withExtraOutputs(model, tensors)), { threads: options.threads, level: 'disabled', lowMemory: true }, label);
  const total = sampleCount(samples);
  const batches: number[][] = [];
  if (samples.kind === 'stream') {
    for (let i = 0; i < samples.indices.length; i += options.batch) batches.push(samples.indices.slice(i, i + options.batch));
  } else {
    samples.set.batches.forEach((_, i) => batches.push([i]));
  }
  const load = (b: number): Promise<{ data: Float32Array; count: number }> => (samples.kind === 'stream'
    ? readBatch(samples.dataset, batches[b], input).then((r) => ({ data: r.data, count: batches[b].length }))
    : Promise.resolve(samples.set.batches[b]));
  let done = 0;
  try {
    let next = batches.length > 0 ? load(0) : undefined;
    for (let b = 0; b < batches.length; b++) {
      throwIfCancelled(options.signal);
      const current = await next!;
      next = b + 1 < batches.length ? load(b + 1) : undefined;
      const outputs = await runFloat(session, input.name, current.data, batchShape(input, current.count), tensors);
      for (const t of tensors) {
        const value = outputs[t];
        if (value && value.type === 'float32') visit(t, value);
        value?.dispose?.();
      }
      done += current.count;
      options.onProgress?.(done, total);
    }
    if (next) await next.catch(() => undefined);
  } finally {
    await session.release();
  }
  return done;
}

export async function collectStatistics(model: ModelProto, tensors: readonly string[], samples: CalibrationSamples,
  input: ModelInput, options: CalibrationOptions, label: string): Promise<CalibrationResult> {
  const started = performance.now();
  const stats = new Map<string, TensorStats>(tensors.map((t) => [t, new TensorStats()]));
  const images = await forEachBatch(model, tensors, samples, input, options, label,
    (t, value) => stats.get(t)!.update(value.data as Float32Array));
  return { stats, images, seconds: (performance.now() - started) / 1000 };
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
export async function collectChannelMaxima(model: ModelProto, tensors: readonly string[], samples: CalibrationSamples,
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

/** Samples [from, from + count) as an EvalSet (decoded now when streaming; shared batches when kept in memory). */
export async function samplesWindow(samples: CalibrationSamples, from: number, count: number, input: ModelInput, batch: number): Promise<EvalSet> {
  if (samples.kind === 'stream') return loadEvalSet(samples.dataset, samples.indices.slice(from, from + count), input, batch);
  const window: EvalSet = { ids: [], labels: [], batches: [] };
  let start = 0;
  for (const b of samples.set.batches) {
    if (start >= from && start < from + count) {
      window.batches.push(b);
      window.ids.push(...samples.set.ids.slice(start, start + b.count));
      window.labels.push(...samples.set.labels.slice(start, start + b.count));
    }
    start += b.count;
  }
  return window;
}
