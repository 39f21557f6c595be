// Evaluation: an INT8 model against FP32 on the same samples, every output scored with the measure that fits it
// (output-scores.ts). The FP32 side is a Reference: run once, its outputs kept when they fit a memory budget (so the
// many INT8 candidates of auto choices and tuning cost one run each), or recomputed beside each candidate when they
// do not (segmentation maps and detection heads of hundreds of samples) — memory never grows with the data set.
import type * as ort from 'onnxruntime-node';
import type { AccuracyResult } from '../../common/report';
import type { ModelInput } from '../../data/model-input';
import { throwIfCancelled } from '../cancel';
import { OutputArray, OutputScorer } from './output-scores';
import type { SampleSet } from './sample-set';
import { openSession, runFloat, SessionModel } from './session';

/** FP32 outputs are kept for reuse below this many bytes. */
export const REFERENCE_CACHE_BYTES = 256 * 2 ** 20;

export interface RunOptions {
  threads?: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

type Outputs = Record<string, OutputArray>;

function copyOutputs(result: Record<string, ort.Tensor>, names: readonly string[]): Outputs {
  const out: Outputs = {};
  for (const name of names) {
    const t = result[name];
    if (!t || t.type !== 'float32') throw new Error(`output '${name}' is ${t ? t.type : 'missing'}, not float32`);
    out[name] = { data: t.data as Float32Array, dims: [...t.dims] };
  }
  return out;
}

/** A model as ORT takes it, or made when first needed (a Reference whose outputs are all kept never runs it). */
export type ModelSource = SessionModel | (() => SessionModel);

function modelOf(source: ModelSource): SessionModel {
  return typeof source === 'function' ? source() : source;
}

/** The FP32 model on a sample set: its output names and, when they fit, its outputs per batch. */
export class Reference {
  private constructor(
    readonly model: ModelSource,
    readonly samples: SampleSet,
    readonly input: ModelInput,
    readonly label: string,
    readonly outputNames: string[],
    private readonly cached: Outputs[] | null,
  ) {}

  /** Runs the FP32 model once over `samples`, keeping its outputs when they stay under `cacheBytes`. */
  static async run(model: ModelSource, samples: SampleSet, input: ModelInput, label: string,
    options: RunOptions & { cacheBytes?: number } = {}): Promise<Reference> {
    const session = await openSession(modelOf(model), { threads: options.threads ?? 0, level: 'all' }, label);
    const names = [...session.outputNames];
    const budget = options.cacheBytes ?? REFERENCE_CACHE_BYTES;
    let cached: Outputs[] | null = budget > 0 ? [] : null;
    let bytes = 0;
    let done = 0;
    try {
      for await (const batch of samples.batches(options.signal)) {
        if (cached === null) break;
        const outputs = copyOutputs(await runFloat(session, input.name, batch.data, batch.shape, names), names);
        bytes += Object.values(outputs).reduce((n, o) => n + o.data.byteLength, 0);
        if (bytes > budget) cached = null;
        else cached.push(outputs);
        done += batch.count;
        options.onProgress?.(done, samples.size);
      }
    } finally {
      await session.release();
    }
    return new Reference(model, samples, input, label, names, cached);
  }

  /** The first `count` samples with their FP32 outputs. */
  subset(count: number): Reference {
    const samples = this.samples.slice(0, count);
    let cached: Outputs[] | null = null;
    if (this.cached) {
      cached = [];
      let seen = 0;
      for (const outputs of this.cached) {
        if (seen >= samples.size) break;
        const first = Object.values(outputs)[0];
        const batchCount = first ? first.dims[0] : 0;
        const keep = Math.min(batchCount, samples.size - seen);
        cached.push(keep === batchCount ? outputs : Object.fromEntries(Object.entries(outputs).map(([name, o]) => {
          const per = o.data.length / batchCount;
          return [name, { data: o.data.subarray(0, keep * per), dims: [keep, ...o.dims.slice(1)] }];
        })));
        seen += keep;
      }
    }
    return new Reference(this.model, samples, this.input, this.label, this.outputNames, cached);
  }

