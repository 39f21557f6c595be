// The samples a pass runs over (calibration, a check set, the evaluation set) behind one interface: decoded once and
// kept when they fit a memory budget, else decoded again on every pass (the next batch decoding while the current one
// runs), so memory never grows with the data-set size. A kept set starts decoding everything at once in the background
// (images decode on worker threads, data/decode-pool): a pass reads each batch as soon as it is ready, so decoding
// overlaps whatever the main thread does meanwhile (model preparation, ONNX Runtime runs). Every pass yields batches in
// the same order with their ids and labels; the first failure (naming the sample's file) ends every later pass.
import { assembleBatch, Dataset, readBatch, Sample } from '../../data/dataset';
import { sampleLength } from '../../data/dataset-common';
import { decodeWorkers, JOBS_AHEAD } from '../../data/decode-pool';
import type { ModelInput } from '../../data/model-input';
import { InternalError } from '../../common/errors';
import { CancelledError, throwIfCancelled } from '../cancel';

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
  /** Samples read from the data set by this set and the sets sliced from it so far (more than `size` when passes stream). */
  readonly decoded: number;
  /** Seconds decoding threads spent on those samples (image data sets; summed over threads). */
  readonly decodeSeconds: number;
  /** One pass over the samples, batch by batch. */
  batches(signal?: AbortSignal): AsyncGenerator<SampleBatch>;
  /** The first sample and its shape (a kept set's, not decoded again). */
  first(signal?: AbortSignal): Promise<ShapedSample>;
  /** Samples [from, from + count) as a set of their own (shares decoded batches where it can). */
  slice(from: number, count: number): SampleSet;
}

/**
 * A batch cut into as few ORT runs of at most `size` samples as can be, of near-equal sizes (8 by at most 7: 4 + 4, not
 * 7 + 1); a fixed-batch model's batches are never cut.
 */
export function* splitBatch(batch: SampleBatch, size: number, input: ModelInput): Generator<{ data: Float32Array; shape: number[] }> {
  if (input.fixedBatch !== null || batch.count <= size) {
    yield { data: batch.data, shape: batch.shape };
    return;
  }
  const per = batch.data.length / batch.count;
  const even = Math.ceil(batch.count / Math.ceil(batch.count / size));
  for (let i = 0; i < batch.count; i += even) {
    const n = Math.min(even, batch.count - i);
    yield { data: batch.data.subarray(i * per, (i + n) * per), shape: [n, ...batch.shape.slice(1)] };
  }
}

/** Decoded samples are kept for repeated passes only below this many bytes (float32 inputs). */
export const SAMPLE_CACHE_BYTES = 384 * 2 ** 20;

/** Samples a kept set reads at once while it fills (their encoded files are in memory meanwhile): every decoding
 *  thread's queue full, and two more read. */
function readsAhead(): number {
  return decodeWorkers() * JOBS_AHEAD + 2;
}

/** Bytes one decoded sample of `input` takes as float32 (at its size: the largest, when samples have their own). */
export function sampleBytes(input: ModelInput): number {
  return sampleLength(input) * 4;
}

/**
 * The samples `indices` of `dataset` in batches of `batch`: kept when they fit `cacheBytes` and the caller will read
 * them more than once (`passes` ≥ 2) — decoding then starts at once, in the background, until `signal` aborts — else
 * streamed.
 */
export async function openSampleSet(dataset: Dataset, indices: readonly number[], input: ModelInput, batch: number,
  options: { passes?: number; cacheBytes?: number; signal?: AbortSignal } = {}): Promise<SampleSet> {
  const source: Source = { dataset, input, reads: { samples: 0, seconds: 0 } };
  const fits = indices.length * sampleBytes(input) <= (options.cacheBytes ?? SAMPLE_CACHE_BYTES);
  if ((options.passes ?? 2) < 2 || !fits) return new StreamedSamples(source, [...indices], batch);
  const filling = fill(source, indices, batch, options.signal);
  return new MemorySamples(filling.batches, batch, source.reads, filling.first);
}

