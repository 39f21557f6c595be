// Bias correction on a model built so that weight rounding shifts output means (coarse 7-bit weights over a
// post-ReLU, positive-mean input): corrected, the INT8 output's per-channel mean error must shrink and SQNR rise;
// a Conv without bias gets one and ORT still runs it as QLinearConv; 'auto' keeps what its own scores favour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { encodeModel } from '../../src/onnx/proto';
import { readModel } from '../../src/onnx/model-io';
import { rng } from '../../src/common/random';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { QuantizeRequest } from '../../src/engine/request';
import { tempDir, writeImageNpy } from '../fixtures/models';

function shiftedModel() {
  const r = rng(11);
  const conv = (name: string, inputs: string[], output: string) => makeNode('Conv', inputs, [output], name,
    [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1]), intAttribute('group', 1)]);
  return buildModel([
    conv('conv1', ['x', 'w1', 'b1'], 'c1'),
    makeNode('Relu', ['c1'], ['r1'], 'relu1'),
    conv('conv2', ['r1', 'w2'], 'y'),
  ], [randomTensor('w1', [16, 4, 3, 3], r, 0.3), randomTensor('b1', [16], r, 0.2, 0.3), randomTensor('w2', [8, 16, 3, 3], r, 0.1)],
  [valueInfo('x', ['N', 4, 16, 16])], [valueInfo('y', ['N', 8, 16, 16])], 13, 'octet-test-fixture');
}

/** Conv -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> Softmax at opset 10 (Softmax keeps it there): Gemm's C is required. */
function gemmOpset10Model() {
  const r = rng(12);
  return buildModel([
    makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]),
    makeNode('Relu', ['c1'], ['r1'], 'relu1'),
    makeNode('GlobalAveragePool', ['r1'], ['g'], 'gap'),
    makeNode('Flatten', ['g'], ['f'], 'flatten'),
    makeNode('Gemm', ['f', 'wfc', 'bfc'], ['logits'], 'fc', [intAttribute('transB', 1)]),
    makeNode('Softmax', ['logits'], ['y'], 'softmax'),
  ], [randomTensor('w1', [16, 4, 3, 3], r, 0.3), randomTensor('b1', [16], r, 0.2, 0.3), randomTensor('wfc', [8, 16], r, 0.3),
    randomTensor('bfc', [8], r, 0.1)],
  [valueInfo('x', ['N', 4, 16, 16])], [valueInfo('y', ['N', 8])], 10, 'octet-test-fixture');
}

function setup(fp32 = shiftedModel()) {
  const dir = tempDir();
  const model = join(dir, 'shifted.onnx');
  writeFileSync(model, encodeModel(fp32));
  const data = writeImageNpy(dir, 96, [4, 16, 16]);
  const request = (biasCorrection: QuantizeRequest['biasCorrection']): QuantizeRequest => ({
    model, calib: data, calibCount: 64, calibBatch: 8, method: 'minmax', percentile: 99.999, perChannel: true, activations: 'u8',
    weightRange: '7bit', equalize: false, equalizeStrength: 0.5, biasCorrection, weightRounding: 'off', preprocess: 'raw', evalCount: 32, evaluate: true,
    benchmark: false, benchRuns: 1, threads: 1, maxDrop: null, tuneTimeout: 10, speedAware: 'off', out: join(dir, `int8-${biasCorrection}.onnx`),
  });
  return { dir, model, request };
}

/** Mean over output channels of |mean over samples and positions of (INT8 − FP32)|, on fresh inputs. */
async function meanShift(fp32: string, int8: string): Promise<number> {
  const r = rng(99);
  const x = Float32Array.from({ length: 16 * 4 * 16 * 16 }, () => Math.max(-2, Math.min(2, (r() - 0.5) * 3)));
  const feeds = { x: new ort.Tensor('float32', x, [16, 4, 16, 16]) };
  const [f, q] = await Promise.all([fp32, int8].map(async (path) => {
    const session = await ort.InferenceSession.create(path);
    const out = (await session.run(feeds)).y.data as Float32Array;
    await session.release();
    return out;
  }));
  const inner = 16 * 16;
  let total = 0;
  for (let c = 0; c < 8; c++) {
    let sum = 0;
    for (let n = 0; n < 16; n++) for (let i = 0; i < inner; i++) sum += q[(n * 8 + c) * inner + i] - f[(n * 8 + c) * inner + i];
    total += Math.abs(sum / (16 * inner));
  }
  return total / 8;
}

test('bias correction removes the output mean shift of coarse weights and raises SQNR', async () => {
  const { model, request } = setup();
  const off = await quantizeModel(request('off'));
  const on = await quantizeModel(request('on'));
  assert.equal(off.report.calibration.biasCorrection, null);
  assert.equal(on.report.settings.biasCorrection, true);
  assert.equal(on.report.calibration.biasCorrection!.layers, 2, 'both convolutions corrected');
  assert.equal(on.report.int8RuntimeOps.QLinearConv, 2, `still fused: ${JSON.stringify(on.report.int8RuntimeOps)}`);
  assert.ok(!on.report.int8RuntimeOps.Conv, 'no float Conv');
  const conv2 = readModel(on.modelPath).model.graph!.node.find((n) => n.name === 'conv2')!;
  assert.equal(conv2.input.length, 3, 'conv2 had no bias and got one');

  const [shiftOff, shiftOn] = [await meanShift(model, off.modelPath), await meanShift(model, on.modelPath)];
  assert.ok(shiftOn < shiftOff * 0.5, `mean shift without ${shiftOff.toExponential(2)}, with ${shiftOn.toExponential(2)}`);
  const [sqnrOff, sqnrOn] = [off.report.accuracy!.outputSqnrDb, on.report.accuracy!.outputSqnrDb];
  assert.ok(sqnrOn > sqnrOff + 0.3, `SQNR without ${sqnrOff} dB, with ${sqnrOn} dB`);
});

test("bias correction 'auto' keeps it only when its own comparison favours it", async () => {
  const { request } = setup();
  const { report } = await quantizeModel(request('auto'));
  const measured = report.calibration.biasCorrection!;
  assert.ok(measured.outputSqnrDb, 'auto compared with and without');
  assert.equal(report.settings.biasCorrectionRequested, 'auto');
  assert.equal(report.settings.biasCorrection, measured.outputSqnrDb!.on > measured.outputSqnrDb!.off);
  assert.equal(measured.layers, report.settings.biasCorrection ? 2 : 0);
  assert.equal(report.settings.biasCorrection, true, `this model's means shift: ${JSON.stringify(measured.outputSqnrDb)}`);
});

test('bias correction of a Gemm at opset 10 (C required by Gemm-9) measures and corrects it', async () => {
  const { request } = setup(gemmOpset10Model());
  const on = await quantizeModel(request('on'));
  assert.equal(on.report.settings.biasCorrection, true);
  assert.equal(on.report.calibration.biasCorrection!.layers, 2, 'conv1 and fc corrected');
  assert.equal(on.report.int8RuntimeOps.QGemm, 1, `still fused: ${JSON.stringify(on.report.int8RuntimeOps)}`);
});
