// Calibration: run the FP32 model over the calibration samples with the tensors that need statistics exposed as
// extra outputs, folding each batch into streaming statistics. Memory stays bounded by one batch of activations plus
// fixed-size accumulators, whatever the data-set size. Two kinds of statistics: per-tensor (min/max + growing
// histogram, for ranges) and per-channel maxima (for activation equalization).
import type * as ort from 'onnxruntime-node';
import { encodeModel, ModelProto } from '../onnx/proto';
import { TensorStats } from '../quant/histogram';
import { Dataset, readBatch } from './dataset';
import { batchShape, ModelInput } from './model-input';
import { withExtraOutputs } from './prepare';
import { openSession, runFloat } from './runtime';
import { throwIfCancelled } from './cancel';

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

/** Runs the model over `indices` in batches and hands every exposed float tensor to `visit`. */
async function forEachBatch(model: ModelProto, tensors: readonly string[], dataset: Dataset, indices: readonly number[],
  input: ModelInput, options: CalibrationOptions, label: string, visit: (tensor: string, value: ort.Tensor) => void): Promise<number> {
  const session = await openSession(encodeModel(withExtraOutputs(model, tensors)), { threads: options.threads, level: 'disabled', lowMemory: true }, label);
  const batches: number[][] = [];
  for (let i = 0; i < indices.length; i += options.batch) batches.push(indices.slice(i, i + options.batch));
  let done = 0;
  try {
    let next = batches.length > 0 ? readBatch(dataset, batches[0], input) : undefined;
    for (let b = 0; b < batches.length; b++) {
      throwIfCancelled(options.signal);
      const current = await next!;
      next = b + 1 < batches.length ? readBatch(dataset, batches[b + 1], input) : undefined;
      const outputs = await runFloat(session, input.name, current.data, batchShape(input, batches[b].length), tensors);
      for (const t of tensors) {
        const value = outputs[t];
        if (value && value.type === 'float32') visit(t, value);
        value?.dispose?.();
      }
      done += batches[b].length;
      options.onProgress?.(done, indices.length);
    }
    if (next) await next.catch(() => undefined);
  } finally {
    await session.release();
  }
  return done;
}

export async function collectStatistics(model: ModelProto, tensors: readonly string[], dataset: Dataset, indices: readonly number[],
  input: ModelInput, options: CalibrationOptions, label: string): Promise<CalibrationResult> {
  const started = performance.now();
  const stats = new Map<string, TensorStats>(tensors.map((t) => [t, new TensorStats()]));
  const images = await forEachBatch(model, tensors, dataset, indices, input, options, label,
    (t, value) => stats.get(t)!.update(value.data as Float32Array));
  return { stats, images, seconds: (performance.now() - started) / 1000 };
}

/** Per-channel maximum of |x| along dim 1 (channels of NCHW / features of [N, F]) for each tensor. */
export async function collectChannelMaxima(model: ModelProto, tensors: readonly string[], dataset: Dataset, indices: readonly number[],
  input: ModelInput, options: CalibrationOptions, label: string): Promise<Map<string, Float32Array>> {
  const maxima = new Map<string, Float32Array>();
  await forEachBatch(model, tensors, dataset, indices, input, options, label, (t, value) => {
    const dims = value.dims;
    const channels = dims[1] ?? 1;
    const inner = dims.slice(2).reduce((a, b) => a * b, 1);
    const data = value.data as Float32Array;
    let m = maxima.get(t);
    if (!m) { m = new Float32Array(channels); maxima.set(t, m); }
    for (let n = 0; n < dims[0]; n++) {
      for (let c = 0; c < channels; c++) {
        let top = m[c];
        const base = (n * channels + c) * inner;
        for (let i = 0; i < inner; i++) {
          const v = data[base + i];
          const a = v < 0 ? -v : v;
          if (a > top) top = a;
        }
        m[c] = top;
      }
    }
  });
  return maxima;
}
