// Upsample (opsets 7-9) and Resize-10 become Resize-13 with their old coordinate rule (asymmetric; nearest rounds
// down when growing and up when shrinking), checked against ONNX Runtime running the original op.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeNode } from '../../src/onnx/graph';
import { stringAttribute } from '../../src/onnx/build';
import { NodeProto } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { assertConvertsExactly, Feed, oldModel, opTypes, randomFeed } from './opset-check';

const scalesTensor = (values: number[]) => makeTensor('scales', [values.length], Float32Array.from(values));
const attrOf = (node: NodeProto, name: string) => Buffer.from(node.attribute.find((a) => a.name === name)?.s ?? []).toString();

for (const mode of ['nearest', 'linear'] as const) {
  for (const scales of [[1, 1, 2, 2], [1, 1, 1.5, 2.5], [1, 1, 3, 1]]) {
    test(`Upsample-7 (${mode}, scales ${scales}) at opset 7 and 8: Resize asymmetric, same outputs`, async () => {
      for (const opset of [7, 8]) {
        const node = makeNode('Upsample', ['x'], ['y'], 'up', [stringAttribute('mode', mode),
          { name: 'scales', type: 6, floats: scales, ints: [], strings: [], tensors: [], graphs: [] }]);
        const model = oldModel(opset, [node], [['x', ['N', 2, 3, 5]]], ['y']);
        const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 2, 3, 5], opset) });
        const resize = upgrade.model.graph!.node[0];
        assert.equal(resize.op_type, 'Resize');
        assert.equal(attrOf(resize, 'coordinate_transformation_mode'), 'asymmetric');
        if (mode === 'nearest') assert.equal(attrOf(resize, 'nearest_mode'), 'floor');
        assert.ok(!resize.attribute.some((a) => a.name === 'scales'));
      }
    });

    test(`Upsample-9 (${mode}, scales ${scales}) at opset 9, scales as initializer and as graph input: same outputs`, async () => {
      const constant = oldModel(9, [makeNode('Upsample', ['x', 'scales'], ['y'], 'up', [stringAttribute('mode', mode)])],
        [['x', ['N', 2, 3, 5]]], ['y'], [scalesTensor(scales)]);
      await assertConvertsExactly(constant, { x: randomFeed([1, 2, 3, 5], 9) });
      const runtime = oldModel(9, [makeNode('Upsample', ['x', 's'], ['y'], 'up', [stringAttribute('mode', mode)])],
        [['x', ['N', 2, 3, 5]], ['s', [4]]], ['y']);
      await assertConvertsExactly(runtime, { x: randomFeed([1, 2, 3, 5], 10), s: { dims: [4], data: Float32Array.from(scales) } });
    });
  }
}

const RESIZE_10_SCALES: [string, number[]][] = [
  ['growing', [1, 1, 2, 1.5]], ['shrinking', [1, 1, 0.5, 0.6]], ['shrinking and growing', [1, 1, 0.6, 1.7]],
];

for (const mode of ['nearest', 'linear'] as const) {
  for (const [label, scales] of RESIZE_10_SCALES) {
    test(`Resize-10 (${mode}, ${label}) with constant scales: same outputs`, async () => {
      const model = oldModel(10, [makeNode('Resize', ['x', 'scales'], ['y'], 'resize', [stringAttribute('mode', mode)])],
        [['x', ['N', 2, 7, 9]]], ['y'], [scalesTensor(scales)]);
      const upgrade = await assertConvertsExactly(model, { x: randomFeed([2, 2, 7, 9], 11) });
      const resizes = upgrade.model.graph!.node.filter((n) => n.op_type === 'Resize');
      if (mode === 'nearest') {
        assert.equal(resizes.length, label === 'shrinking and growing' ? 2 : 1);
        assert.equal(attrOf(resizes[0], 'nearest_mode'), label === 'growing' ? 'floor' : 'ceil');
      } else {
        assert.deepEqual(opTypes(upgrade.model), ['Resize']);
      }
    });

    test(`Resize-10 (${mode}, ${label}) with scales known only at run time: same outputs`, async () => {
      const model = oldModel(10, [makeNode('Resize', ['x', 's'], ['y'], 'resize', [stringAttribute('mode', mode)])],
        [['x', ['N', 2, 7, 9]], ['s', [4]]], ['y']);
      const feeds: Record<string, Feed> = { x: randomFeed([1, 2, 7, 9], 12), s: { dims: [4], data: Float32Array.from(scales) } };
      await assertConvertsExactly(model, feeds);
    });
  }
}

test('Resize at opset 11 is left as it is (same meaning at 13)', async () => {
  const roi = makeTensor('roi', [0], new Float32Array(0));
  const model = oldModel(11, [makeNode('Resize', ['x', 'roi', 'scales'], ['y'], 'resize', [stringAttribute('mode', 'nearest')])],
    [['x', ['N', 2, 3, 4]]], ['y'], [roi, scalesTensor([1, 1, 2, 2])]);
  const upgrade = await assertConvertsExactly(model, { x: randomFeed([1, 2, 3, 4], 13) });
  assert.deepEqual(upgrade.changes, []);
});
