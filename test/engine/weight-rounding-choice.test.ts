// Weight rounding inside a conversion, on the small CNN of the fixtures with pair-safe weights: the rounded model
// keeps every int8 kernel ONNX Runtime fuses, its codes respect the pair-safe bound (no neighbouring same-sign pair
// above 128 in either K order), every Conv/Gemm is reported with its error before/after, the rounded layers' output
// error on calibration statistics falls, rounded layers' bias shifts are measured with their own weights, and
// chooseTechniques scores the baseline and each technique it decided, keeping the best.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Graph } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/proto';
import { tensorToArray } from '../../src/onnx/tensor';
import { runtimeOpHistogram } from '../../src/engine/runtime/session';
import { chooseTechniques, techniqueReport } from '../../src/engine/accuracy/techniques';
import { beats, SQNR_NOISE_DB } from '../../src/engine/accuracy/auto-choice';
import type { TechniqueCandidate } from '../../src/common/report';
import { conversionHarness } from '../fixtures/conversion-harness';
import { convertModel, planFor } from '../../src/quant/convert';
import { smallCnn, tempDir, writeImageNpy } from '../fixtures/models';

function worstConvPair(codes: Int8Array, dims: number[]): number {
  const [rows, inputs, kh, kw] = dims;
  const k = inputs * kh * kw;
  let worst = 0;
  for (let o = 0; o < rows; o++) {
    const nchw = Array.from({ length: k }, (_, i) => o * k + i);
    const nhwc: number[] = [];
    for (let s = 0; s < kh * kw; s++) for (let i = 0; i < inputs; i++) nhwc.push(o * k + i * kh * kw + s);
    for (const order of [nchw, nhwc]) {
      for (let i = 0; i + 1 < order.length; i++) {
        const [a, b] = [codes[order[i]], codes[order[i + 1]]];
        if (a !== 0 && Math.sign(a) === Math.sign(b)) worst = Math.max(worst, Math.abs(a) + Math.abs(b));
      }
    }
  }
  return worst;
}

test('rounded weights keep int8 kernels and the pair-safe bound, and every rounded layer is reported', async (t) => {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(smallCnn()));
  const data = writeImageNpy(dir, 96);
  const harness = await conversionHarness(modelPath, data, { preprocess: 'raw', calibCount: 48, checkCount: 32, weightRange: 'pair-safe' });
  const base = { method: 'minmax' as const, exclude: new Set<string>(), biasCorrection: false };
  const [nearest, rounded] = [await harness.builder.build(base), await harness.builder.build({ ...base, weightRounding: true })];

  const layers = rounded.roundedWeights ?? [];
  assert.deepEqual(layers.map((l) => l.node).sort(), ['conv1', 'conv4', 'dwconv', 'fc', 'pwconv']);
  for (const l of layers) {
    assert.ok(l.sqnrDb >= l.nearestSqnrDb, `${l.node}: ${l.nearestSqnrDb} → ${l.sqnrDb} dB`);
    t.diagnostic(`${l.node}: K=${l.inputs}, ${l.samples} vectors, ${l.nearestSqnrDb} → ${l.sqnrDb} dB, ${l.rowsChanged} rows changed`);
  }
  assert.ok(layers.some((l) => l.sqnrDb > l.nearestSqnrDb + 1 && l.rowsChanged > 0), 'some layer gains');
  assert.equal(nearest.roundedWeights, undefined);

  const graph = new Graph(rounded.model.graph!);
  for (const node of graph.nodes.filter((n) => n.op_type === 'Conv' && n.name !== 'dwconv')) {
    const codes = graph.initializers.get(graph.producers.get(node.input[1])!.input[0])!;
    assert.ok(worstConvPair(tensorToArray(codes) as Int8Array, codes.dims.map(Number)) <= 128, `${node.name} may saturate`);
  }
  const ops = await runtimeOpHistogram(rounded.bytes, dir, 'rounded');
  assert.equal(ops.QLinearConv, 4, JSON.stringify(ops));
  assert.ok(!ops.Conv, 'no float Conv');

  const REQUEST = { weightRounding: 'auto', biasCorrection: 'auto', floatNorms: 'auto' } as const;
  const outcome = await chooseTechniques(harness.builder, base, async () => harness.check, REQUEST);
  const names = outcome.candidates.map((c) => `${c.weightRounding ? 'rounded' : 'nearest'}, bias ${c.biasCorrection}`);
  const scored = (c: TechniqueCandidate) => ({ ...c, samples: 32 });
  const nearestOff = outcome.candidates.find((c) => !c.weightRounding && c.biasCorrection === 'off')!;
  const roundedOff = outcome.candidates.find((c) => c.weightRounding && c.biasCorrection === 'off')!;
  const roundingKept = beats(scored(roundedOff), scored(nearestOff));
  const weights = roundingKept ? 'rounded' : 'nearest';
  assert.deepEqual(names, ['nearest, bias off', 'rounded, bias off', `${weights}, bias fast`],
    'the baseline, rounding, then bias correction on the weights as chosen; no LayerNorm or Softmax here');
  const off = roundingKept ? roundedOff : nearestOff;
  const bias = outcome.candidates.find((c) => c.weightRounding === roundingKept && c.biasCorrection === 'fast')!;
  assert.equal(outcome.choice.biasCorrection, !beats(scored(off), scored(bias), SQNR_NOISE_DB), 'bias correction kept unless worse beyond the noise');
  const kept = outcome.candidates.filter((c) => c.kept);
  assert.equal(kept.length, 1);
  for (const c of outcome.candidates) assert.ok(!beats(scored(c), scored(kept[0]), SQNR_NOISE_DB), 'no candidate beats the kept one beyond the noise');
  assert.equal(outcome.choice.weightRounding, kept[0].weightRounding);
  assert.deepEqual(outcome.biasScores, { off: off.outputSqnrDb, on: bias.outputSqnrDb });
  const report = techniqueReport(harness.builder, outcome, outcome.conversion, outcome.choice, REQUEST, 32);
  assert.equal(report.weightRounding?.applied, outcome.choice.weightRounding === true);
  assert.ok(report.weightRounding!.seconds.moments > 0, 'this harness gathers moments in a pass of their own');
  assert.equal(report.floatNorms, null, 'no LayerNorm or Softmax here');
  assert.equal(report.biasCorrection?.layers, outcome.choice.biasCorrection ? 5 : 0);
  assert.equal(report.techniques?.candidates.length, names.length);

  // Forced on, rounding is applied before bias correction is decided (with and without, on rounded weights).
  const forced = await chooseTechniques(harness.builder, base, async () => harness.check, { ...REQUEST, weightRounding: 'on' });
  assert.deepEqual(forced.candidates.map((c) => `${c.weightRounding ? 'rounded' : 'nearest'}, bias ${c.biasCorrection}`),
    ['nearest, bias off', 'rounded, bias off', 'rounded, bias fast']);
  assert.equal(forced.choice.weightRounding, true);
});

