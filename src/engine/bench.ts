// Latency benchmark: FP32 and INT8 sessions side by side, warm-up, then interleaved rounds (alternating which
// model goes first) so drift in machine load hits both equally; median and p90 per model; speedup of medians.
import * as ort from 'onnxruntime-node';
import type { BenchResult, LatencyStats } from '../common/report';
import { openSession } from './runtime';
import { throwIfCancelled } from './cancel';

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
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    medianMs: round(at(0.5)), p90Ms: round(at(0.9)), minMs: round(sorted[0]),
    meanMs: round(sorted.reduce((a, b) => a + b, 0) / sorted.length), runs: sorted.length,
  };
}

export async function benchmarkPair(fp32: Uint8Array | string, int8: Uint8Array | string, inputName: string,
  sampleShape: number[], sample: Float32Array | null, options: BenchOptions, labels: [string, string]): Promise<BenchResult> {
  const shape = [options.batch, ...sampleShape.slice(1)];
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  if (sample && sample.length > 0) for (let i = 0; i < size; i++) data[i] = sample[i % sample.length];
  else for (let i = 0; i < size; i++) data[i] = Math.sin(i * 0.37);
  const feeds = { [inputName]: new ort.Tensor('float32', data, shape) };
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
  const fp32Stats = latencyStats(times[0]);
  const int8Stats = latencyStats(times[1]);
  return {
    threads: options.threads, batch: options.batch, fp32: fp32Stats, int8: int8Stats,
    speedup: Math.round((fp32Stats.medianMs / int8Stats.medianMs) * 1000) / 1000,
  };
}
