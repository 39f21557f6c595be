// Attributes that became inputs, converted exactly at every source opset where the old form exists: Slice-1 and
// TopK-1 (opsets 7-9), Clip-6 and Pad-2 (7-10), Squeeze/Unsqueeze/Split/ReduceSum (7-12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { floatAttribute, intsAttribute, stringAttribute } from '../../src/onnx/build';
import { DataType } from '../../src/onnx/proto';
import { assertConvertsExactly, changeCount, oldModel, opTypes, randomFeed } from './opset-check';

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

for (const opset of range(7, 10)) {
  for (const [label, attrs] of [
    ['min and max', [floatAttribute('min', -0.5), floatAttribute('max', 1.25)]],
    ['min only (relu-like)', [floatAttribute('min', 0)]],
    ['max only', [floatAttribute('max', 0.75)]],
    ['no bounds', []],
  ] as const) {
    test(`Clip at opset ${opset} with ${label}: attributes → inputs, same outputs`, async () => {
      const model = oldModel(opset, [makeNode('Clip', ['x'], ['y'], 'clip', [...attrs])], [['x', ['N', 3, 5]]], ['y']);
      const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 5], opset) });
      const clip = upgrade.model.graph!.node[0];
      assert.equal(clip.attribute.length, 0, 'no attribute left');
      assert.equal(clip.input.length, 3);
      assert.equal(changeCount(upgrade, 'Clip attributes → inputs'), 1);
    });
  }

  for (const [label, attrs] of [
    ['constant 0', [intsAttribute('pads', [0, 1, 2, 0, 2, 1])]],
    ['constant 1.5', [intsAttribute('pads', [0, 1, 2, 0, 2, 1]), floatAttribute('value', 1.5)]],
    ['reflect', [intsAttribute('pads', [0, 0, 2, 0, 0, 1]), stringAttribute('mode', 'reflect')]],
    ['edge', [intsAttribute('pads', [0, 2, 1, 0, 1, 3]), stringAttribute('mode', 'edge')]],
  ] as const) {
    test(`Pad at opset ${opset}, ${label}: attributes → inputs, same outputs`, async () => {
      const model = oldModel(opset, [makeNode('Pad', ['x'], ['y'], 'pad', [...attrs])], [['x', [2, 3, 5]]], ['y']);
      const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 5], opset + 10) });
      assert.ok(upgrade.model.graph!.node[0].attribute.every((a) => a.name === 'mode'));
    });
  }
}

for (const opset of range(7, 9)) {
  test(`Slice at opset ${opset} with axes, negative starts and an INT64_MAX end: attributes → inputs, same outputs`, async () => {
    const model = oldModel(opset, [makeNode('Slice', ['x'], ['y'], 'slice', [
      intsAttribute('starts', [1, -3]), intsAttribute('ends', [9223372036854775807, -1]), intsAttribute('axes', [1, 2]),
    ])], [['x', [2, 4, 6]]], ['y']);
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 4, 6], opset) });
    assert.equal(upgrade.model.graph!.node[0].input.length, 4);
    assert.equal(changeCount(upgrade, 'Slice attributes → inputs'), 1);
  });

  test(`Slice at opset ${opset} without axes: same outputs`, async () => {
    const model = oldModel(opset, [makeNode('Slice', ['x'], ['y'], 'slice', [intsAttribute('starts', [0, 1]), intsAttribute('ends', [1, 3])])],
      [['x', [2, 4, 6]]], ['y']);
    await assertConvertsExactly(model, { x: randomFeed([2, 4, 6], opset + 1) });
  });

  test(`TopK at opset ${opset}: k → input, same values and indices`, async () => {
    const model = oldModel(opset, [makeNode('TopK', ['x'], ['v', 'i'], 'topk', [intAttribute('k', 3), intAttribute('axis', 1)])],
      [['x', [2, 7, 3]]], ['v', ['i', DataType.INT64]]);
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 7, 3], opset) });
    assert.equal(changeCount(upgrade, 'TopK k → input'), 1);
  });
}

for (const opset of range(7, 12)) {
  test(`Squeeze and Unsqueeze at opset ${opset}: axes → input, same outputs`, async () => {
    const model = oldModel(opset, [
      makeNode('Unsqueeze', ['x'], ['u'], 'unsqueeze', [intsAttribute('axes', [0, 3])]),
      makeNode('Squeeze', ['u'], ['s'], 'squeeze', [intsAttribute('axes', [0])]),
      makeNode('Squeeze', ['s'], ['y'], 'squeeze_all'),
    ], [['x', [2, 1, 5]]], ['y']);
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 1, 5], opset) });
    assert.deepEqual(upgrade.model.graph!.node.map((n) => n.input.length), [2, 2, 1]);
    assert.ok(upgrade.model.graph!.node.every((n) => n.attribute.length === 0));
  });

  test(`Split at opset ${opset} with and without sizes: same outputs`, async () => {
    const model = oldModel(opset, [
      makeNode('Split', ['x'], ['a', 'b'], 'split_sizes', [intAttribute('axis', 1), intsAttribute('split', [2, 4])]),
      makeNode('Split', ['x'], ['c', 'd', 'e'], 'split_equal', [intAttribute('axis', 2)]),
    ], [['x', [2, 6, 3]]], ['a', 'b', 'c', 'd', 'e']);
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 6, 3], opset) });
    assert.equal(changeCount(upgrade, 'Split sizes → input'), 2);
    assert.deepEqual(upgrade.model.graph!.node.map((n) => n.input.length), [2, 1]);
  });

  test(`ReduceSum at opset ${opset} with axes, keepdims 0 and no axes: same outputs`, async () => {
    const model = oldModel(opset, [
      makeNode('ReduceSum', ['x'], ['a'], 'sum_axes', [intsAttribute('axes', [1, 2])]),
      makeNode('ReduceSum', ['x'], ['b'], 'sum_flat', [intsAttribute('axes', [0]), intAttribute('keepdims', 0)]),
      makeNode('ReduceSum', ['x'], ['c'], 'sum_all'),
      makeNode('ReduceMean', ['x'], ['d'], 'mean', [intsAttribute('axes', [2, 3])]),
    ], [['x', [2, 3, 4, 5]]], ['a', 'b', 'c', 'd']);
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 5], opset) });
    assert.deepEqual(opTypes(upgrade.model), ['ReduceSum', 'ReduceSum', 'ReduceSum', 'ReduceMean']);
    assert.equal(upgrade.model.graph!.node[3].attribute.find((a) => a.name === 'axes')?.ints.length, 2, 'ReduceMean keeps its axes attribute at 13');
  });
}
