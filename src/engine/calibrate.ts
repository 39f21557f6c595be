// Calibration: run the FP32 model over the calibration images with the tensors that need ranges exposed as extra
// outputs, and fold each batch into streaming per-tensor statistics (min/max + growing histogram). Memory stays
// bounded by one batch of activations plus fixed-size histograms, whatever the data-set size.
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

export async function collectStatistics(model: ModelProto, tensors: readonly string[], dataset: Dataset, indices: readonly number[],
  input: ModelInput, options: CalibrationOptions, label: string): Promise<CalibrationResult> {
  const started = performance.now();
  const calibrationModel = withExtraOutputs(model, tensors);
  const session = await openSession(encodeModel(calibrationModel), { threads: options.threads, level: 'disabled' }, label);
  const stats = new Map<string, TensorStats>(tensors.map((t) => [t, new TensorStats()]));
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
        if (value && value.type === 'float32') stats.get(t)!.update(value.data as Float32Array);
        value?.dispose?.();
      }
      done += batches[b].length;
      options.onProgress?.(done, indices.length);
    }
    if (next) await next.catch(() => undefined);
  } finally {
    await session.release();
  }
  return { stats, images: done, seconds: (performance.now() - started) / 1000 };
}
