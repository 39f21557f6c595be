// Activation range equalization: the FP32 function is unchanged (checked with onnxruntime on a model built here),
// channel ranges become balanced, and INT8 error drops on a model whose channels are badly imbalanced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { encodeModel, ModelProto } from '../../src/onnx/proto';
import { makeTensor, tensorToFloat32 } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { equalizePairs, findEqualizationPairs } from '../../src/quant/equalize';
import { quantizeModel } from '../../src/engine/commands/quantize';
import { tempDir, writeImageNpy } from '../fixtures/models';

/** conv1 (8 channels whose ranges span 1000x) -> Relu -> conv2 (reads them back up) -> output. */
function imbalancedModel(): ModelProto {
  const r = rng(11);
  const w1 = randomTensor('w1', [8, 3, 3, 3], r, 0.3);
  const values = tensorToFloat32(w1);
  for (let c = 0; c < 8; c++) for (let k = 0; k < 27; k++) values[c * 27 + k] *= 10 ** (-c * 3 / 7);
  const w2 = randomTensor('w2', [4, 8, 1, 1], r, 0.3);
  const v2 = tensorToFloat32(w2);
  for (let o = 0; o < 4; o++) for (let c = 0; c < 8; c++) v2[o * 8 + c] *= 10 ** (c * 3 / 7);
  const nodes = [
    makeNode('Conv', ['image', 'w1', 'b1'], ['c1'], 'conv1', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]),
    makeNode('Relu', ['c1'], ['r1'], 'relu1'),
    makeNode('Conv', ['r1', 'w2'], ['c2'], 'conv2', [intsAttribute('kernel_shape', [1, 1]), intAttribute('group', 1)]),
    makeNode('GlobalAveragePool', ['c2'], ['out'], 'gap'),
  ];
  return buildModel(nodes, [makeTensor('w1', [8, 3, 3, 3], values), makeTensor('b1', [8], new Float32Array(8).fill(0.01)), makeTensor('w2', [4, 8, 1, 1], v2)],
    [valueInfo('image', ['N', 3, 16, 16])], [valueInfo('out', ['N', 4, 1, 1])]);
}

async function run(model: ModelProto, x: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(encodeModel(model));
  const out = await s.run({ image: new ort.Tensor('float32', x, [1, 3, 16, 16]) });
  return out.out.data as Float32Array;
}

test('equalization keeps the FP32 function and balances channel ranges', async () => {
  const model = imbalancedModel();
  const graph = new Graph(model.graph!);
  const pairs = findEqualizationPairs(graph, 13, () => true);
  assert.deepEqual(pairs.map((p) => [p.producer.name, p.activation?.name, p.consumer.name, p.tensor]), [['conv1', 'relu1', 'conv2', 'r1']]);
  const maxima = Float32Array.from({ length: 8 }, (_, c) => 10 ** (-c * 3 / 7));
  const x = Float32Array.from({ length: 3 * 16 * 16 }, (_, i) => Math.sin(i * 0.1));
  const before = await run(model, x);
  const applied = equalizePairs(graph, pairs, new Map([['r1', maxima]]), { strength: 1, deadRatio: 1e-6 });
  const s = applied.get('r1')!;
  for (let c = 0; c < 8; c++) assert.ok(Math.abs(maxima[c] / s[c] - 1) < 1e-5, 'every channel now reaches the maximum');
  const after = await run(model, x);
  for (let i = 0; i < before.length; i++) assert.ok(Math.abs(before[i] - after[i]) <= 1e-4 * Math.max(1, Math.abs(before[i])), `output ${i}`);
});

test('equalization raises INT8 output SQNR on an imbalanced model', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'imbalanced.onnx');
  writeFileSync(modelPath, encodeModel(imbalancedModel()));
  const data = writeImageNpy(dir, 48);
  const base = {
    model: modelPath, calib: data, calibCount: 24, calibBatch: 8, method: 'minmax' as const, percentile: 99.999, perChannel: true,
    activations: 'u8' as const, weightRange: 'full' as const, equalizeStrength: 1, biasCorrection: 'off' as const, preprocess: 'raw' as const, evalCount: 24,
    evaluate: true, benchmark: false, benchRuns: 1, threads: 1, maxDrop: null, tuneTimeout: 10, speedAware: 'off' as const,
  };
  const off = await quantizeModel({ ...base, equalize: false, out: join(dir, 'off.onnx') });
  const on = await quantizeModel({ ...base, equalize: true, out: join(dir, 'on.onnx') });
  assert.equal(on.report.settings.equalize, true);
  const [a, b] = [off.report.accuracy!.outputSqnrDb, on.report.accuracy!.outputSqnrDb];
  assert.ok(b > a + 6, `SQNR without ${a.toFixed(1)} dB, with ${b.toFixed(1)} dB`);
});
