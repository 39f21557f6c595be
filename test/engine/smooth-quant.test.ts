// SmoothQuant on an attention block built here (decomposed LayerNorm whose γ has a few outlier channels, as trained
// transformers do, feeding q/k/v projections, softmax attention and an output projection): the smoothed FP32 model
// computes the same outputs (within 1e-5), the outlier channels' range shrinks, and the INT8 model Octet makes from
// it is closer to FP32 than the one made from the original.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { makeTensor } from '../../src/onnx/tensor';
import { encodeModel, ModelProto } from '../../src/onnx/proto';
import { gaussian, rng } from '../../src/common/random';
import { probeTensors } from '../../src/engine/runtime/prepare';
import { describeInput } from '../../src/data/model-input';
import { lastAxisMaxProbe, smoothedTensors, smoothReference } from '../../src/engine/accuracy/smooth-pass';
import { collectStatistics } from '../../src/engine/runtime/calibrate';
import { quantizeModel } from '../../src/engine/commands/quantize';
import { openDataset, splitIndices } from '../../src/data/dataset';
import { openSampleSet } from '../../src/engine/runtime/sample-set';
import { presetPreprocessing, tempDir, writeNpy } from '../fixtures/models';
import { momentsOfScaled } from '../../src/engine/accuracy/input-moments';
import type { MomentTarget } from '../../src/engine/accuracy/input-moments';
import type { InputMoments } from '../../src/quant/weight-rounding';

const T = 16;
const D = 32;

function attentionBlock(): ModelProto {
  const r = rng(3);
  const gamma = Float32Array.from({ length: D }, (_, j) => (j % 11 === 3 ? 25 : 1) * (0.8 + 0.4 * r()));
  const beta = Float32Array.from({ length: D }, () => gaussian(r) * 0.1);
  const ln = (name: string) => `ln_${name}`;
  return buildModel([
    makeNode('ReduceMean', ['x'], [ln('mean')], 'ln/ReduceMean', [intsAttribute('axes', [-1])]),
    makeNode('Sub', ['x', ln('mean')], [ln('centered')], 'ln/Sub'),
    makeNode('Pow', [ln('centered'), 'two'], [ln('squared')], 'ln/Pow'),
    makeNode('ReduceMean', [ln('squared')], [ln('variance')], 'ln/ReduceMean_1', [intsAttribute('axes', [-1])]),
    makeNode('Add', [ln('variance'), 'eps'], [ln('variance_eps')], 'ln/Add'),
    makeNode('Sqrt', [ln('variance_eps')], [ln('std')], 'ln/Sqrt'),
    makeNode('Div', [ln('centered'), ln('std')], [ln('normalized')], 'ln/Div'),
    makeNode('Mul', [ln('normalized'), 'gamma'], [ln('scaled')], 'ln/Mul'),
    makeNode('Add', [ln('scaled'), 'beta'], ['y'], 'ln/Add_1'),
    makeNode('MatMul', ['y', 'wq'], ['q'], 'q_proj'),
    makeNode('MatMul', ['y', 'wk'], ['k'], 'k_proj'),
    makeNode('MatMul', ['y', 'wv'], ['v'], 'v_proj'),
    makeNode('Transpose', ['k'], ['kt'], 'k_transpose', [intsAttribute('perm', [0, 2, 1])]),
    makeNode('MatMul', ['q', 'kt'], ['scores'], 'scores'),
    makeNode('Mul', ['scores', 'temperature'], ['scaled_scores'], 'scale'),
    makeNode('Softmax', ['scaled_scores'], ['attention'], 'softmax', [intAttribute('axis', -1)]),
    makeNode('MatMul', ['attention', 'v'], ['mixed'], 'mix'),
    makeNode('MatMul', ['mixed', 'wo'], ['out'], 'out_proj'),
  ], [
    makeTensor('two', [], Float32Array.of(2)), makeTensor('eps', [], Float32Array.of(1e-5)),
    makeTensor('gamma', [D], gamma), makeTensor('beta', [D], beta),
    randomTensor('wq', [D, D], r, 0.05), randomTensor('wk', [D, D], r, 0.05), randomTensor('wv', [D, D], r, 0.15),
    randomTensor('wo', [D, D], r, 0.15), makeTensor('temperature', [], Float32Array.of(1 / Math.sqrt(D))),
  ], [valueInfo('x', ['N', T, D])], [valueInfo('out', ['N', T, D])], 13, 'octet-test-fixture');
}

function inputs(count: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: count * T * D }, () => gaussian(r) + 0.5);
}

async function run(model: ModelProto, x: Float32Array, count: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  const out = (await session.run({ x: new ort.Tensor('float32', x, [count, T, D]) })).out.data as Float32Array;
  await session.release();
  return Float32Array.from(out);
}

