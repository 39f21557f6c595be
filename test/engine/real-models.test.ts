// Real models from ../shared/assets: ResNet-20 (CIFAR-10) and MobileNet-V1 0.75 (ImageNet) quantized from 100
// calibration images and evaluated on other images; and accuracy-aware mode on MobileNet with saturating weights,
// where the per-layer ranking's top layer, returned to FP32, must reduce the error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { QuantizeRequest } from '../../src/engine/request';
import { tempDir } from '../fixtures/models';
import { machineInfo } from '../../src/engine/runtime/machine';

const shared = resolve(process.cwd(), '../shared/assets');
const missing = existsSync(shared) ? false : `../shared/assets not found (looked in ${shared}); real-model tests need the shared assets`;
/** Full-range int8 weights saturate ONNX Runtime's U8S8 kernels only on CPUs without VNNI (16-bit pair sums). */
const saturationSkip = missing || (machineInfo('').vnni
  ? 'this CPU has VNNI: full-range weights do not saturate here (the search order itself is tested CPU-independently in quantize-small)' : false);

function request(model: string, calib: string, preprocess: QuantizeRequest['preprocess'], overrides: Partial<QuantizeRequest> = {}): QuantizeRequest {
  return {
    model, calib, calibCount: 100, calibBatch: 8, method: 'mse', percentile: 99.999, perChannel: true, activations: 'u8',
    weightRange: 'auto', equalize: true, equalizeStrength: 0.5, biasCorrection: 'auto', preprocess, evalCount: 300, evaluate: true, benchmark: false,
    benchRuns: 5, threads: 0, maxDrop: null, tuneTimeout: 600, speedAware: 'off', out: join(tempDir(), 'int8.onnx'), ...overrides,
  };
}

test('ResNet-20 CIFAR-10: int8 kernels everywhere, top-1 within 1 point, agreement ≥ 96%', { skip: missing }, async () => {
  const { report } = await quantizeModel(request(join(shared, 'models/cifar10/resnet20_cifar10_akamaster.onnx'),
    join(shared, 'images/cifar10-test'), 'torch', { evalCount: 600 }));
  assert.equal(report.int8RuntimeOps.QLinearConv, 19, JSON.stringify(report.int8RuntimeOps));
  assert.ok(!report.int8RuntimeOps.Conv, 'no float Conv');
  const a = report.accuracy!;
  assert.equal(a.n, 600);
  assert.ok(a.fp32!.top1 > 0.75, `FP32 top-1 ${a.fp32!.top1}`);
  assert.ok(a.top1DropPoints! <= 1, `drop ${a.top1DropPoints}`);
  assert.ok(a.agreement! >= 0.96, `agreement ${a.agreement}`);
  assert.ok(report.layers.length > 10 && report.layers.every((l) => Number.isFinite(l.sqnrDb)));
});

test('MobileNet-V1 0.75 ImageNet: weight rounding and bias correction kept by default, top-1 drop ≤ 1 point, agreement ≥ 94%', { skip: missing }, async () => {
  const { report } = await quantizeModel(request(join(shared, 'models/imagenet/mobilenet_v1_0.75_224_keras_fp32.onnx'),
    join(shared, 'images/imagenet-sample'), 'tf', { evalCount: 200 }));
  const a = report.accuracy!;
  assert.equal(report.evaluation!.skip, 100, 'evaluation skips the calibration images');
  assert.equal(report.int8RuntimeOps.QLinearConv, 28, JSON.stringify(report.int8RuntimeOps));
  const bias = report.calibration.biasCorrection!;
  assert.equal(report.settings.biasCorrection, true, `bias correction kept: ${JSON.stringify(bias.outputSqnrDb)}`);
  assert.equal(bias.layers, 28, 'every convolution corrected');
  const candidates = report.calibration.techniques!.candidates;
  const kept = candidates.find((c) => c.kept)!;
  assert.ok(kept.weightRounding, JSON.stringify(candidates));
  assert.ok(kept.outputSqnrDb > candidates[0].outputSqnrDb + 3, `depthwise-heavy MobileNet gains from the techniques: ${JSON.stringify(candidates)}`);
  assert.ok(a.fp32!.top1 > 0.75, `FP32 top-1 ${a.fp32!.top1}`);
  assert.ok(a.top1DropPoints! <= 1, `drop ${a.top1DropPoints}`);
  assert.ok(a.agreement! >= 0.94, `agreement ${a.agreement}`);
});

test('accuracy-aware mode: the top-ranked layer returned to FP32 reduces the error (MobileNet, saturating weights)', { skip: saturationSkip }, async () => {
  const { report } = await quantizeModel(request(join(shared, 'models/imagenet/mobilenet_v1_0.75_224_keras_fp32.onnx'),
    join(shared, 'images/imagenet-sample'), 'tf', { evalCount: 100, calibCount: 50, weightRange: 'full', biasCorrection: 'off', maxDrop: 1 }));
  const tuning = report.tuning!;
  assert.ok(tuning, 'tuning ran');
  const start = tuning.trials[0];
  assert.ok(start.top1DropPoints! > 1, `saturating weights lose accuracy here: ${start.top1DropPoints}`);
  const firstFallback = tuning.trials.find((t) => t.changed.startsWith('FP32:'));
  assert.ok(firstFallback, JSON.stringify(tuning.trials.map((t) => t.changed)));
  assert.equal(firstFallback!.excluded.length, 1, 'the first fallback returns exactly the top-ranked layer');
  const sensitivity = report.sensitivity!;
  assert.ok(sensitivity.length >= 20, `sensitivity measured for most layers: ${sensitivity.length}`);
  assert.equal(firstFallback!.excluded[0], sensitivity[0].node, 'the most sensitive layer goes first');
  assert.ok(sensitivity[0].outputSqnrGainDb > 3, JSON.stringify(sensitivity.slice(0, 3)));
  const fallbackIndex = tuning.trials.indexOf(firstFallback!);
  assert.ok(tuning.trials.slice(0, fallbackIndex).every((t) => t.excluded.length === 0), 'cheaper changes (methods) are tried first');
  assert.ok(firstFallback!.outputSqnrDb > start.outputSqnrDb + 3, `SQNR ${start.outputSqnrDb} -> ${firstFallback!.outputSqnrDb}`);
  assert.ok(firstFallback!.top1DropPoints! < start.top1DropPoints!);
  assert.equal(tuning.trials.filter((t) => t.kept).length, 1);
  assert.ok(report.keptFloat.some((k) => k.node === firstFallback!.excluded[0]), 'the kept model has that layer in FP32');
});
