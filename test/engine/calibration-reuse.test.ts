// What the quantize pipeline computes once and reuses, checked against computing it again the plain way:
// per-channel passes reduce inside ONNX Runtime (maxima exact, means to float32 row precision), the check set's FP32
// outputs come from the statistics pass, and conversions of one builder share ranges and nearest weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel, ModelProto } from '../../src/onnx/proto';
import { collectChannelMaxima, collectChannelMeans, collectStatistics, forEachBatch } from '../../src/engine/runtime/calibrate';
import { OutputCapture, Reference } from '../../src/engine/runtime/evaluate';
import { materialize } from '../../src/engine/runtime/sample-set';
import { Conversion, convertModel, planFor } from '../../src/quant/convert';
import { ConversionCache } from '../../src/quant/conversion-cache';
import { conversionHarness } from '../fixtures/conversion-harness';
import { findBiasTargets, measureBiasShifts } from '../../src/engine/accuracy/bias-correction';
import { buildModel, smallCnn, tempDir, valueInfo, writeImageNpy } from '../fixtures/models';
import { Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { intsAttribute, randomTensor } from '../../src/onnx/build';
import { rng } from '../../src/common/random';
import { ConversionBuilder } from '../../src/engine/accuracy/conversion-builder';
import { sameStructure } from '../../src/onnx/structure';

/** Convolutions with what the patch sums must get right: strides ≠ dilations, asymmetric pads, groups, a strided 1×1. */
function oddConvs(): ModelProto {
  const r = rng(11);
  return buildModel([
    makeNode('Conv', ['image', 'w1', 'b1'], ['c1'], 'odd', [intsAttribute('strides', [2, 1]), intsAttribute('dilations', [1, 2]),
      intsAttribute('pads', [1, 0, 0, 2]), intAttribute('group', 3)]),
    makeNode('Relu', ['c1'], ['r1'], 'relu'),
    makeNode('Conv', ['r1', 'w2'], ['c2'], 'strided1x1', [intsAttribute('strides', [2, 2])]),
  ], [randomTensor('w1', [6, 1, 3, 3], r, 0.4), randomTensor('b1', [6], r, 0.1), randomTensor('w2', [5, 6, 1, 1], r, 0.3)],
  [valueInfo('image', ['N', 3, 16, 16])], [valueInfo('c2', ['N', 5, 4, 7])], 13);
}

async function harness(model: ModelProto = smallCnn(3)) {
  const dir = tempDir();
  const modelPath = join(dir, 'cnn.onnx');
  writeFileSync(modelPath, encodeModel(model));
  const data = writeImageNpy(dir, 40, [3, 16, 16], 5);
  return { modelPath, ...(await conversionHarness(modelPath, data, { preprocess: 'raw', calibCount: 24, checkCount: 8, batch: 5 })) };
}

/** Every float element of `tensors`, per tensor, as the exposure pass hands them over. */
async function exposed(model: ModelProto, tensors: string[], h: Awaited<ReturnType<typeof harness>>): Promise<Map<string, { data: number[]; dims: number[] }[]>> {
  const seen = new Map<string, { data: number[]; dims: number[] }[]>();
  await forEachBatch(model, tensors, h.samples, h.input, { threads: 1 }, h.modelPath, (t, value) => {
    const list = seen.get(t) ?? [];
    list.push({ data: [...(value.data as Float32Array)], dims: [...value.dims] });
    seen.set(t, list);
  });
  return seen;
}

for (const opset of [13, 18]) {
  test(`per-channel maxima and means reduced inside ONNX Runtime equal the exact ones over every element (opset ${opset}: ReduceMean's axes as ${opset < 18 ? 'attribute' : 'input'})`, async () => {
  const h = await harness();
  const model: ModelProto = { ...h.reference, opset_import: [{ domain: '', version: opset }] };
  const tensors = ['r1', 'r2', 'c3', 'logits'];
  const dims = (t: string) => h.ctx.facts.get(t)?.dims;
  const whole = await exposed(model, tensors, h);
  const maxima = await collectChannelMaxima(model, tensors, h.samples, h.input, { threads: 1, tensorDims: dims }, h.modelPath);
  const means = await collectChannelMeans(model, tensors, h.samples, h.input, { threads: 1, tensorDims: dims }, h.modelPath);
  for (const t of tensors) {
    const channels = dims(t)![1];
    const top = new Float64Array(channels);
    const sum = new Float64Array(channels);
    let perChannel = 0;
    for (const { data, dims: d } of whole.get(t)!) {
      const inner = d.slice(2).reduce((a, b) => a * b, 1);
      perChannel += d[0] * inner;
      data.forEach((v, i) => {
        const c = Math.floor(i / inner) % channels;
        top[c] = Math.max(top[c], Math.abs(v));
        sum[c] += v;
      });
    }
    assert.deepEqual([...maxima.get(t)!], [...top].map(Math.fround), `${t}: maxima are exact`);
    const got = means.get(t)!;
    for (let c = 0; c < channels; c++) {
      const want = sum[c] / perChannel;
      assert.ok(Math.abs(got[c] - want) <= 1e-6 * Math.max(1, Math.abs(want)), `${t}[${c}]: mean ${got[c]} vs ${want}`);
    }
  }
  });
}

test('the check set\'s FP32 outputs kept from the statistics pass equal a run of their own', async () => {
  const h = await harness();
  const { plan } = planFor(h.reference, h.ctx, new Set());
  const outputs = h.reference.graph!.output.map((o) => o.name!);
  const capture = new OutputCapture(outputs, 8, 12);
  await collectStatistics(h.reference, plan.qdqTensors, h.samples, h.input, { threads: 1 }, h.modelPath, { capture });
  const set = await materialize(h.samples.slice(8, 12));
  const kept = await capture.reference(() => encodeModel(h.reference), set, h.input, h.modelPath);
  assert.ok(kept, 'every check sample was kept');
  const ran = await Reference.run(encodeModel(h.reference), set, h.input, h.modelPath);
  const int8 = (await h.builder.build({ method: 'minmax', exclude: new Set(), biasCorrection: false })).bytes;
  const [a, b] = [await kept!.compare(int8, 'int8'), await ran.compare(int8, 'int8')];
  assert.equal(a.agreement, b.agreement);
  assert.ok(Math.abs(a.outputSqnrDb - b.outputSqnrDb) < 0.01, `${a.outputSqnrDb} vs ${b.outputSqnrDb} dB`);

  const partial = new OutputCapture(outputs, 20, 10);
  await collectStatistics(h.reference, plan.qdqTensors, h.samples.slice(0, 24), h.input, { threads: 1 }, h.modelPath, { capture: partial });
  assert.equal(await partial.reference(() => encodeModel(h.reference), h.samples.slice(20, 10), h.input, h.modelPath), null,
    'samples past the pass were not seen: no reference');
  const tiny = new OutputCapture(outputs, 0, 8, 16);
  await collectStatistics(h.reference, plan.qdqTensors, h.samples, h.input, { threads: 1 }, h.modelPath, { capture: tiny });
  assert.equal(await tiny.reference(() => encodeModel(h.reference), h.samples.slice(0, 8), h.input, h.modelPath), null, 'over its byte budget: gives up');
});

test('conversions sharing a ConversionCache are byte-identical to conversions made from scratch', async () => {
  const h = await harness();
  const cache = new ConversionCache();
  const stats = (h.builder.setup.stats);
  for (const choice of [
    { method: 'mse' as const, exclude: new Set<string>(), biasCorrection: false },
    { method: 'mse' as const, exclude: new Set(['pwconv']), biasCorrection: false },
    { method: 'percentile' as const, exclude: new Set<string>(), biasCorrection: false },
    { method: 'mse' as const, exclude: new Set<string>(), biasCorrection: false },
  ]) {
    const cached = convertModel(h.reference, stats, { ...h.ctx, cache }, choice);
    const plain = convertModel(h.reference, stats, h.ctx, choice);
    assert.deepEqual(Buffer.from(encodeModel(cached.model)), Buffer.from(encodeModel(plain.model)), `${choice.method} ${[...choice.exclude]}`);
    assert.deepEqual(cached.weights.map((w) => w.sqnrDb), plain.weights.map((w) => w.sqnrDb));
  }
});

for (const [name, model, expected] of [['small CNN', smallCnn(3), ['dwconv', 'fc']], ['odd convolutions', oddConvs(), ['odd', 'strided1x1']]] as const) {
  test(`bias shifts of convolutions from their inputs' means equal those measured with a copy of each layer (${name})`, async () => {
  const h = await harness(model);
  const conversion = await h.builder.build({ method: 'minmax', exclude: new Set(), biasCorrection: false });
  const targets = findBiasTargets(new Graph(conversion.model.graph!), new Graph(h.reference.graph!));
  for (const e of expected) assert.ok(targets.some((t) => t.node.name === e), `${e} is a target`);
  const dims = (t: string) => h.ctx.facts.get(t)?.dims;
  const fromMeans = await measureBiasShifts(h.reference, targets, h.samples, h.input, { threads: 1, tensorDims: dims }, h.modelPath);
  const fromCopies = await measureBiasShifts(h.reference, targets, h.samples, h.input, { threads: 1 }, h.modelPath);
  assert.equal(fromMeans.size, targets.length);
  for (const t of targets) {
    const [a, b] = [fromMeans.get(t.key)!, fromCopies.get(t.key)!];
    const scale = Math.max(...b.map(Math.abs), 1e-3);
    for (let c = 0; c < b.length; c++) assert.ok(Math.abs(a[c] - b[c]) <= 1e-4 * scale, `${t.node.name}[${c}]: ${a[c]} vs ${b[c]}`);
  }
  });
}

test('a bias pass hands the conversion it corrects, as built without shifts, on once its runs are done: corrected, it has the same structure', async () => {
  const h = await harness();
  const seen: { conversion: unknown; progress: [number, number] | null }[] = [];
  let progress: [number, number] | null = null;
  const setup = { ...h.builder.setup, options: { ...h.builder.setup.options, onProgress: (d: number, t: number) => { progress = [d, t]; } },
    afterBiasRuns: (c: Conversion) => seen.push({ conversion: c, progress }) };
  const base = { method: 'minmax' as const, exclude: new Set<string>(), biasCorrection: false };
  // Nothing built without shifts yet: nothing to hand on.
  await new ConversionBuilder(setup).build({ ...base, biasCorrection: true });
  assert.equal(seen.length, 0);
  const builder = new ConversionBuilder(setup);
  const uncorrected = await builder.build(base);
  progress = null;
  const corrected = await builder.build({ ...base, biasCorrection: true });
  assert.equal(seen.length, 1, 'the hook is called once, for the one pass');
  assert.equal(seen[0].conversion, uncorrected, 'it gets the conversion built without shifts');
  assert.deepEqual(seen[0].progress, [h.samples.size, h.samples.size], 'after the pass\'s last run');
  assert.ok(corrected.biasCorrected > 0, 'the shifts changed biases');
  assert.notDeepEqual(corrected.bytes, uncorrected.bytes);
  assert.ok(sameStructure(corrected.model, uncorrected.model), 'shifts to existing biases change values, not the graph');
});
