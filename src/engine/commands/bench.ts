// `octet bench`: latency of two models side by side; the JSON shape documented in docs/cli.md.
import type { BenchResult } from '../../common/report';
import { readModel } from '../../onnx/model-io';
import { benchmarkPair } from '../runtime/bench';
import { describeInput } from '../../data/model-input';

export interface BenchRequest { fp32: string; int8: string; threads: number; batch: number; runs: number; crop: number | null; signal?: AbortSignal }

/** One model's side: latency in ms, and samples per second at the batch size from the median (null if not computable). */
export interface BenchSideJson { median_ms: number; p90_ms: number; mean_ms: number; runs: number; samples_per_s: number | null }

export interface BenchJson {
  threads: number;
  batch: number;
  fp32: BenchSideJson;
  int8: BenchSideJson;
  speedup: number;
}

export async function benchPair(request: BenchRequest): Promise<{ bench: BenchResult; json: BenchJson }> {
  const fp32 = readModel(request.fp32);
  readModel(request.int8);
  const input = describeInput(fp32.model, request.fp32, { size: request.crop ? [request.crop, request.crop] : null });
  const batch = input.fixedBatch ?? request.batch;
  const bench = await benchmarkPair(request.fp32, request.int8, input.name, input.shape, null,
    { threads: request.threads, batch, runs: request.runs, warmup: 5, signal: request.signal }, [request.fp32, request.int8]);
  const side = (s: BenchResult['fp32'], perSecond: number | undefined): BenchSideJson =>
    ({ median_ms: s.medianMs, p90_ms: s.p90Ms, mean_ms: s.meanMs, runs: s.runs, samples_per_s: perSecond ?? null });
  return { bench, json: { threads: bench.threads, batch: bench.batch, fp32: side(bench.fp32, bench.throughput?.fp32),
    int8: side(bench.int8, bench.throughput?.int8), speedup: bench.speedup } };
}
