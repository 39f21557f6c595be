// Per-tensor calibration methods (--method auto): the scoring probe runs on a real model and scores every tensor a
// weighted layer reads; an override changes exactly that tensor's range (to what the other method chooses) and is
// recorded; the pipeline keeps overrides only when they beat the model-wide method on output SQNR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../../src/onnx/proto';
import { AUTO_METHODS } from '../../src/engine/accuracy/auto-choice';
import { collectStatistics } from '../../src/engine/runtime/calibrate';
import { openSampleSet } from '../../src/engine/runtime/sample-set';
import { activationQParams, convert, ConvertContext, planFor } from '../../src/quant/convert';
import { openDataset, splitIndices } from '../../src/data/dataset';
import { describeInput } from '../../src/data/model-input';
import { probeTensors } from '../../src/engine/runtime/prepare';
import { quantizeModel } from '../../src/engine/commands/quantize';
import { chooseTensorMethods } from '../../src/engine/accuracy/tensor-methods';
import { presetPreprocessing, smallCnn, tempDir, writeImageNpy } from '../fixtures/models';

test('per-tensor scoring covers the tensors weighted layers read; an override changes only that tensor', async () => {
  const dir = tempDir();
  const model = smallCnn(3);
  const input = describeInput(model, 'cnn.onnx');
  const set = await openDataset(writeImageNpy(dir, 32), { input, preprocessing: presetPreprocessing('raw', null) });
  const samples = await openSampleSet(set, splitIndices(set.size, 32, 0), input, 8, { passes: 2 });
  const first = await set.read(0);
  const facts = await probeTensors(model, input.name, first.data, [1, 3, 16, 16], 'cnn.onnx');
  const ctx: ConvertContext = { label: 'cnn.int8.onnx', opset: 13, perChannel: true, weightRange: 'full', activations: 'u8',
    percentile: 99.9, opTypes: null, facts, producer: { name: 'octet', version: 'test' } };
  const { plan } = planFor(model, ctx, new Set());
  const { stats } = await collectStatistics(model, plan.calibrationTensors, samples, input, { threads: 1 }, 'cnn.onnx');
  const options = { threads: 1 };
  const choice = await chooseTensorMethods(model, stats, ctx, plan, 'minmax', AUTO_METHODS, samples, input, options);
  // image → conv1, r1 → dwconv, r2 → pwconv, p1 → conv4, flat → fc: five tensors read by weighted layers.
  assert.equal(choice.scored, 5, 'every tensor a Conv/Gemm reads was scored');
  for (const method of choice.overrides.values()) assert.notEqual(method, 'minmax');

  const tensor = 'r2';
  const base = convert(model, stats, ctx, { method: 'minmax', exclude: new Set(), biasCorrection: false });
  const other = convert(model, stats, ctx, { method: 'minmax', exclude: new Set(), biasCorrection: false, tensorMethods: new Map([[tensor, 'percentile']]) });
  const expected = activationQParams(stats.get(tensor)!, 'percentile', ctx).params;
  const row = other.tensorStats.find((t) => t.tensor === tensor)!;
  assert.equal(row.method, 'percentile');
  assert.equal(row.scale, expected.scale);
  assert.notEqual(row.scale, base.tensorStats.find((t) => t.tensor === tensor)!.scale, 'percentile 99.9 clips what minmax keeps');
  for (const t of other.tensorStats.filter((r) => r.tensor !== tensor)) {
    assert.equal(t.method, undefined);
    assert.equal(t.scale, base.tensorStats.find((r) => r.tensor === t.tensor)!.scale, `${t.tensor} unchanged`);
  }
});

test('--method auto keeps per-tensor overrides only when they raise output SQNR, and says so in the report', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(smallCnn(5)));
  const { report } = await quantizeModel({
    model: modelPath, calib: writeImageNpy(dir, 96), calibCount: 64, calibBatch: 8, method: 'auto', percentile: 99.99, perChannel: true,
    activations: 'u8', weightRange: 'full', equalize: true, equalizeStrength: 0.5, biasCorrection: 'auto', preprocess: 'raw', evalCount: 32,
    evaluate: true, benchmark: false, benchRuns: 1, threads: 1, maxDrop: null, tuneTimeout: 10, speedAware: 'off',
  });
  assert.equal(Object.keys(report.calibration.methodScores ?? {}).length, 4);
  const perTensor = report.calibration.tensorMethods;
  const overridden = report.calibration.tensors.filter((t) => t.method);
  assert.ok(perTensor, 'on this model some tensors prefer another method, so the pipeline compared');
  assert.equal(perTensor.kept, perTensor.outputSqnrDb.perTensor > perTensor.outputSqnrDb.model);
  assert.ok(Object.keys(perTensor.overrides).length > 0 && Object.keys(perTensor.overrides).length <= perTensor.scored);
  assert.deepEqual(Object.fromEntries(overridden.map((t) => [t.tensor, t.method])), perTensor.kept ? perTensor.overrides : {});
});
