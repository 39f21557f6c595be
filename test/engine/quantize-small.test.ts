// End to end on a small CNN built in the test: quantize with real onnxruntime-node, check that ORT turns every
// quantized op into an int8 kernel, that INT8 stays close to FP32, and that the source model is left untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../../src/onnx/proto';
import { readModel } from '../../src/onnx/model-io';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { QuantizeRequest } from '../../src/engine/request';
import { ACCURACY_REASON } from '../../src/engine/accuracy/tune';
import { smallCnn, tempDir, writeImageNpy } from '../fixtures/models';

function request(model: string, calib: string, overrides: Partial<QuantizeRequest> = {}): QuantizeRequest {
  return {
    model, calib, calibCount: 32, calibBatch: 8, method: 'minmax', percentile: 99.999, perChannel: true,
    activations: 'u8', weightRange: 'pair-safe', equalize: true, equalizeStrength: 0.5, biasCorrection: 'auto', preprocess: 'raw', evalCount: 32, evaluate: true, benchmark: false,
    benchRuns: 5, threads: 1, maxDrop: null, tuneTimeout: 60, speedAware: 'off', ...overrides,
  };
}

function setup() {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(smallCnn()));
  const data = writeImageNpy(dir, 64);
  return { dir, modelPath, data };
}

for (const method of ['minmax', 'percentile', 'entropy', 'mse'] as const) {
  test(`quantize small CNN with ${method}: all ops fused into int8 kernels, output SQNR high`, async () => {
    const { dir, modelPath, data } = setup();
    const before = createHash('sha256').update(readFileSync(modelPath)).digest('hex');
    const outcome = await quantizeModel(request(modelPath, data, { method }));
    assert.equal(outcome.modelPath, join(dir, 'cnn.int8.onnx'));
    assert.equal(createHash('sha256').update(readFileSync(modelPath)).digest('hex'), before, 'source model untouched');
    const report = outcome.report;
    const ops = report.int8RuntimeOps;
    assert.equal(ops.QLinearConv, 4, `every Conv runs as QLinearConv: ${JSON.stringify(ops)}`);
    assert.ok(!ops.Conv && !ops.FusedConv, 'no float Conv left');
    assert.equal(ops.QLinearAdd, 1);
    assert.equal(ops.QLinearConcat, 1);
    assert.equal(ops.QLinearGlobalAveragePool, 1);
    assert.ok((ops.QGemm ?? 0) + (ops.QLinearMatMul ?? 0) >= 1, 'Gemm runs in int8');
    assert.ok(report.accuracy, 'evaluated');
    assert.equal(report.accuracy!.n, 32);
    assert.ok(report.accuracy!.outputSqnrDb > 20, `SQNR ${report.accuracy!.outputSqnrDb} dB`);
    assert.ok(report.accuracy!.agreement! >= 0.8, `agreement ${report.accuracy!.agreement}`);
    const written = JSON.parse(readFileSync(outcome.reportPath, 'utf8'));
    assert.equal(written.schemaVersion, 2);
    assert.equal(written.settings.method, method);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
  });
}

test('per-tensor weights and s8 activations also produce a runnable model', async () => {
  const { modelPath, data } = setup();
  const outcome = await quantizeModel(request(modelPath, data, { perChannel: false, activations: 's8' }));
  const model = readModel(outcome.modelPath).model;
  const weightScales = model.graph!.initializer.filter((t) => t.name?.startsWith('w1_conv1_scale'));
  assert.deepEqual(weightScales[0].dims, [], 'per-tensor weight scale is a scalar');
  assert.ok(outcome.report.accuracy!.outputSqnrDb > 15);
});

test('refuses --out equal to the input and leaves no output behind', async () => {
  const { dir, modelPath, data } = setup();
  await assert.rejects(quantizeModel(request(modelPath, data, { out: modelPath })), /overwrite the input model/);
  assert.ok(!existsSync(join(dir, 'cnn.int8.onnx')));
});

test('cancelling stops the pipeline and writes nothing', async () => {
  const { dir, modelPath, data } = setup();
  const controller = new AbortController();
  const pending = quantizeModel(request(modelPath, data, {
    signal: controller.signal,
    onEvent: (e) => { if (e.type === 'progress' && e.stage === 'calibrate') controller.abort(); },
  }));
  await assert.rejects(pending, /cancelled/);
  assert.deepEqual(readdirSync(dir).sort(), ['cnn.onnx', 'data.npy']);
});

