// Activation equalization folded into the statistics pass (rescaled-tensors.ts) gives the statistics and input moments
// a pass over the equalized model gives: the same channel scales, and for every tensor the equalization rescales — a
// producer's output, its ReLU's output (exposed in half precision) and a smaller one exposed whole — the same extent,
// count and histogram, and for the layers reading them the same Σ x xᵀ and Σ x, to float rounding. A tensor the
// equalization leaves alone (the model input) is unchanged. Its channels span 2^-4..2^3, so the scales are far from 1.
// At opset 13 and 18 (where the per-channel reductions take their axes as an input).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDataset, splitIndices } from '../../src/data/dataset';
import { describeInput } from '../../src/data/model-input';
import { DEFAULT_MOMENT_LIMITS, momentProbe, momentsOfPass, planMoments } from '../../src/engine/accuracy/input-moments';
import { collectChannelMaxima, collectStatistics } from '../../src/engine/runtime/calibrate';
import { probeTensors } from '../../src/engine/runtime/prepare';
import { openSampleSet } from '../../src/engine/runtime/sample-set';
import { intsAttribute, randomTensor } from '../../src/onnx/build';
import { copyProto, Graph, makeNode } from '../../src/onnx/graph';
import type { ModelProto } from '../../src/onnx/proto';
import { tensorToFloat32, makeTensor } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { equalizePairs, findEqualizationPairs } from '../../src/quant/equalize';
import { buildModel, presetPreprocessing, tempDir, valueInfo, writeImageNpy } from '../fixtures/models';

const SIZE = 128;
const SAMPLES = 40;
const BEFORE = 16;
const DIMS: Record<string, number[]> = { x: [1, 4, SIZE, SIZE], c1: [1, 8, SIZE, SIZE], r1: [1, 8, SIZE, SIZE], c2: [1, 8, SIZE / 4, SIZE / 4],
  r2: [1, 8, SIZE / 4, SIZE / 4], out: [1, 4, SIZE / 4, SIZE / 4] };
const TENSORS = ['x', 'c1', 'r1', 'r2'];
const EQUALIZE = { strength: 0.5, deadRatio: 1e-3 };

/** x → Conv 3×3 (output channel c scaled by 2^(c-4)) → Relu → Conv 3×3 stride 4 → Relu → Conv 1×1. */
function pairsModel(opset: number): ModelProto {
  const r = rng(9);
  const w1 = randomTensor('w1', [8, 4, 3, 3], r, 0.3);
  const values = tensorToFloat32(w1);
  for (let i = 0; i < values.length; i++) values[i] *= 2 ** (Math.floor(i / 36) - 4);
  const conv = (name: string, input: string, output: string, kernel: number, strides: number) => makeNode('Conv', [input, `w${name}`, `b${name}`], [output], `conv${name}`,
    [intsAttribute('kernel_shape', [kernel, kernel]), intsAttribute('strides', [strides, strides]), intsAttribute('pads', kernel === 3 ? [1, 1, 1, 1] : [0, 0, 0, 0])]);
  return buildModel([
    conv('1', 'x', 'c1', 3, 1), makeNode('Relu', ['c1'], ['r1'], 'relu1'),
    conv('2', 'r1', 'c2', 3, 4), makeNode('Relu', ['c2'], ['r2'], 'relu2'),
    conv('3', 'r2', 'out', 1, 1),
  ], [makeTensor('w1', [8, 4, 3, 3], values), randomTensor('b1', [8], r, 0.1), randomTensor('w2', [8, 8, 3, 3], r, 0.2), randomTensor('b2', [8], r, 0.1),
    randomTensor('w3', [4, 8, 1, 1], r, 0.3), randomTensor('b3', [4], r, 0.1)],
  [valueInfo('x', ['N', 4, SIZE, SIZE])], [valueInfo('out', ['N', 4, SIZE / 4, SIZE / 4])], opset, 'octet-test-fixture');
}

const close = (a: number, b: number, what: string, tolerance = 1e-5) =>
  assert.ok(Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b), 1e-12), `${what}: ${a} vs ${b}`);