test('SmoothQuant keeps the FP32 function, shrinks the outlier channels and raises INT8 SQNR on an attention block', async (t) => {
  const model = attentionBlock();
  const input = describeInput(model, 'attention', {});
  const calibration = inputs(64, 1);
  const facts = await probeTensors(model, 'x', calibration.subarray(0, T * D), [1, T, D], 'attention');
  const dir = tempDir();
  const calibPath = join(dir, 'calibration.npy');
  writeNpy(calibPath, [64, T, D], calibration);
  const set = await openDataset(calibPath, { input, preprocessing: presetPreprocessing('raw', null) });
  const samples = await openSampleSet(set, splitIndices(set.size, 64, 0), input, 64);
  const smoothed = await smoothReference(model, { facts, opset: 13, eligible: () => true }, samples, input, { threads: 1 }, 'attention');
  assert.ok(smoothed, 'the LayerNorm feeding q/k/v is found');
  assert.equal(smoothed.layers.length, 1);
  const layer = smoothed.layers[0];
  assert.deepEqual([...layer.readers].sort(), ['k_proj', 'q_proj', 'v_proj']);
  assert.ok(layer.factorMax / layer.factorMin > 3, `factors ${layer.factorMin}..${layer.factorMax}`);
  assert.ok(layer.activationMax.after < layer.activationMax.before / 2, JSON.stringify(layer.activationMax));
  assert.deepEqual(smoothed.changedTensors, ['y']);
  // The statistics pass measures the same maxima (reduced inside ORT, optimized graph): the trial then needs no pass.
  const scope = { facts, opset: 13, eligible: () => true };
  const channels = smoothedTensors(model, scope);
  assert.deepEqual([...channels], [['y', D]]);
  const probe = lastAxisMaxProbe(model, channels);
  const [exposed] = [...probe.sourceOf.keys()];
  const pass = await collectStatistics(probe.model, [], samples, input, { threads: 1, level: 'all' }, 'attention', { maxed: [exposed] });
  const fromPass = smoothReference(model, scope, samples.slice(0, 0), input, { threads: 1 }, 'attention',
    new Map([['y', Float64Array.from(pass.maxima.get(exposed)!)]]));
  const again = (await fromPass)!;
  assert.deepEqual(again.factors.get('y'), smoothed.factors.get('y'), 'the same factors, without reading a sample');

  const fresh = inputs(8, 2);
  const [before, after] = [await run(model, fresh, 8), await run(smoothed.model, fresh, 8)];
  let worst = 0;
  for (let i = 0; i < before.length; i++) worst = Math.max(worst, Math.abs(before[i] - after[i]));
  const scale = before.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(worst <= 1e-5 * Math.max(1, scale), `FP32 outputs moved by up to ${worst} (largest |output| ${scale})`);

  const data = join(dir, 'data.npy');
  writeNpy(data, [160, T, D], inputs(160, 5));
  const sqnrOf = async (m: ModelProto, name: string) => {
    const path = join(dir, `${name}.onnx`);
    writeFileSync(path, encodeModel(m));
    const { report } = await quantizeModel({
      model: path, calib: data, calibCount: 64, calibBatch: 16, method: 'minmax', percentile: 99.999, perChannel: true, activations: 'u8',
      weightRange: 'full', equalize: false, equalizeStrength: 0.5, biasCorrection: 'off', weightRounding: 'off', floatNorms: 'off', smoothQuant: 'off',
      preprocess: 'raw', evalCount: 96, evaluate: true,
      benchmark: false, benchRuns: 1, threads: 1, maxDrop: null, tuneTimeout: 10, speedAware: 'off', out: join(dir, `${name}.int8.onnx`),
    });
    return report.accuracy!.outputSqnrDb;
  };
  const [plain, smooth] = [await sqnrOf(model, 'plain'), await sqnrOf(smoothed.model, 'smoothed')];
  t.diagnostic(`FP32 change ${worst.toExponential(2)} (|output| ≤ ${scale.toFixed(2)}); INT8 SQNR ${plain.toFixed(2)} → ${smooth.toFixed(2)} dB`);
  assert.ok(smooth > plain + 1, `INT8 output SQNR ${plain.toFixed(2)} dB without, ${smooth.toFixed(2)} dB with SmoothQuant`);
});

test('a smoothed layer keeps its rounding moments: those of x/s are D⁻¹ Σ x xᵀ D⁻¹ and Σ x / s, block by block', () => {
  const [vectors, size, blocks] = [50, 3, 2];
  const inputs = size * blocks;
  const x = Array.from({ length: vectors }, (_, v) => Array.from({ length: inputs }, (_, i) => Math.sin(7 * v + 3 * i) * (i + 1)));
  const s = Float64Array.from({ length: inputs }, (_, i) => 0.5 + 0.75 * i);
  const momentsOf = (rows: number[][]): InputMoments => {
    const secondMoments = new Float64Array(blocks * size * size);
    const sums = new Float64Array(inputs);
    for (const row of rows) {
      for (let b = 0; b < blocks; b++) {
        for (let i = 0; i < size; i++) {
          sums[b * size + i] += row[b * size + i];
          for (let j = 0; j < size; j++) secondMoments[b * size * size + i * size + j] += row[b * size + i] * row[b * size + j];
        }
      }
    }
    return { groups: 1, blocksPerGroup: blocks, size, secondMoments, sums, count: rows.length };
  };
  const target: MomentTarget = { node: 'fc', layout: 'columns', groups: 1, blocksPerGroup: blocks, size, inputs, step: 1, positions: 0 };
  const scaled = momentsOfScaled(momentsOf(x), target, s)!;
  const direct = momentsOf(x.map((row) => row.map((v, i) => v / s[i])));
  for (let i = 0; i < direct.secondMoments.length; i++) assert.ok(Math.abs(scaled.secondMoments[i] - direct.secondMoments[i]) < 1e-9 * (1 + Math.abs(direct.secondMoments[i])));
  for (let i = 0; i < inputs; i++) assert.ok(Math.abs(scaled.sums[i] - direct.sums[i]) < 1e-9);
  assert.equal(scaled.count, vectors);
  assert.equal(momentsOfScaled(momentsOf(x), { ...target, layout: 'conv' }, s), null, 'a convolution\'s inputs are not the channels');
  assert.equal(momentsOfScaled(momentsOf(x), target, s.subarray(1)), null, 'another channel count');
});
