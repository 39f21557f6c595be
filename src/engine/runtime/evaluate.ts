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
import { openSession, runFloat } from './session';

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

/** The FP32 model on a sample set: its output names and, when they fit, its outputs per batch. */
export class Reference {
  private constructor(
    readonly model: Uint8Array | string,
    readonly samples: SampleSet,
    readonly input: ModelInput,
    readonly label: string,
    readonly outputNames: string[],
    private readonly cached: Outputs[] | null,
  ) {}

  /** Runs the FP32 model once over `samples`, keeping its outputs when they stay under `cacheBytes`. */
  static async run(model: Uint8Array | string, samples: SampleSet, input: ModelInput, label: string,
    options: RunOptions & { cacheBytes?: number } = {}): Promise<Reference> {
    const session = await openSession(model, { threads: options.threads ?? 0, level: 'all' }, label);
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

  /** FP32 and `candidate` outputs batch by batch (FP32 from the cache, or run beside the candidate). */
  async compare(candidate: Uint8Array | string, candidateLabel: string, options: RunOptions = {}): Promise<AccuracyResult> {
    const int8 = await openSession(candidate, { threads: options.threads ?? 0, level: 'all' }, candidateLabel);
    const fp32 = this.cached ? null : await openSession(this.model, { threads: options.threads ?? 0, level: 'all' }, this.label);
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
