// Sequential bias correction against the fast (layer by layer, FP32 inputs) one on a synthetic chain of convolutions
// with coarse 7-bit weights and ReLUs, where rounding noise shifts every later layer's mean (a ReLU of a noisy input
// has a higher mean): both must lower the output's mean error, and the sequential one — which measures each layer on
// the INT8 model's own inputs — must leave less of it at the output than the fast one, on samples it did not see;
// asked for (--bias-correction sequential), it is the one written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { encodeModel, NodeProto, TensorProto } from '../../src/onnx/proto';
import { rng } from '../../src/common/random';
import { ConvertChoice } from '../../src/quant/convert';
import { chooseTechniques } from '../../src/engine/accuracy/techniques';
import { conversionHarness } from '../fixtures/conversion-harness';
import { tempDir, writeImageNpy } from '../fixtures/models';

const LAYERS = 5;

function chainModel() {
  const r = rng(21);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let input = 'x';
  let channels = 4;
  for (let i = 0; i < LAYERS; i++) {
    const out = i === LAYERS - 1 ? 'y' : `relu${i}`;
    inits.push(randomTensor(`w${i}`, [8, channels, 3, 3], r, 0.35 / Math.sqrt(channels)), randomTensor(`b${i}`, [8], r, 0.05, 0.05));
    nodes.push(makeNode('Conv', [input, `w${i}`, `b${i}`], [i === LAYERS - 1 ? out : `conv${i}`], `conv${i}`,
      [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1]), intAttribute('group', 1)]));
    if (i < LAYERS - 1) nodes.push(makeNode('Relu', [`conv${i}`], [out], `relu${i}`));
    input = out;
    channels = 8;
  }
  return buildModel(nodes, inits, [valueInfo('x', ['N', 4, 12, 12])], [valueInfo('y', ['N', 8, 12, 12])], 13, 'octet-test-fixture');
}

/** Mean over output channels of |mean over the check samples of (INT8 − FP32)|. */
async function outputMeanError(bytes: Uint8Array, x: Float32Array, fp32: Float32Array, count: number): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  const q = (await session.run({ x: new ort.Tensor('float32', x, [count, 4, 12, 12]) })).y.data as Float32Array;
  await session.release();
  const inner = 12 * 12;
  let total = 0;
  for (let c = 0; c < 8; c++) {
    let sum = 0;
    for (let n = 0; n < count; n++) for (let i = 0; i < inner; i++) sum += q[(n * 8 + c) * inner + i] - fp32[(n * 8 + c) * inner + i];
    total += Math.abs(sum / (count * inner));
  }
  return total / 8;
}

test('sequential bias correction leaves less output mean error than the fast one on a chain of coarse convolutions', async (t) => {
  const dir = tempDir();
  const modelPath = join(dir, 'chain.onnx');
  const model = chainModel();
  writeFileSync(modelPath, encodeModel(model));
  const data = writeImageNpy(dir, 128, [4, 12, 12]);
  const harness = await conversionHarness(modelPath, data, { preprocess: 'raw', calibCount: 64, checkCount: 64, weightRange: '7bit' });
  const base: ConvertChoice = { method: 'minmax', exclude: new Set(), biasCorrection: false };
  const [off, fast, sequential] = [
    await harness.builder.build(base),
    await harness.builder.build({ ...base, biasCorrection: true }),
    await harness.builder.build({ ...base, biasCorrection: true, biasCorrectionMode: 'sequential' }),
  ];
  assert.equal(fast.biasCorrected, LAYERS);
  assert.equal(sequential.biasCorrected, LAYERS);
  const batches = [];
  for await (const b of harness.check.reference.samples.batches()) batches.push(b);
  const x = new Float32Array(batches.flatMap((b) => [...b.data]));
  const count = harness.check.reference.samples.size;
  const session = await ort.InferenceSession.create(encodeModel(model));
  const fp32 = Float32Array.from((await session.run({ x: new ort.Tensor('float32', x, [count, 4, 12, 12]) })).y.data as Float32Array);
  await session.release();
  const [errOff, errFast, errSeq] = [await outputMeanError(off.bytes, x, fp32, count), await outputMeanError(fast.bytes, x, fp32, count),
    await outputMeanError(sequential.bytes, x, fp32, count)];
  t.diagnostic(`output mean error: none ${errOff.toExponential(2)}, fast ${errFast.toExponential(2)}, sequential ${errSeq.toExponential(2)}`);
  assert.ok(errFast < errOff, 'fast correction helps');
  assert.ok(errSeq < errFast * 0.7, 'sequential correction leaves less mean error at the output');

  // Sequential correction is never tried by 'auto' (it costs one ORT pass per layer depth): asked for, it is written.
  const forced = await chooseTechniques(harness.builder, base, async () => harness.check,
    { weightRounding: 'off', biasCorrection: 'sequential', floatNorms: 'auto' });
  assert.equal(forced.choice.biasCorrectionMode, 'sequential');
  assert.deepEqual(forced.candidates, [], 'nothing left to compare');
  assert.equal(forced.conversion.biasCorrected, LAYERS);
});