test('--max-drop met by the first model: the report says so with one kept trial and nothing returned to FP32', async () => {
  const { modelPath, data } = setup();
  const { report } = await quantizeModel(request(modelPath, data, { maxDrop: 100 }));
  const tuning = report.tuning!;
  assert.ok(tuning, 'a tuning section even when no search was needed');
  assert.equal(tuning.boundMet, true);
  assert.equal(tuning.stoppedBy, 'bound-met');
  assert.equal(tuning.trials.length, 1);
  assert.equal(tuning.trials[0].kept, true);
  assert.equal(tuning.trials[0].agreement, report.accuracy!.agreement);
  assert.deepEqual(report.settings.exclude, []);
});

test('per-layer error: accumulated, own and local Q/DQ SQNR for every quantized output', async () => {
  const { modelPath, data } = setup();
  const { report } = await quantizeModel(request(modelPath, data, { method: 'mse' }));
  assert.ok(report.layers.length >= 6, `${report.layers.length} layers`);
  for (const l of report.layers) {
    assert.ok(Number.isFinite(l.ownSqnrDb) && Number.isFinite(l.localSqnrDb), JSON.stringify(l));
    assert.ok(l.ownSqnrDb! >= l.sqnrDb - 1e-6, `${l.node}: a node cannot add more noise than its output carries`);
  }
  const first = report.layers.find((l) => l.node === 'conv1')!;
  assert.equal(first.ownSqnrDb, first.sqnrDb, 'the first conv reads the (exact) model input: all its error is its own');
  for (const l of report.layers) {
    if (l.opType === 'Conv' || l.opType === 'Gemm') assert.ok(l.weightSqnrDb! > 25, `${l.node} int8 weights: ${l.weightSqnrDb} dB`);
    else assert.equal(l.weightSqnrDb, undefined, `${l.node} has no weights`);
  }
  const deeper = report.layers.find((l) => l.node === 'conv4')!;
  assert.ok(deeper.ownSqnrDb! > deeper.sqnrDb, 'a deeper layer inherits some of its error');
});

test('accuracy-aware search order: methods, measured sensitivity, methods per layer (int8 kept), then FP32 fallback', async () => {
  const { modelPath, data } = setup();
  // Without labels the bound is agreement loss; a negative bound can never be met, so every stage runs.
  const { report } = await quantizeModel(request(modelPath, data, { method: 'minmax', maxDrop: -1, tuneTimeout: 120 }));
  const tuning = report.tuning!;
  assert.equal(tuning.metric, 'agreement-loss-points');
  const sensitivity = report.sensitivity!;
  assert.ok(sensitivity.length >= 5, `every weighted/requantizing layer measured: ${sensitivity.length}`);
  for (let i = 1; i < sensitivity.length; i++) assert.ok(sensitivity[i - 1].outputSqnrGainDb >= sensitivity[i].outputSqnrGainDb, 'most sensitive first');
  const kinds = tuning.trials.map((t) => (t.changed.startsWith('FP32:') ? 'fallback' : t.changed.startsWith('methods per layer') ? 'layer-methods' : 'method'));
  const firstFallback = kinds.indexOf('fallback');
  assert.ok(firstFallback > 0, kinds.join(','));
  assert.ok(kinds.slice(firstFallback).every((k) => k === 'fallback'), `nothing cheaper after the first fallback: ${kinds.join(',')}`);
  for (const t of tuning.trials.slice(0, firstFallback)) assert.deepEqual(t.excluded, [], `${t.changed} keeps every layer in int8`);
  assert.equal(tuning.trials[firstFallback].excluded[0], sensitivity[0].node, 'the most sensitive layer falls back first');
  assert.equal(tuning.trials.filter((t) => t.kept).length, 1);
  const kept = tuning.trials.find((t) => t.kept)!;
  for (const node of kept.excluded) {
    assert.equal(report.keptFloat.find((k) => k.node === node)?.reason, ACCURACY_REASON, `${node} is kept float for accuracy, not by the user`);
  }
});

test('--sensitivity without --max-drop: every quantized layer measured, most sensitive first, no tuning', async () => {
  const { modelPath, data } = setup();
  const { report } = await quantizeModel(request(modelPath, data, { sensitivity: true }));
  assert.equal(report.tuning, null);
  const measured = report.sensitivity!;
  const ranked = report.quantizedNodes.filter((n) => !['MaxPool', 'Flatten', 'Reshape'].includes(n.opType)).map((n) => n.node);
  assert.deepEqual([...measured.map((s) => s.node)].sort(), ranked.filter((n) => report.layers.some((l) => l.node === n)).sort());
  for (let i = 1; i < measured.length; i++) assert.ok(measured[i - 1].outputSqnrGainDb >= measured[i].outputSqnrGainDb);
  const plain = await quantizeModel(request(modelPath, data));
  assert.equal(plain.report.sensitivity, null, 'not measured unless asked');
});