  /** A Reference on `samples` whose outputs per batch are already known (OutputCapture). */
  static ofOutputs(model: ModelSource, samples: SampleSet, input: ModelInput, label: string, outputNames: string[], perBatch: Outputs[]): Reference {
    return new Reference(model, samples, input, label, outputNames, perBatch);
  }

  /** FP32 and `candidate` outputs batch by batch (FP32 from the cache, or run beside the candidate). */
  async compare(candidate: Uint8Array | string, candidateLabel: string, options: RunOptions = {}): Promise<AccuracyResult> {
    const int8 = await openSession(candidate, { threads: options.threads ?? 0, level: 'all' }, candidateLabel);
    const fp32 = this.cached ? null : await openSession(modelOf(this.model), { threads: options.threads ?? 0, level: 'all' }, this.label);
    const scorer = new OutputScorer(this.outputNames, this.input.layout);
    let index = 0;
    let done = 0;
    try {
      for await (const batch of this.samples.batches(options.signal)) {
        throwIfCancelled(options.signal);
        const reference = this.cached ? this.cached[index++] : copyOutputs(await runFloat(fp32!, this.input.name, batch.data, batch.shape, this.outputNames), this.outputNames);
        const outputs = copyOutputs(await runFloat(int8, this.input.name, batch.data, batch.shape, this.outputNames), this.outputNames);
        scorer.add(reference, outputs, batch.labels, batch.count);
        done += batch.count;
        options.onProgress?.(done, this.samples.size);
      }
    } finally {
      await int8.release();
      await fp32?.release();
    }
    return scorer.result();
  }
}

/**
 * Keeps, from a pass that runs the FP32 model over a sample set anyway (calibration), the outputs of samples
 * [from, from + count) — copied out before the pass hands its tensors on — to make a Reference of them without
 * running the model again. Gives up (null reference) past `budget` bytes, or on an output that is not float32 or not
 * one row per sample.
 */
export class OutputCapture {
  private readonly kept = new Map<number, Outputs>();
  private bytes = 0;
  private failed = false;

  constructor(readonly names: readonly string[], readonly from: number, readonly count: number, private readonly budget = REFERENCE_CACHE_BYTES) {}

  /** The outputs of one run of `samples` samples, the first being sample `offset` of the pass. */
  add(offset: number, samples: number, outputs: Record<string, ort.Tensor>): void {
    const first = Math.max(offset, this.from);
    const end = Math.min(offset + samples, this.from + this.count);
    if (this.failed || first >= end) return;
    for (let i = first; i < end; i++) {
      const row: Outputs = {};
      for (const name of this.names) {
        const t = outputs[name];
        if (!t || t.type !== 'float32' || t.dims[0] !== samples) return this.giveUp();
        const per = (t.data as Float32Array).length / samples;
        row[name] = { data: (t.data as Float32Array).slice((i - offset) * per, (i - offset + 1) * per), dims: [1, ...t.dims.slice(1)] };
        this.bytes += per * 4;
      }
      if (this.bytes > this.budget) return this.giveUp();
      this.kept.set(i, row);
    }
  }

  private giveUp(): void {
    this.failed = true;
    this.kept.clear();
  }

  /** The Reference on `samples` (the captured range, in order), or null when not every sample was kept. */
  async reference(model: ModelSource, samples: SampleSet, input: ModelInput, label: string, signal?: AbortSignal): Promise<Reference | null> {
    if (this.failed || this.kept.size !== this.count || samples.size !== this.count) return null;
    const perBatch: Outputs[] = [];
    let index = this.from;
    for await (const batch of samples.batches(signal)) {
      const rows = Array.from({ length: batch.count }, (_, k) => this.kept.get(index + k)!);
      index += batch.count;
      const joined: Outputs = {};
      for (const name of this.names) {
        const per = rows[0][name].data.length;
        if (rows.some((r) => r[name].data.length !== per)) return null; // samples of their own sizes: not one batch
        const data = new Float32Array(per * rows.length);
        rows.forEach((r, k) => data.set(r[name].data, k * per));
        joined[name] = { data, dims: [rows.length, ...rows[0][name].dims.slice(1)] };
      }
      perBatch.push(joined);
    }
    return Reference.ofOutputs(model, samples, input, label, [...this.names], perBatch);
  }
}
