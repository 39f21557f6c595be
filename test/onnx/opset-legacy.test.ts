// Legacy attributes and renamed ops: BatchNormalization spatial (opsets 7-8), Dropout's ratio attribute and old mask
// (7-11), Scatter → ScatterElements (9-10), ImageScaler (7-9) run in ONNX Runtime before and after; Gemm's broadcast
// flag and Cast's string `to` (older than ONNX Runtime reads) checked on the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { floatAttribute, stringAttribute } from '../../src/onnx/build';
import { DataType } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { upgradeOpset } from '../../src/onnx/opset';
import { assertConvertsExactly, changeCount, oldModel, opTypes, randomFeed } from './opset-check';

const vector = (name: string, dims: number[], f: (i: number) => number) =>
  makeTensor(name, dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => f(i)));

function batchNormInputs(dims: number[]) {
  return [vector('scale', dims, (i) => 0.5 + (i % 5) / 4), vector('bias', dims, (i) => Math.sin(i)),
    vector('mean', dims, (i) => Math.cos(i) / 2), vector('var', dims, (i) => 0.2 + (i % 7) / 3)];
}

for (const opset of [7, 8]) {
  test(`BatchNormalization at opset ${opset} with spatial=1 written out: attribute dropped, same outputs`, async () => {
    const model = oldModel(opset, [makeNode('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], ['y'], 'bn',
      [intAttribute('spatial', 1), floatAttribute('epsilon', 1e-3)])], [['x', ['N', 3, 4, 5]]], ['y'], batchNormInputs([3]));
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 5], opset) });
    assert.deepEqual(upgrade.model.graph!.node[0].attribute.map((a) => a.name), ['epsilon']);
  });

  test(`BatchNormalization at opset ${opset} with spatial=0 (per-activation statistics): elementwise, same outputs`, async () => {
    const model = oldModel(opset, [makeNode('BatchNormalization', ['x', 'scale', 'bias', 'mean', 'var'], ['y'], 'bn',
      [intAttribute('spatial', 0)])], [['x', ['N', 3, 4, 5]]], ['y'], batchNormInputs([3, 4, 5]));
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 5], opset + 2) });
    assert.ok(!opTypes(upgrade.model).includes('BatchNormalization'));
  });
}

for (const opset of [7, 9, 10, 11]) {
  test(`Dropout at opset ${opset} with a ratio attribute and a declared mask: ratio → input, same outputs`, async () => {
    const model = oldModel(opset, [
      makeNode('Dropout', ['x'], ['d', 'mask'], 'dropout', [floatAttribute('ratio', 0.3)]),
      makeNode('Relu', ['d'], ['y'], 'relu'),
    ], [['x', ['N', 4]]], ['y']);
    model.graph!.value_info.push({ name: 'mask', type: { tensor_type: { elem_type: opset < 10 ? DataType.FLOAT : DataType.BOOL } } });
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([3, 4], opset) });
    const node = upgrade.model.graph!.node[0];
    assert.equal(node.attribute.length, 0);
    assert.equal(node.input.length, 2);
    assert.equal(changeCount(upgrade, 'Dropout ratio → input'), 1);
    if (opset < 10) assert.deepEqual(upgrade.model.graph!.value_info, [], 'the old float mask is gone with its declared type');
  });
}

test('Dropout at opset 9 whose float mask is used: refused with the node named (exit 1, not a crash)', () => {
  const model = oldModel(9, [
    makeNode('Dropout', ['x'], ['d', 'mask'], 'dropout'),
    makeNode('Add', ['d', 'mask'], ['y'], 'add'),
  ], [['x', ['N', 4]]], ['y']);
  assert.throws(() => upgradeOpset(model, { label: 'm.onnx' }), (err: Error) => err.name === 'OctetError'
    && /node 'dropout' \(Dropout, opset 9\).*mask/.test(err.message));
});

for (const opset of [9, 10]) {
  test(`Scatter at opset ${opset} → ScatterElements, same outputs`, async () => {
    const indices = makeTensor('indices', [2, 3], BigInt64Array.from([1n, 0n, 2n, 0n, 2n, 1n]));
    const updates = vector('updates', [2, 3], (i) => 10 + i);
    const model = oldModel(opset, [makeNode('Scatter', ['x', 'indices', 'updates'], ['y'], 'scatter', [intAttribute('axis', 1)])],
      [['x', [2, 4]]], ['y'], [indices, updates]);
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 4], opset) });
    assert.deepEqual(opTypes(upgrade.model), ['ScatterElements']);
  });
}

for (const opset of [7, 8, 9]) {
  test(`ImageScaler at opset ${opset} → Mul + Add, same outputs`, async () => {
    const model = oldModel(opset, [makeNode('ImageScaler', ['x'], ['y'], 'scaler', [floatAttribute('scale', 0.017),
      { name: 'bias', type: 6, floats: [-2.1, -2.0, -1.8], ints: [], strings: [], tensors: [], graphs: [] }])],
    [['x', ['N', 3, 4, 5]]], ['y']);
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 3, 4, 5], opset, 100) });
    assert.deepEqual(opTypes(upgrade.model), ['Mul', 'Add']);
  });
}

test('Gemm broadcast flag and Cast string `to` (pre-opset-7 forms) are rewritten to their opset-13 forms', () => {
  const model = oldModel(7, [
    makeNode('Cast', ['x'], ['c'], 'cast', [stringAttribute('to', 'DOUBLE')]),
    makeNode('Gemm', ['x', 'w', 'b'], ['y'], 'gemm', [intAttribute('broadcast', 1), intAttribute('transB', 1)]),
  ], [['x', ['N', 4]]], ['y', ['c', DataType.DOUBLE]], [vector('w', [2, 4], (i) => i), vector('b', [2], (i) => i)]);
  const upgrade = upgradeOpset(model);
  const [cast, gemm] = upgrade.model.graph!.node;
  assert.deepEqual(cast.attribute.map((a) => [a.name, a.i]), [['to', DataType.DOUBLE]]);
  assert.deepEqual(gemm.attribute.map((a) => a.name), ['transB']);
});
