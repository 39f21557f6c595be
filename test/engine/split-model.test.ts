// A model split from its large initializers (encodeSplit: in-memory external data) opens in ONNX Runtime and computes
// exactly what its whole encoding does, at every optimization level Octet uses, also when ORT writes the optimized graph
// (the preparation reads it back: it must hold the weights itself). Readers of the optimized graph's structure only
// (which kernels run) have ORT write its weights apart and leave no file behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openSession, optimizedWeightsPath, removeOptimized, runFloat, runtimeOpHistogram } from '../../src/engine/runtime/session';
import { readModel } from '../../src/onnx/model-io';
import { encodeModel, encodeSplit } from '../../src/onnx/proto';
import { rng } from '../../src/common/random';
import { tempDir } from '../fixtures/models';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { intAttribute, makeNode } from '../../src/onnx/graph';

test('a split model computes what the whole one does; the optimized graph ORT writes holds the weights', async () => {
  const r = rng(9);
  const model = buildModel([
    makeNode('Conv', ['image', 'w', 'b'], ['c'], 'conv', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]),
    makeNode('Relu', ['c'], ['r'], 'relu'),
    makeNode('GlobalAveragePool', ['r'], ['g'], 'gap'),
    makeNode('Flatten', ['g'], ['f'], 'flatten'),
    makeNode('Gemm', ['f', 'fc', 'fcb'], ['logits'], 'fc', [intAttribute('transB', 1)]),
  ], [randomTensor('w', [64, 3, 3, 3], r, 0.3), randomTensor('b', [64], r, 0.1), randomTensor('fc', [40, 64], r, 0.3), randomTensor('fcb', [40], r, 0.1)],
  [valueInfo('image', ['N', 3, 16, 16])], [valueInfo('logits', ['N', 40])], 13);
  const split = encodeSplit(model);
  assert.deepEqual(split.external.map((f) => f.data.length), [64 * 27 * 4, 40 * 64 * 4], 'both weights go apart');
  const x = new Float32Array(2 * 3 * 16 * 16).map((_, i) => Math.sin(i));
  for (const level of ['disabled', 'basic', 'all'] as const) {
    const optimizedPath = join(tempDir(), 'optimized.onnx');
    const whole = await openSession(encodeModel(model), { threads: 1, level }, 'whole.onnx');
    const parts = await openSession(split, { threads: 1, level, optimizedPath }, 'split.onnx');
    const a = await runFloat(whole, 'image', x, [2, 3, 16, 16]);
    const b = await runFloat(parts, 'image', x, [2, 3, 16, 16]);
    assert.deepEqual(b.logits.data, a.logits.data, level);
    await Promise.all([whole.release(), parts.release()]);
    const written = readModel(optimizedPath).model;
    assert.ok(written.graph!.initializer.every((t) => t.data_location !== 1), `${level}: no external data in the written graph`);
    const reopened = await openSession(optimizedPath, { threads: 1, level: 'disabled' }, optimizedPath);
    assert.deepEqual((await runFloat(reopened, 'image', x, [2, 3, 16, 16])).logits.data, a.logits.data, `${level}: the written graph`);
    await reopened.release();
  }
});

test('structure only: the optimized graph is written without its weights, read the same, and removed with them', async () => {
  const r = rng(11);
  const model = buildModel([
    makeNode('Conv', ['image', 'w'], ['c'], 'conv', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]),
    makeNode('Relu', ['c'], ['out'], 'relu'),
  ], [randomTensor('w', [64, 64, 3, 3], r, 0.1)], [valueInfo('image', [1, 64, 8, 8])], [valueInfo('out', [1, 64, 8, 8])], 13);
  const dir = tempDir();
  const [whole, apart] = [join(dir, 'whole.onnx'), join(dir, 'apart.onnx')];
  await (await openSession(encodeSplit(model), { threads: 1, level: 'all', optimizedPath: whole }, 'm.onnx')).release();
  await (await openSession(encodeSplit(model), { threads: 1, level: 'all', optimizedPath: apart, structureOnly: true }, 'm.onnx')).release();
  const weights = 64 * 64 * 9 * 4;
  assert.ok(statSync(whole).size > weights, 'the full graph holds the weights');
  assert.ok(statSync(apart).size < weights / 10 && statSync(optimizedWeightsPath(apart)).size >= weights, 'the weights are apart');
  const nodesOf = (path: string) => readModel(path).model.graph!.node.map((n) => n.op_type);
  assert.deepEqual(nodesOf(apart), nodesOf(whole));
  removeOptimized(apart);
  assert.ok(!existsSync(apart) && !existsSync(optimizedWeightsPath(apart)));
  // The op histogram of what runs reads the structure only and cleans up after itself.
  const work = tempDir();
  const histogram = await runtimeOpHistogram(encodeModel(model), work, 'm.onnx');
  assert.ok(Object.keys(histogram).length > 0);
  assert.deepEqual(readdirSync(work), []);
});
