// Step 7: FP32 against INT8 latency, side by side: batch 1 with one thread and with all cores (the headline numbers),
// then batch 8 with all cores (throughput) when the model takes any batch size.
import { cpus } from 'node:os';
import type { BenchResult } from '../../common/report';
import { floatComputeRan } from '../../quant/runtime-ops';
import { benchmarkPair } from '../runtime/bench';
import type { CalibrationData } from './calibration-data';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';

const THROUGHPUT_BATCH = 8;

export async function benchmarkRun(run: Run, model: PreparedModel, data: CalibrationData, int8: Uint8Array,
  int8RuntimeOps: Record<string, number>): Promise<BenchResult[]> {
  const { request, paths } = run;
  const { input } = model;
  if (!request.benchmark) return [];
  const results: BenchResult[] = [];
  const time = async (threads: number, batch: number, runs: number, warmup: number) => {
    run.progress('benchmark', 0, runs, `batch ${batch}, ${threads} thread(s)`);
    results.push(await benchmarkPair(paths.model, int8, input.name, input.shape, data.firstSample,
      { threads, batch, runs, warmup, signal: run.signal, onProgress: run.progressOf('benchmark', (d, t) => `batch ${batch}, ${threads} thread(s): ${d}/${t}`) },
      [paths.model, paths.out]));
  };
  const latencyBatch = input.fixedBatch ?? 1;
  for (const threads of new Set([1, cpus().length])) await time(threads, latencyBatch, request.benchRuns, 3);
  if (input.fixedBatch === null) {
    // Fewer runs: each is 8 samples.
    await time(cpus().length, THROUGHPUT_BATCH, Math.min(request.benchRuns, Math.max(5, Math.ceil(request.benchRuns / 4))), 2);
  } else {
    run.log(`throughput at batch ${THROUGHPUT_BATCH} not measured: the model's input batch is fixed at ${input.fixedBatch}`);
  }
  const single = results.find((b) => b.batch === latencyBatch && b.threads === 1);
  if (single && single.speedup < 1) {
    const floatOps = floatComputeRan(int8RuntimeOps).map(({ op, count }) => `${count} ${op}`).join(', ');
    run.warn(`INT8 is not faster than FP32 here (${single.speedup.toFixed(2)}x at 1 thread); ops left in float at run time: ${floatOps || 'none'}.`);
  }
  return results;
}
