// Softmax, LogSoftmax and Hardmax before opset 13 ("coerce to 2-D") converted exactly: axis last (kept), axis not
// last with known dims (constant Reshape), with dynamic dims (Shape-based Reshape) and with an unknown rank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { makeTensor } from '../../src/onnx/tensor';
import { assertConvertsExactly, changeCount, oldModel, opTypes, randomFeed } from './opset-check';

const OPS = ['Softmax', 'LogSoftmax', 'Hardmax'] as const;
const OPSETS = [7, 9, 11, 12];

for (const op of OPS) {
  for (const opset of OPSETS) {
    test(`${op} at opset ${opset}, axis 1 of a 4-D input with known dims: Flatten+${op}+Reshape, same outputs`, async () => {
      const model = oldModel(opset, [makeNode(op, ['x'], ['y'], 'sm', [intAttribute('axis', 1)])], [['x', [2, 3, 4, 5]]], ['y']);
      const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 5], 1) });
      assert.deepEqual(opTypes(upgrade.model), ['Flatten', op, 'Reshape']);
      assert.equal(changeCount(upgrade, `${op} coerced 2-D → Flatten+${op}+Reshape`), 1);
    });

    test(`${op} at opset ${opset}, default axis on dynamic dims [N, C, H, W]: Shape-based Reshape, same outputs`, async () => {
      const model = oldModel(opset, [makeNode(op, ['x'], ['y'], 'sm')], [['x', ['N', 3, 'H', 'W']]], ['y']);
      const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 6], 2) });
      assert.ok(opTypes(upgrade.model).includes('Shape'), opTypes(upgrade.model).join());
    });

    test(`${op} at opset ${opset} on the last axis: kept as one node, same outputs`, async () => {
      const model = oldModel(opset, [makeNode(op, ['x'], ['y'], 'sm', [intAttribute('axis', 3)])], [['x', ['N', 3, 4, 5]]], ['y']);
      const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 5], 3) });
      assert.deepEqual(opTypes(upgrade.model), [op]);
      assert.equal(upgrade.changes.length, 0);
    });
  }
}

test('Softmax at opset 9 after a Reshape of run-time shape (rank unknown): the general rewrite, same outputs', async () => {
  const model = oldModel(9, [
    makeNode('Shape', ['x'], ['s'], 'shape'),
    makeNode('Reshape', ['x', 's'], ['r'], 'reshape'),
    makeNode('Softmax', ['r'], ['y'], 'sm', [intAttribute('axis', 1)]),
  ], [['x', ['N', 3, 4]]], ['y']);
  const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4], 4) });
  assert.deepEqual(opTypes(upgrade.model).slice(-4), ['Flatten', 'Softmax', 'Shape', 'Reshape']);
});

test('Softmax at opset 9 on [N, C] after Gemm (default axis 1 is the last): kept', async () => {
  const w = makeTensor('w', [4, 6], Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)));
  const b = makeTensor('b', [6], Float32Array.from({ length: 6 }, (_, i) => i / 10));
  const model = oldModel(9, [makeNode('Gemm', ['x', 'w', 'b'], ['g'], 'fc'), makeNode('Softmax', ['g'], ['y'], 'sm')],
    [['x', ['N', 4]]], ['y'], [w, b]);
  const upgrade = await assertConvertsExactly(model, { x: randomFeed([3, 4], 5) });
  assert.deepEqual(opTypes(upgrade.model), ['Gemm', 'Softmax']);
});

test('LogSoftmax at opset 11 with a negative axis that is not the last: same outputs', async () => {
  const model = oldModel(11, [makeNode('LogSoftmax', ['x'], ['y'], 'lsm', [intAttribute('axis', -2)])], [['x', [2, 3, 4, 5]]], ['y']);
  const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 5], 6) });
  assert.deepEqual(opTypes(upgrade.model), ['Flatten', 'LogSoftmax', 'Reshape']);
});

test('Softmax at opset 7 with axis 0: the whole tensor is one distribution, as before', async () => {
  const model = oldModel(7, [makeNode('Softmax', ['x'], ['y'], 'sm', [intAttribute('axis', 0)])], [['x', [2, 3, 4]]], ['y']);
  await assertConvertsExactly(model, { x: randomFeed([2, 3, 4], 7) });
});