for (const opset of [13, 18]) test(`equalizing after the first samples of the statistics pass gives the statistics and moments of a pass over the equalized model (opset ${opset})`, async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'pairs.onnx');
  const model = pairsModel(opset);
  const input = describeInput(model, modelPath);
  const data = await openDataset(writeImageNpy(dir, SAMPLES, [4, SIZE, SIZE], 5), { input, preprocessing: presetPreprocessing('raw', null) });
  const samples = await openSampleSet(data, splitIndices(data.size, SAMPLES, 0), input, 4, { passes: 4 });
  const first = (await samples.first()).data;
  const facts = await probeTensors(model, 'x', first, [1, 4, SIZE, SIZE], modelPath);
  const options = { threads: 1, tensorDims: (t: string) => DIMS[t], tensorBytes: (t: string) => (DIMS[t] ? DIMS[t].reduce((a, b) => a * b, 4) : undefined) };

  // As before: the channel maxima of a pass of their own over the first samples, equalize, then the statistics pass.
  const separate = copyProto(model);
  const separateGraph = new Graph(separate.graph!);
  const separatePairs = findEqualizationPairs(separateGraph, opset, () => true);
  assert.deepEqual(separatePairs.map((p) => p.tensor), ['r1', 'r2']);
  const maxima = await collectChannelMaxima(separate, separatePairs.map((p) => p.tensor), samples.slice(0, BEFORE), input, options, modelPath);
  const separateScales = equalizePairs(separateGraph, separatePairs, maxima, EQUALIZE);
  const targets = planMoments(separateGraph, ['conv2', 'conv3'].map((n) => separateGraph.nodes.find((x) => x.name === n)!), facts, DEFAULT_MOMENT_LIMITS, SAMPLES).targets;
  assert.equal(targets.length, 2);
  const separateProbe = momentProbe(separate, targets);
  const want = await collectStatistics(separateProbe.model, TENSORS, samples, input, options, modelPath, { summed: separateProbe.outputs });

  // Folded: the same pass measures the channel ranges on its first samples and equalizes there.
  const folded = copyProto(model);
  const foldedGraph = new Graph(folded.graph!);
  const foldedPairs = findEqualizationPairs(foldedGraph, opset, () => true);
  const pairOf = new Map([['c1', 'r1'], ['r1', 'r1'], ['r2', 'r2']]);
  let foldedScales = new Map<string, Float32Array>();
  const foldedProbe = momentProbe(folded, targets);
  // afterRuns: once, after the last run over every sample (not after the samples before the rescaling).
  let progress = 0;
  const afterRuns: number[] = [];
  const got = await collectStatistics(foldedProbe.model, TENSORS, samples, input,
    { ...options, onProgress: (done) => { progress = done; }, afterRuns: () => afterRuns.push(progress) }, modelPath, {
    summed: foldedProbe.outputs,
    rescaling: {
      samples: BEFORE, tensors: new Set(pairOf.keys()),
      rescale: (measured) => {
        foldedScales = equalizePairs(foldedGraph, foldedPairs, new Map([...measured].filter(([t]) => t === 'r1' || t === 'r2')), EQUALIZE);
        return { model: momentProbe(folded, targets).model, scales: new Map([...pairOf].map(([t, pair]) => [t, foldedScales.get(pair)!])) };
      },
    },
  });
  assert.equal(got.images, SAMPLES);
  assert.deepEqual(afterRuns, [SAMPLES], 'called once, after the last sample\'s run');
  assert.ok(got.sumsBeforeRescaling && got.sumsBeforeRescaling.size > 0, 'the moments of the samples before the rescaling are kept apart');

  for (const t of ['r1', 'r2']) {
    const [a, b] = [foldedScales.get(t)!, separateScales.get(t)!];
    assert.ok(Math.min(...a) < 0.5, `${t}: the equalization rescales channels (smallest factor ${Math.min(...a)})`);
    a.forEach((v, c) => close(v, b[c], `${t} scale ${c}`, 1e-6));
  }
  for (const t of TENSORS) {
    const [g, w] = [got.stats.get(t)!, want.stats.get(t)!];
    close(g.min, w.min, `${t} min`);
    close(g.max, w.max, `${t} max`);
    assert.equal(g.count, w.count, `${t}: count`);
    close(g.range, w.range, `${t}: R`);
    let [cumG, cumW, worst] = [0, 0, 0];
    for (let i = 0; i < g.bins.length; i++) {
      cumG += g.bins[i] / g.count;
      cumW += w.bins[i] / w.count;
      worst = Math.max(worst, Math.abs(cumG - cumW));
    }
    assert.ok(worst < 1e-3, `${t}: cumulative shares within 0.1 % (${worst})`);
  }
  const wantMoments = separateProbe.read(want.sums);
  assert.deepEqual([...got.rescaledBy.keys()].sort(), ['c1', 'r1', 'r2'], 'the result says which tensors were rescaled');
  const gotMoments = momentsOfPass(foldedProbe, targets, foldedGraph, got);
  for (const target of targets) {
    const [g, w] = [gotMoments.get(target.node)!, wantMoments.get(target.node)!];
    assert.equal(g.count, w.count, `${target.node}: vectors`);
    const scale = Math.max(...w.secondMoments.map(Math.abs));
    g.secondMoments.forEach((v, i) => assert.ok(Math.abs(v - w.secondMoments[i]) <= 1e-5 * scale, `${target.node}: Σ x xᵀ[${i}] ${v} vs ${w.secondMoments[i]}`));
    const sumScale = Math.max(...w.sums.map(Math.abs));
    g.sums.forEach((v, i) => assert.ok(Math.abs(v - w.sums[i]) <= 1e-5 * sumScale, `${target.node}: Σ x[${i}] ${v} vs ${w.sums[i]}`));
  }
});
