// `octet bench`: latency of two models side by side; the JSON shape documented in docs/cli.md. With --profile, also
// where the time goes: ONNX Runtime's profiler on both, the INT8 model's kernels mapped onto the FP32 model's nodes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchResult, TimeProfile } from '../../common/report';
import { copyProto, Graph } from '../../onnx/graph';
import { readModel } from '../../onnx/model-io';
import { encodeSplit } from '../../onnx/proto';
import { benchFeeds, benchmarkPair } from '../runtime/bench';
import { profileKernels, timeProfile } from '../runtime/profile';
import { describeInput } from '../../data/model-input';

export interface BenchRequest {
  fp32: string; int8: string; threads: number; batch: number; runs: number; crop: number | null; profile?: boolean; signal?: AbortSignal;
}

/** One model's side: latency in ms, and samples per second at the batch size from the median (null if not computable). */
export interface BenchSideJson { median_ms: number; p90_ms: number; mean_ms: number; runs: number; samples_per_s: number | null }

export interface BenchJson {
  threads: number;
  batch: number;
  fp32: BenchSideJson;
  int8: BenchSideJson;
  speedup: number;
  /** With --profile: per-node times (the Report's TimeProfile). */
  profile?: TimeProfile;
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
  let profile: TimeProfile | undefined;
  if (request.profile) {
    // Unnamed FP32 nodes are named after their first output, as `octet quantize` names them.
    const named = copyProto(fp32.model);
    for (const node of named.graph!.node) if (!node.name) node.name = node.output[0];
    const feeds = benchFeeds(input.name, input.shape, batch, null);
    const options = { runs: Math.max(5, Math.min(request.runs, 20)), warmup: 2, threads: request.threads, signal: request.signal };
    const dir = mkdtempSync(join(tmpdir(), 'octet-profile-'));
    try {
      const fp32Profile = await profileKernels(encodeSplit(named), feeds, options, dir, request.fp32);
      const int8Model = readModel(request.int8).model;
      const int8Profile = await profileKernels(encodeSplit(int8Model), feeds, options, dir, request.int8);
      profile = timeProfile(new Graph(named.graph!), fp32Profile, int8Model, int8Profile, request.threads, batch);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { bench, json: { threads: bench.threads, batch: bench.batch, fp32: side(bench.fp32, bench.throughput?.fp32),
    int8: side(bench.int8, bench.throughput?.int8), speedup: bench.speedup, ...(profile ? { profile } : {}) } };
}

/** Where the time goes, for the terminal: totals per op type and the nodes that lose most in INT8. */
export function formatProfile(p: TimeProfile, top = 10): string {
  const ms = (v: number) => v.toFixed(3).padStart(8);
  const lines = [`where the time goes (kernel ms per run, median of ${p.runs} runs): FP32 ${p.fp32TotalMs.toFixed(3)}, INT8 ${p.int8TotalMs.toFixed(3)}`
    + (p.unattributedInt8Ms > 0 ? ` (${p.unattributedInt8Ms.toFixed(3)} not attributed)` : ''),
  `  ${'op type'.padEnd(22)} ${'count'.padStart(5)} ${'FP32'.padStart(8)} ${'INT8'.padStart(8)} ${'Q/DQ'.padStart(8)}`];
  for (const t of p.byOpType) lines.push(`  ${t.opType.padEnd(22)} ${String(t.count).padStart(5)} ${ms(t.fp32Ms)} ${ms(t.int8Ms)} ${ms(t.overheadMs)}`);
  const losing = p.nodes.map((n) => ({ n, loss: n.int8Ms + n.overheadMs - n.fp32Ms })).filter((x) => x.loss > 0)
    .sort((a, b) => b.loss - a.loss).slice(0, top);
  if (losing.length > 0) {
    lines.push('  slower in INT8 (node: FP32 ms → INT8 + Q/DQ ms, kernels):');
    for (const { n } of losing) {
      lines.push(`    ${n.node}: ${n.fp32Ms.toFixed(3)} → ${n.int8Ms.toFixed(3)} + ${n.overheadMs.toFixed(3)} (${n.fp32Kernels.join('+') || 'fused'} → ${n.int8Kernels.join('+') || 'fused'})`);
    }
  }
  return lines.join('\n');
}
