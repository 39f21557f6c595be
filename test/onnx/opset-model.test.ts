// Model-level behaviour of the opset converter: models at 13+ pass through, IR 3 initializer inputs become plain
// initializers, subgraphs are converted, new tensor names never collide, other domains are left alone, and what cannot
// be converted is refused with an OctetError naming the node, op and opset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, floatAttribute, intsAttribute, valueInfo } from '../../src/onnx/build';
import { DataType, GraphProto } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { upgradeOpset } from '../../src/onnx/opset';
import { prepareOpset } from '../../src/quant/opset';
import { assertConvertsExactly, oldModel, opTypes, randomFeed } from './opset-check';

const isOctetError = (pattern: RegExp) => (err: Error) => err.name === 'OctetError' && pattern.test(err.message);

test('a model at opset 13 or newer is returned as it is', () => {
  const model = buildModel([makeNode('Softmax', ['x'], ['y'], 'sm', [intAttribute('axis', 1)])], [], [valueInfo('x', [2, 3, 4])], [valueInfo('y', [2, 3, 4])], 14);
  const upgrade = upgradeOpset(model);
  assert.equal(upgrade.model, model);
  assert.deepEqual([upgrade.from, upgrade.to, upgrade.changes], [14, 14, []]);
  assert.equal(prepareOpset(model, 'm.onnx').note, null);
});

test('IR 3 at opset 7 (initializers listed as inputs): initializers leave the inputs, IR 7, same outputs', async () => {
  const w = makeTensor('w', [4, 3, 3, 3], Float32Array.from({ length: 108 }, (_, i) => Math.sin(i)));
  const model = oldModel(7, [makeNode('Conv', ['x', 'w'], ['y'], 'conv', [intsAttribute('pads', [1, 1, 1, 1])])], [['x', ['N', 3, 6, 6]]], ['y'], [w]);
  assert.equal(model.ir_version, 3);
  const upgrade = await assertConvertsExactly(model, { x: randomFeed([1, 3, 6, 6], 1) });
  assert.deepEqual(upgrade.model.graph!.input.map((i) => i.name), ['x']);
  assert.equal(upgrade.model.ir_version, 7);
  assert.deepEqual(upgrade.changes, []);
  assert.equal(prepareOpset(model, 'm.onnx').note, 'opset 7 moved to 13: no op changed meaning');
});

test('the log note lists every kind of change with its count', () => {
  const model = oldModel(9, [
    makeNode('Clip', ['x'], ['a'], 'clip1', [floatAttribute('min', 0), floatAttribute('max', 6)]),
    makeNode('Clip', ['a'], ['b'], 'clip2', [floatAttribute('min', 0), floatAttribute('max', 6)]),
    makeNode('Softmax', ['b'], ['y'], 'sm'),
  ], [['x', ['N', 3, 4, 5]]], ['y']);
  assert.equal(prepareOpset(model, 'm.onnx').note, 'opset 9 moved to 13: Clip attributes → inputs ×2, Softmax coerced 2-D → Flatten+Softmax+Reshape ×1');
});

test('nodes inside If branches are converted too (opset 9 Clip and Squeeze), same outputs', async () => {
  const branch = (name: string, min: number): GraphProto => ({
    name, node: [
      makeNode('Clip', ['x'], [`${name}_c`], `${name}_clip`, [floatAttribute('min', min), floatAttribute('max', 1)]),
      makeNode('Squeeze', [`${name}_c`], [`${name}_out`], `${name}_squeeze`, [intsAttribute('axes', [0])]),
    ],
    initializer: [], sparse_initializer: [], input: [], output: [valueInfo(`${name}_out`, [3, 4])], value_info: [], quantization_annotation: [],
  });
  const model = oldModel(9, [
    makeNode('ReduceMean', ['x'], ['m'], 'mean', [intAttribute('keepdims', 0)]),
    makeNode('Greater', ['m', 'zero'], ['cond'], 'greater'),
    makeNode('If', ['cond'], ['y'], 'if', [
      { name: 'then_branch', type: 5, g: branch('then', 0), floats: [], ints: [], strings: [], tensors: [], graphs: [] },
      { name: 'else_branch', type: 5, g: branch('else', -1), floats: [], ints: [], strings: [], tensors: [], graphs: [] },
    ]),
  ], [['x', [1, 3, 4]]], ['y'], [makeTensor('zero', [], Float32Array.of(0))]);
  for (const seed of [1, 2, 3]) {
    const upgrade = await assertConvertsExactly(model, { x: randomFeed([1, 3, 4], seed) });
    const then = upgrade.model.graph!.node[2].attribute[0].g!;
    assert.deepEqual(then.node.map((n) => n.input.length), [3, 2]);
    assert.equal(then.initializer.length, 3, 'the branch holds its new min, max and axes');
  }
});