/** Reads every batch of `set` once and keeps them. */
export async function materialize(set: SampleSet, signal?: AbortSignal): Promise<SampleSet> {
  if (set.inMemory) return set;
  const stored: StoredBatch[] = [];
  for await (const b of set.batches(signal)) stored.push({ count: b.count, batch: Promise.resolve(b) });
  return new MemorySamples(stored, set.batch, { samples: 0, seconds: 0 });
}

/** Samples a set (and the sets sliced from it) read, and the seconds spent decoding them. */
interface Reads {
  samples: number;
  seconds: number;
}

/** What a set reads from, and what it read. */
interface Source {
  dataset: Dataset;
  input: ModelInput;
  reads: Reads;
}

/** Reads one sample, counting it. */
async function readSample(source: Source, index: number, signal?: AbortSignal) {
  source.reads.samples++;
  const sample = await source.dataset.read(index, signal);
  source.reads.seconds += sample.decodeSeconds ?? 0;
  return sample;
}

/** A pass's failure as the caller should see it: cancellation when the pass was cancelled, else the error itself. */
function passError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted || (err instanceof Error && err.name === 'AbortError')) return new CancelledError();
  return err;
}

/** A kept batch: its size, known up front, and its samples once decoded. */
interface StoredBatch {
  count: number;
  batch: Promise<SampleBatch>;
}

/** A promise whose rejection is handled where it is awaited (not reported as unhandled when nobody awaits it). */
function quiet<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}

/** A sample and its shape (no batch dim). */
export type ShapedSample = Pick<Sample, 'data' | 'shape'>;

/**
 * Starts decoding `indices` in order, readsAhead() samples at a time, into batches of `batch`. Each batch resolves
 * when its last sample is in (`first` as soon as the first sample is, whatever the others do); the first failure
 * rejects every batch not complete yet and stops reading.
 */
function fill(source: Source, indices: readonly number[], batch: number, signal?: AbortSignal): { batches: StoredBatch[]; first: Promise<ShapedSample> } {
  const batches = Array.from({ length: Math.ceil(indices.length / batch) }, (_, b) => {
    const count = Math.min(batch, indices.length - b * batch);
    let resolve!: (value: SampleBatch) => void;
    let reject!: (err: unknown) => void;
    const promise = quiet(new Promise<SampleBatch>((res, rej) => { resolve = res; reject = rej; }));
    return { count, batch: promise, samples: new Array<Sample>(count), missing: count, resolve, reject };
  });
  let resolveFirst!: (sample: ShapedSample) => void;
  let rejectFirst!: (err: unknown) => void;
  const first = quiet(new Promise<ShapedSample>((res, rej) => { resolveFirst = res; rejectFirst = rej; }));
  let next = 0;
  let failed = false;
  const fail = (err: unknown): void => {
    if (failed) return;
    failed = true;
    // The first sample answers for itself once it is being read (its own failure, or its data even when a later sample
    // failed first: samples decode out of order); it takes the set's failure only when it was never started.
    if (next === 0) rejectFirst(err);
    for (const b of batches) if (b.missing > 0) b.reject(err);
  };
  const readNext = (): void => {
    if (failed || next >= indices.length) return;
    if (signal?.aborted) { fail(new CancelledError()); return; }
    const position = next++;
    const b = batches[Math.floor(position / batch)];
    readSample(source, indices[position], signal).then((sample) => {
      if (position === 0) resolveFirst(sample);
      if (failed) return;
      b.samples[position % batch] = sample;
      if (--b.missing === 0) {
        const { data, shape, labels, ids } = assembleBatch(source.dataset, b.samples, source.input);
        b.samples.length = 0;
        b.resolve({ data, count: b.count, shape: [b.count, ...shape], labels, ids });
      }
      readNext();
    }).catch((err: unknown) => {
      if (position === 0) rejectFirst(err);
      fail(err);
    });
  };
  for (let i = 0; i < readsAhead(); i++) readNext();
  return { batches: batches.map(({ count, batch: promise }) => ({ count, batch: promise })), first };
}

