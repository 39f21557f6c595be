// A channel whose weights all but vanished (a BatchNorm γ near 0 folded into the conv) but whose bias did not: its
// bias scale (input scale × weight scale) must not shrink with the weights until the bias clamps at int32 and is lost.
// The layer keeps its output (before the weight scale was floored, this fixture measured 2.8 dB at conv1, 9.6 dB at
// the output), and the bias codes stay within BIAS_CODE_LIMIT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { encodeModel } from '../../src/onnx/proto';
import { readModel } from '../../src/onnx/model-io';
import { makeTensor, tensorToFloat32 } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { biasFitMinScales, BIAS_CODE_LIMIT } from '../../src/quant/qparams';
import { quantizeModel } from '../../src/engine/commands/quantize';
import { tempDir, writeImageNpy } from '../fixtures/models';

function vanishedChannelModel() {
  const r = rng(21);
  const w1 = randomTensor('w1', [8, 3, 3, 3], r, 0.3);
  const b1 = randomTensor('b1', [8], r, 0.1);
  const weights = tensorToFloat32(w1);
  for (let i = 2 * 27; i < 3 * 27; i++) weights[i] *= 1e-9;
  const bias = tensorToFloat32(b1);
  bias[2] = 1.5;
  return buildModel([
    makeNode('Conv', ['x', 'w1', 'b1'], ['c1'], 'conv1', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]),
    makeNode('Relu', ['c1'], ['r1'], 'relu1'),
    makeNode('Conv', ['r1', 'w2'], ['y'], 'conv2', [intsAttribute('kernel_shape', [1, 1])]),
  ], [makeTensor('w1', [8, 3, 3, 3], weights), makeTensor('b1', [8], bias), randomTensor('w2', [4, 8, 1, 1], r, 0.3)],
  [valueInfo('x', ['N', 3, 16, 16])], [valueInfo('y', ['N', 4, 16, 16])], 13, 'octet-test-fixture');
}

test('a channel whose weights vanished keeps its bias: the weight scale is floored so the bias fits int32', async () => {
  const dir = tempDir();
  const model = join(dir, 'vanished.onnx');
  writeFileSync(model, encodeModel(vanishedChannelModel()));
  const data = writeImageNpy(dir, 48, [3, 16, 16]);
  const { report, modelPath } = await quantizeModel({ model, calib: data, calibCount: 32, preprocess: 'raw', method: 'minmax', evalCount: 16,
    evaluate: true, benchmark: false, speedAware: 'off', out: join(dir, 'vanished.int8.onnx') });
  const conv1 = report.layers.find((l) => l.node === 'conv1')!;
  assert.ok(conv1.sqnrDb! > 30, `conv1 SQNR ${conv1.sqnrDb} dB`);
  assert.ok(report.accuracy!.outputSqnrDb > 30, `output SQNR ${report.accuracy!.outputSqnrDb} dB`);
  const int8 = readModel(modelPath).model.graph!;
  const biasCodes = int8.initializer.find((t) => t.name?.startsWith('b1_') && t.data_type === 6)!;
  const codes = new Int32Array(Uint8Array.from(biasCodes.raw_data!).buffer);
  assert.ok(codes.every((c) => Math.abs(c) <= BIAS_CODE_LIMIT), `bias codes ${[...codes]}`);
  assert.ok(Math.abs(codes[2]) > 2 ** 20, 'the vanished channel needed the floor: its bias code is large, not clamped');
});

test('biasFitMinScales: the scale that puts |bias| at BIAS_CODE_LIMIT codes, per channel or the largest per tensor', () => {
  const bias = Float32Array.of(1.5, -3, 0);
  const floors = biasFitMinScales(bias, 0.02, false);
  for (let c = 0; c < bias.length; c++) assert.ok(Math.abs(floors[c] * 0.02 * BIAS_CODE_LIMIT - Math.abs(bias[c])) <= 1e-6 * Math.abs(bias[c]), `${c}: ${floors[c]}`);
  assert.deepEqual([...biasFitMinScales(bias, 0.02, true)], [floors[1]]);
});
