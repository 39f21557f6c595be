// Latency benchmark: FP32 and INT8 sessions side by side, warm-up, then interleaved rounds (alternating which
// model goes first) so drift in machine load hits both equally; median and p90 per model; speedup of medians;
// throughput (samples per second) of the medians.
import * as ort from 'onnxruntime-node';
import type { BenchResult, LatencyStats } from '../../common/report';
import { openSession } from './session';
import { throwIfCancelled } from '../cancel';
import { roundTo } from '../../common/numbers';

export interface BenchOptions {
  threads: number;
  batch: number;
  runs: number;
  warmup: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

export function latencyStats(samples: number[]): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
  };
  return {
    medianMs: roundTo(at(0.5)), p90Ms: roundTo(at(0.9)), minMs: roundTo(sorted[0]),
    meanMs: roundTo(sorted.reduce((a, b) => a + b, 0) / sorted.length), runs: sorted.length,
  };
}

/** Samples per second at this batch size from a median latency (ms), to 0.01. Null for a non-positive time. */
export function samplesPerSecond(batch: number, medianMs: number): number | null {
  if (!(medianMs > 0) || !Number.isFinite(medianMs)) return null;
  return Math.round((batch * 1000 / medianMs) * 100) / 100;
}

/** The BenchResult of two models' timings: stats per model, speedup and throughput of the medians. */
export function benchResult(threads: number, batch: number, fp32Ms: number[], int8Ms: number[]): BenchResult {
  const fp32 = latencyStats(fp32Ms);
  const int8 = latencyStats(int8Ms);
  const result: BenchResult = {
    threads, batch, fp32, int8, speedup: roundTo(fp32.medianMs / int8.medianMs),
  };
  const fp32Rate = samplesPerSecond(batch, fp32.medianMs);
  const int8Rate = samplesPerSecond(batch, int8.medianMs);
  if (fp32Rate !== null && int8Rate !== null) result.throughput = { fp32: fp32Rate, int8: int8Rate };
  return result;
}

/** A session's inputs by name. */
export type Feeds = Record<string, ort.Tensor>;

/** The input timed runs feed: `batch` copies of a real sample (or a fixed pattern without one). */
export function benchFeeds(inputName: string, sampleShape: number[], batch: number, sample: Float32Array | null): Feeds {
  const shape = [batch, ...sampleShape.slice(1)];
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  if (sample && sample.length > 0) for (let i = 0; i < size; i++) data[i] = sample[i % sample.length];
  else for (let i = 0; i < size; i++) data[i] = Math.sin(i * 0.37);
  return { [inputName]: new ort.Tensor('float32', data, shape) };
}

export async function benchmarkPair(fp32: Uint8Array | string, int8: Uint8Array | string, inputName: string,
  sampleShape: number[], sample: Float32Array | null, options: BenchOptions, labels: [string, string]): Promise<BenchResult> {
  const feeds = benchFeeds(inputName, sampleShape, options.batch, sample);
  const sessions = [
    await openSession(fp32, { threads: options.threads, level: 'all' }, labels[0]),
    await openSession(int8, { threads: options.threads, level: 'all' }, labels[1]),
  ];
  const times: number[][] = [[], []];
  try {
    for (let w = 0; w < options.warmup; w++) for (const s of sessions) await s.run(feeds);
    for (let r = 0; r < options.runs; r++) {
      throwIfCancelled(options.signal);
      const order = r % 2 === 0 ? [0, 1] : [1, 0];
      for (const m of order) {
        const t0 = performance.now();
        await sessions[m].run(feeds);
        times[m].push(performance.now() - t0);
      }
      options.onProgress?.(r + 1, options.runs);
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return benchResult(options.threads, options.batch, times[0], times[1]);
}
