// The latency benchmark's numbers: throughput (samples per second) from the medians, benchmarkPair at batch 8 on a
// small CNN with real onnxruntime-node, and the quantize pipeline's benchmark rows (batch 1 for the headline, batch 8
// with all cores for throughput when the model takes any batch size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { benchmarkPair, benchResult, samplesPerSecond } from '../../src/engine/runtime/bench';
import type { EngineEvent } from '../../src/engine/events';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { QuantizeRequest } from '../../src/engine/request';
import { headlineBench, headlineThroughput } from '../../src/report/format';
import { encodeModel } from '../../src/onnx/proto';
import { smallCnn, tempDir, valueInfo, writeImageNpy } from '../fixtures/models';

test('throughput is batch / median seconds, from the same medians as the speedup', () => {
  assert.equal(samplesPerSecond(1, 2), 500);
  assert.equal(samplesPerSecond(8, 20), 400);
  assert.equal(samplesPerSecond(8, 3), 2666.67, 'two decimals');
  assert.equal(samplesPerSecond(8, 0), null);
  assert.equal(samplesPerSecond(8, Number.NaN), null);

  const r = benchResult(4, 8, [10, 30, 20, 40, 50], [5, 10, 15, 20, 25]);
  assert.equal(r.fp32.medianMs, 30);
  assert.equal(r.int8.medianMs, 15);
  assert.equal(r.speedup, 2);
  assert.deepEqual(r.throughput, { fp32: 266.67, int8: 533.33 });
  assert.deepEqual({ threads: r.threads, batch: r.batch }, { threads: 4, batch: 8 });
  assert.equal(benchResult(1, 1, [4], [2]).throughput?.int8, 500, 'batch 1 has a throughput too');
});

test('benchmarkPair at batch 8 runs a batch of 8 and reports its throughput', async () => {
  const model = encodeModel(smallCnn());
  const done: number[] = [];
  const r = await benchmarkPair(model, model, 'image', [1, 3, 16, 16], null,
    { threads: 1, batch: 8, runs: 4, warmup: 1, onProgress: (d) => done.push(d) }, ['fp32', 'int8']);
  assert.equal(r.batch, 8);
  assert.equal(r.threads, 1);
  assert.equal(r.fp32.runs, 4);
  assert.deepEqual(done, [1, 2, 3, 4]);
  assert.ok(r.throughput, 'throughput present');
  assert.equal(r.throughput.fp32, samplesPerSecond(8, r.fp32.medianMs));
  assert.equal(r.throughput.int8, samplesPerSecond(8, r.int8.medianMs));
  assert.ok(Math.abs(r.throughput.fp32 - 8000 / r.fp32.medianMs) < 0.01);
});

function request(model: string, calib: string, overrides: Partial<QuantizeRequest> = {}): QuantizeRequest {
  return {
    model, calib, calibCount: 16, calibBatch: 8, method: 'minmax', percentile: 99.999, perChannel: true,
    activations: 'u8', weightRange: 'pair-safe', equalize: false, equalizeStrength: 0.5, biasCorrection: 'off', preprocess: 'raw',
    evalCount: 16, evaluate: false, benchmark: true, benchRuns: 8, threads: 1, maxDrop: null, tuneTimeout: 60, ...overrides,
  };
}

test('quantize benchmarks batch 1 (1 thread, all cores) and batch 8 with all cores; headline stays batch 1', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(smallCnn()));
  const events: EngineEvent[] = [];
  const { report } = await quantizeModel(request(modelPath, writeImageNpy(dir, 24), { onEvent: (e) => events.push(e) }));
  const all = cpus().length;
  assert.deepEqual(report.bench.map((b) => [b.batch, b.threads]), [...new Set([1, all])].map((t) => [1, t]).concat([[8, all]]));
  for (const b of report.bench) assert.ok(b.throughput && b.throughput.fp32 > 0 && b.throughput.int8 > 0, 'every row has a throughput');
  const batch8 = report.bench[report.bench.length - 1];
  assert.equal(batch8.fp32.runs, 5, 'fewer runs at batch 8: max(5, ceil(8 / 4)), at most --bench-runs');
  assert.equal(report.bench[0].fp32.runs, 8);
  const { singleThread, allThreads } = headlineBench(report);
  assert.equal(singleThread?.batch, 1);
  assert.equal(allThreads === null || allThreads.batch === 1, true, 'headline speedups come from batch 1');
  assert.equal(headlineThroughput(report), batch8);
  const messages = events.flatMap((e) => (e.type === 'progress' && e.stage === 'benchmark' ? [e.message] : []));
  assert.ok(messages.includes(`batch 8, ${all} thread(s)`), messages.join('; '));
  assert.ok(messages.includes('batch 1, 1 thread(s)'));
});

test('a model with a fixed batch is not run at batch 8: a log line says why, no warning', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'fixed.onnx');
  const model = smallCnn();
  model.graph!.input[0] = valueInfo('image', [1, 3, 16, 16]);
  model.graph!.output[0] = valueInfo('logits', [1, 10]);
  writeFileSync(modelPath, encodeModel(model));
  const events: EngineEvent[] = [];
  const { report } = await quantizeModel(request(modelPath, writeImageNpy(dir, 24), { calibBatch: 1, onEvent: (e) => events.push(e) }));
  assert.ok(report.bench.length > 0);
  assert.ok(report.bench.every((b) => b.batch === 1), JSON.stringify(report.bench.map((b) => b.batch)));
  assert.equal(headlineThroughput(report), null);
  const logs = events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
  assert.ok(logs.some((m) => /batch 8 not measured: the model's input batch is fixed at 1/.test(m)), logs.join('; '));
  assert.ok(!report.warnings.some((w) => /batch 8/.test(w)));
});