class StreamedSamples implements SampleSet {
  readonly inMemory = false;
  constructor(private readonly source: Source, private readonly indices: number[], readonly batch: number) {}

  get size(): number { return this.indices.length; }
  get decoded(): number { return this.source.reads.samples; }
  get decodeSeconds(): number { return this.source.reads.seconds; }

  async first(signal?: AbortSignal): Promise<ShapedSample> {
    return readSample(this.source, this.indices[0], signal);
  }

  async *batches(signal?: AbortSignal): AsyncGenerator<SampleBatch> {
    const { dataset, input, reads } = this.source;
    const read = (from: number): Promise<SampleBatch> | null => {
      if (from >= this.indices.length) return null;
      const chunk = this.indices.slice(from, from + this.batch);
      reads.samples += chunk.length;
      return quiet(readBatch(dataset, chunk, input, { concurrency: chunk.length, signal }).then(({ data, shape, labels, ids, decodeSeconds }) => {
        reads.seconds += decodeSeconds;
        return { data, labels, ids, count: chunk.length, shape: [chunk.length, ...shape] };
      }));
    };
    let pending = read(0);
    for (let from = 0; pending; from += this.batch) {
      throwIfCancelled(signal);
      let current: SampleBatch;
      try {
        current = await pending;
      } catch (err) {
        throw passError(err, signal);
      }
      pending = read(from + this.batch);
      yield current;
    }
  }

  slice(from: number, count: number): SampleSet {
    return new StreamedSamples(this.source, this.indices.slice(from, from + count), this.batch);
  }
}

class MemorySamples implements SampleSet {
  readonly inMemory = true;
  readonly size: number;
  /** `firstSample`: the first sample, when it is known before its batch is complete. */
  constructor(private readonly stored: StoredBatch[], readonly batch: number, private readonly reads: Reads,
    private readonly firstSample?: Promise<ShapedSample>) {
    this.size = stored.reduce((n, b) => n + b.count, 0);
  }

  get decoded(): number { return this.reads.samples; }
  get decodeSeconds(): number { return this.reads.seconds; }

  async first(signal?: AbortSignal): Promise<ShapedSample> {
    if (this.firstSample) {
      throwIfCancelled(signal);
      try {
        return await this.firstSample;
      } catch (err) {
        throw passError(err, signal);
      }
    }
    for await (const b of this.batches(signal)) return { data: b.data.subarray(0, b.data.length / b.count), shape: b.shape.slice(1) };
    throw new InternalError('first(): the sample set is empty');
  }

  async *batches(signal?: AbortSignal): AsyncGenerator<SampleBatch> {
    for (const b of this.stored) {
      throwIfCancelled(signal);
      let batch: SampleBatch;
      try {
        batch = await b.batch;
      } catch (err) {
        throw passError(err, signal);
      }
      yield batch;
    }
  }

  /** Whole stored batches overlapping [from, from + count), cut at the edges when a batch straddles them. */
  slice(from: number, count: number): SampleSet {
    const out: StoredBatch[] = [];
    let start = 0;
    for (const b of this.stored) {
      const lo = Math.max(from, start);
      const hi = Math.min(from + count, start + b.count);
      if (lo < hi) {
        const [i, j] = [lo - start, hi - start];
        out.push(i === 0 && j === b.count ? b : { count: j - i, batch: quiet(b.batch.then((whole) => cut(whole, i, j))) });
      }
      start += b.count;
    }
    return new MemorySamples(out, this.batch, this.reads);
  }
}

/** Samples [i, j) of a batch (views, no copy). */
function cut(b: SampleBatch, i: number, j: number): SampleBatch {
  const per = b.data.length / b.count;
  return { data: b.data.subarray(i * per, j * per), count: j - i, shape: [j - i, ...b.shape.slice(1)], ids: b.ids.slice(i, j), labels: b.labels.slice(i, j) };
}