test('the shifts of nearest and rounded weights are measured in one pass, each with its own weights', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(smallCnn(2)));
  const data = writeImageNpy(dir, 64, [3, 16, 16], 3);
  const { builder } = await conversionHarness(modelPath, data, { preprocess: 'raw', calibCount: 48, checkCount: 16 });
  const nearestChoice = { method: 'minmax' as const, exclude: new Set<string>(), biasCorrection: true };
  const roundedChoice = { ...nearestChoice, weightRounding: true };
  await builder.measureShifts([nearestChoice, roundedChoice]);
  const measuring = builder.biasSeconds;
  const [nearest, rounded] = [await builder.build(nearestChoice), await builder.build(roundedChoice)];
  assert.equal(builder.biasSeconds, measuring, 'building both measured nothing more');
  const biasOf = (model: typeof nearest.model, node: string) => {
    const graph = new Graph(model.graph!);
    const dq = graph.producers.get(graph.nodes.find((n) => n.name === node)!.input[2])!;
    return Array.from(tensorToArray(graph.initializers.get(dq.input[0])!), Number);
  };
  const roundedLayers = new Set((rounded.roundedWeights ?? []).map((l) => l.node));
  assert.ok(roundedLayers.size > 0);
  for (const node of ['conv1', 'dwconv', 'pwconv', 'conv4', 'fc']) {
    const [a, b] = [biasOf(nearest.model, node), biasOf(rounded.model, node)];
    if (roundedLayers.has(node)) assert.notDeepEqual(a, b, `${node}: rounded weights, its own shift`);
    else assert.deepEqual(a, b, `${node}: same weights, same shift`);
  }
});

test('layers rounded on the rounding threads get the codes the same rounding chooses on this thread', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(smallCnn(4)));
  const data = writeImageNpy(dir, 48, [3, 16, 16], 9);
  const h = await conversionHarness(modelPath, data, { preprocess: 'raw', calibCount: 32, checkCount: 8 });
  const choice = { method: 'minmax' as const, exclude: new Set<string>(), biasCorrection: false, weightRounding: true };
  const threaded = await h.builder.build(choice);
  assert.ok((threaded.roundedWeights ?? []).length > 0, 'some layer was rounded');

  const here = await conversionHarness(modelPath, data, { preprocess: 'raw', calibCount: 32, checkCount: 8 });
  const rounding = here.builder.rounding!;
  const { plan } = planFor(here.reference, here.ctx, new Set());
  await rounding.prepare(plan.quantized.filter((n) => ['Conv', 'Gemm'].includes(n.op_type ?? '')));
  const used = new Map();
  const plain = convertModel(here.reference, here.builder.setup.stats, { ...here.ctx, roundWeights: rounding.rounder(used) }, choice);
  assert.deepEqual(Buffer.from(encodeModel(plain.model)), Buffer.from(threaded.bytes), 'byte-identical models');
  assert.deepEqual([...used.keys()].sort(), threaded.roundedWeights!.map((l) => l.node).sort());
});