test('new tensors get names no other tensor, node or initializer uses', () => {
  const model = oldModel(9, [
    makeNode('Clip', ['x'], ['clip_min'], 'clip', [floatAttribute('min', 0)]),
    makeNode('Relu', ['clip_min'], ['clip_max'], 'clip_min_1'),
  ], [['x', ['N', 3]]], ['clip_max']);
  const graph = upgradeOpset(model).model.graph!;
  const names = [...graph.initializer.map((t) => t.name), ...graph.node.flatMap((n) => [n.name, ...n.output])];
  assert.equal(new Set(names).size, names.length, names.join());
});

test('ops of other domains are left alone', () => {
  const model = oldModel(9, [makeNode('FusedGemm', ['x', 'x'], ['y'], 'custom', [], 'com.microsoft')], [['x', [2, 2]]], ['y']);
  model.opset_import.push({ domain: 'com.microsoft', version: 1 });
  const upgrade = upgradeOpset(model);
  assert.deepEqual(opTypes(upgrade.model), ['FusedGemm']);
  assert.deepEqual(upgrade.model.opset_import, [{ domain: '', version: 13 }, { domain: 'com.microsoft', version: 1 }]);
});

test('a Clip after an op of another domain (element type unknown) gets float bounds, same outputs', async () => {
  const model = oldModel(9, [
    makeNode('Gelu', ['x'], ['g'], 'gelu', [], 'com.microsoft'),
    makeNode('Clip', ['g'], ['y'], 'clip', [floatAttribute('min', -0.1), floatAttribute('max', 0.8)]),
  ], [['x', ['N', 6]]], ['y']);
  model.opset_import.push({ domain: 'com.microsoft', version: 1 });
  await assertConvertsExactly(model, { x: randomFeed([3, 6], 8) });
});

test('refusals are OctetErrors naming the node, the op, the opset and what to do', () => {
  const crop = oldModel(8, [makeNode('Crop', ['x'], ['y'], 'crop_node', [intsAttribute('border', [1, 1, 1, 1])])], [['x', [1, 3, 8, 8]]], ['y']);
  assert.throws(() => upgradeOpset(crop, { label: 'old.onnx' }),
    isOctetError(/^old\.onnx: node 'crop_node' \(Crop, opset 8\).*experimental.*Re-export the model at opset 13/));
  const unknown = oldModel(9, [makeNode('NoSuchOp', ['x'], ['y'], 'mystery')], [['x', [1]]], ['y']);
  assert.throws(() => upgradeOpset(unknown, { label: 'u.onnx' }), isOctetError(/node 'mystery' \(NoSuchOp, opset 9\).*not an ONNX operator/));
  const clipInt = oldModel(9, [makeNode('Clip', ['x'], ['y'], 'clip', [floatAttribute('min', 0)])], [['x', [2]]], ['y']);
  clipInt.graph!.input[0].type!.tensor_type!.elem_type = DataType.INT32;
  assert.throws(() => upgradeOpset(clipInt, { label: 'c.onnx' }), isOctetError(/node 'clip' \(Clip, opset 9\).*'min'.*int32.*does not accept/));
  const ancient = oldModel(6, [makeNode('Relu', ['x'], ['y'], 'relu')], [['x', [1]]], ['y']);
  assert.throws(() => upgradeOpset(ancient, { label: 'a.onnx' }), isOctetError(/opset 6.*opset 7 and newer.*Re-export/));
});
