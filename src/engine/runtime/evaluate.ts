// Evaluation: FP32 and INT8 on the same samples. With labels: top-1/top-5 of both; always: top-1 agreement and the
// INT8 output's SQNR and cosine against FP32. Samples are decoded once (EvalSet) so repeated INT8 trials reuse them.
import type * as ort from 'onnxruntime-node';
import type { AccuracyResult, TopK } from '../../common/report';
import { Dataset, readBatch } from '../../data/dataset';
import { batchShape, ModelInput } from '../../data/model-input';
import { openSession, runFloat } from './session';
import { throwIfCancelled } from '../cancel';

export interface EvalSet {
  ids: string[];
  labels: (number | null)[];
  /** Preprocessed input batches, each with its sample count. */
  batches: { data: Float32Array; count: number }[];
}

export async function loadEvalSet(dataset: Dataset, indices: readonly number[], input: ModelInput, batch: number): Promise<EvalSet> {
  const set: EvalSet = { ids: [], labels: [], batches: [] };
  for (let i = 0; i < indices.length; i += batch) {
    const chunk = indices.slice(i, i + batch);
    const read = await readBatch(dataset, chunk, input);
    set.ids.push(...read.ids);
    set.labels.push(...read.labels);
    set.batches.push({ data: read.data, count: chunk.length });
  }
  return set;
}

/** First output of the model for every sample, flattened per sample. */
export async function runOutputs(model: Uint8Array | string, set: EvalSet, input: ModelInput, label: string,
  options: { threads?: number; signal?: AbortSignal; onProgress?: (done: number, total: number) => void } = {}): Promise<Float32Array[]> {
  const session = await openSession(model, { threads: options.threads ?? 0, level: 'all' }, label);
  const outputName = session.outputNames[0];
  const results: Float32Array[] = [];
  const total = set.ids.length;
  try {
    for (const b of set.batches) {
      throwIfCancelled(options.signal);
      const out = await runFloat(session, input.name, b.data, batchShape(input, b.count), [outputName]);
      const tensor: ort.Tensor = out[outputName];
      const data = Float32Array.from(tensor.data as Float32Array);
      const per = data.length / b.count;
      for (let s = 0; s < b.count; s++) results.push(data.slice(s * per, (s + 1) * per));
      options.onProgress?.(results.length, total);
    }
  } finally {
    await session.release();
  }
  return results;
}

/** Indices of the k largest values, largest first. */
export function topK(values: Float32Array, k: number): number[] {
  const best: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (best.length < k || values[i] > values[best[best.length - 1]]) {
      let pos = best.length < k ? best.length : k - 1;
      if (best.length < k) best.push(i);
      while (pos > 0 && values[best[pos - 1]] < values[i]) { best[pos] = best[pos - 1]; pos--; }
      best[pos] = i;
    }
  }
  return best;
}

export function sqnrDb(reference: Float32Array, test: Float32Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i] * reference[i];
    const d = reference[i] - test[i];
    noise += d * d;
  }
  if (noise === 0) return 200;
  if (signal === 0) return -200;
  return 10 * Math.log10(signal / noise);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0; let na = 0; let nb = 0;
  for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
  return na === 0 || nb === 0 ? (na === nb ? 1 : 0) : dot / Math.sqrt(na * nb);
}

/**
 * Label offset for classifiers with a background class (1001 outputs for 1000 labels, TF-slim style).
 */
function labelOffset(classes: number, labels: (number | null)[]): number {
  const maxLabel = Math.max(-1, ...labels.map((l) => l ?? -1));
  return classes === 1001 && maxLabel < 1000 ? 1 : 0;
}

export function scoreOutputs(fp32: Float32Array[], int8: Float32Array[], labels: (number | null)[]): AccuracyResult {
  const n = fp32.length;
  const labelled = n > 0 && labels.every((l) => l !== null);
  const classes = fp32[0]?.length ?? 0;
  const offset = labelled ? labelOffset(classes, labels) : 0;
  const k = Math.min(5, classes);
  let agree = 0; let sqnrSum = 0; let cosSum = 0;
  const hits = { fp32: [0, 0], int8: [0, 0] };
  for (let s = 0; s < n; s++) {
    const topF = topK(fp32[s], k);
    const topQ = topK(int8[s], k);
    if (topF[0] === topQ[0]) agree++;
    sqnrSum += Math.min(200, sqnrDb(fp32[s], int8[s]));
    cosSum += cosine(fp32[s], int8[s]);
    if (labelled) {
      const target = (labels[s] as number) + offset;
      if (topF[0] === target) hits.fp32[0]++;
      if (topF.includes(target)) hits.fp32[1]++;
      if (topQ[0] === target) hits.int8[0]++;
      if (topQ.includes(target)) hits.int8[1]++;
    }
  }
  const acc = (h: number[]): TopK => ({ top1: h[0] / n, top5: k >= 5 ? h[1] / n : null });
  const fp32Acc = labelled ? acc(hits.fp32) : null;
  const int8Acc = labelled ? acc(hits.int8) : null;
  return {
    n, labelled, fp32: fp32Acc, int8: int8Acc,
    agreement: n ? agree / n : 0,
    top1DropPoints: fp32Acc && int8Acc ? Math.round((fp32Acc.top1 - int8Acc.top1) * 100 * 1e6) / 1e6 : null,
    outputSqnrDb: n ? sqnrSum / n : 0,
    outputCosine: n ? cosSum / n : 0,
  };
}

