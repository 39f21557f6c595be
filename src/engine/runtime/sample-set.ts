// The samples a pass runs over (calibration, a check set, the evaluation set) behind one interface: decoded once and
// kept when they fit a memory budget, else decoded again on every pass (the next batch decoding while the current one
// runs), so memory never grows with the data-set size. Every pass yields batches in the same order with their ids
// and labels.
import { Dataset, readBatch } from '../../data/dataset';
import { sampleLength } from '../../data/dataset-common';
import type { ModelInput } from '../../data/model-input';
import { throwIfCancelled } from '../cancel';

export interface SampleBatch {
  /** `count` samples concatenated, each in the model's layout. */
  data: Float32Array;
  count: number;
  /** Full input shape of this batch (batch first). */
  shape: number[];
  ids: string[];
  labels: (number | null)[];
}

export interface SampleSet {
  /** Number of samples. */
  readonly size: number;
  /** Samples per batch this set yields (the last batch may be smaller). */
  readonly batch: number;
  /** True when the decoded samples are held in memory (passes cost no decoding). */
  readonly inMemory: boolean;
  /** One pass over the samples, batch by batch. */
  batches(signal?: AbortSignal): AsyncGenerator<SampleBatch>;
  /** Samples [from, from + count) as a set of their own (shares decoded batches where it can). */
  slice(from: number, count: number): SampleSet;
}

/** A batch cut into ORT runs of at most `size` samples (a fixed-batch model's batches are never cut). */
export function* splitBatch(batch: SampleBatch, size: number, input: ModelInput): Generator<{ data: Float32Array; shape: number[] }> {
  if (input.fixedBatch !== null || batch.count <= size) {
    yield { data: batch.data, shape: batch.shape };
    return;
  }
  const per = batch.data.length / batch.count;
  for (let i = 0; i < batch.count; i += size) {
    const n = Math.min(size, batch.count - i);
    yield { data: batch.data.subarray(i * per, (i + n) * per), shape: [n, ...batch.shape.slice(1)] };
  }
}

/** Decoded samples are kept for repeated passes only below this many bytes (float32 inputs). */
export const SAMPLE_CACHE_BYTES = 384 * 2 ** 20;

/** Bytes one decoded sample of `input` takes as float32 (at its size: the largest, when samples have their own). */
export function sampleBytes(input: ModelInput): number {
  return sampleLength(input) * 4;
}

/**
 * The samples `indices` of `dataset` in batches of `batch`: decoded now and kept when they fit `cacheBytes` and the
 * caller will read them more than once (`passes` ≥ 2), else streamed.
 */
export async function openSampleSet(dataset: Dataset, indices: readonly number[], input: ModelInput, batch: number,
  options: { passes?: number; cacheBytes?: number; signal?: AbortSignal } = {}): Promise<SampleSet> {
  const stream = new StreamedSamples(dataset, [...indices], input, batch);
  const fits = indices.length * sampleBytes(input) <= (options.cacheBytes ?? SAMPLE_CACHE_BYTES);
  if ((options.passes ?? 2) < 2 || !fits) return stream;
  return materialize(stream, options.signal);
}

/** Reads every batch of `set` once and keeps them. */
export async function materialize(set: SampleSet, signal?: AbortSignal): Promise<SampleSet> {
  if (set.inMemory) return set;
  const batches: SampleBatch[] = [];
  for await (const b of set.batches(signal)) batches.push(b);
  return new MemorySamples(batches, set.batch);
}

class StreamedSamples implements SampleSet {
  readonly inMemory = false;
  constructor(private readonly dataset: Dataset, private readonly indices: number[], private readonly input: ModelInput,
    readonly batch: number) {}

  get size(): number { return this.indices.length; }

  async *batches(signal?: AbortSignal): AsyncGenerator<SampleBatch> {
    const read = (from: number): Promise<SampleBatch> | null => {
      if (from >= this.indices.length) return null;
      const chunk = this.indices.slice(from, from + this.batch);
      const pending = readBatch(this.dataset, chunk, this.input)
        .then((b) => ({ ...b, count: chunk.length, shape: [chunk.length, ...b.shape] }));
      pending.catch(() => undefined); // awaited below; a pass abandoned early must not leave an unhandled rejection
      return pending;
    };
    let pending = read(0);
    for (let from = 0; pending; from += this.batch) {
      throwIfCancelled(signal);
      const current = await pending;
      pending = read(from + this.batch);
      yield current;
    }
  }

  slice(from: number, count: number): SampleSet {
    return new StreamedSamples(this.dataset, this.indices.slice(from, from + count), this.input, this.batch);
  }
}

class MemorySamples implements SampleSet {
  readonly inMemory = true;
  readonly size: number;
  constructor(private readonly stored: SampleBatch[], readonly batch: number) {
    this.size = stored.reduce((n, b) => n + b.count, 0);
  }

  async *batches(signal?: AbortSignal): AsyncGenerator<SampleBatch> {
    for (const b of this.stored) {
      throwIfCancelled(signal);
      yield b;
    }
  }

  /** Whole stored batches overlapping [from, from + count), cut at the edges when a batch straddles them. */
  slice(from: number, count: number): SampleSet {
    const out: SampleBatch[] = [];
    let start = 0;
    for (const b of this.stored) {
      const lo = Math.max(from, start);
      const hi = Math.min(from + count, start + b.count);
      if (lo < hi) {
        const per = b.data.length / b.count;
        const [i, j] = [lo - start, hi - start];
        out.push(i === 0 && j === b.count ? b : {
          data: b.data.subarray(i * per, j * per), count: j - i, shape: [j - i, ...b.shape.slice(1)], ids: b.ids.slice(i, j), labels: b.labels.slice(i, j),
        });
      }
      start += b.count;
    }
    return new MemorySamples(out, this.batch);
  }
}
