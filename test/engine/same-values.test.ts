// Calibration measures a tensor once when others hold the same values rearranged (Reshape, Transpose, Flatten,
// Squeeze, Unsqueeze of it): the first of a chain stands for the rest; a Slice or a Concat (other values) does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { intsAttribute } from '../../src/onnx/build';
import { sameValues } from '../../src/engine/pipeline/calibrate';

test('sameValues: rearranging ops map to the first measured tensor of their chain; other data movement does not', () => {
  const graph = new Graph({
    name: 'g', node: [
      makeNode('MatMul', ['x', 'w'], ['a'], 'mm'),
      makeNode('Reshape', ['a', 'shape'], ['b'], 'reshape'),
      makeNode('Transpose', ['b'], ['c'], 'transpose', [intsAttribute('perm', [0, 2, 1])]),
      makeNode('Slice', ['c', 'starts', 'ends'], ['d'], 'slice'),
      makeNode('Flatten', ['d'], ['e'], 'flatten', [intAttribute('axis', 1)]),
      makeNode('Squeeze', ['x'], ['f'], 'squeeze'),
      makeNode('Concat', ['a', 'c'], ['g'], 'concat', [intAttribute('axis', 1)]),
    ],
    input: [{ name: 'x' }], output: [{ name: 'e' }, { name: 'f' }, { name: 'g' }], initializer: [], sparse_initializer: [], value_info: [],
    quantization_annotation: [],
  });
  const aliases = sameValues(graph, ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  assert.deepEqual(Object.fromEntries(aliases), { b: 'a', c: 'a', e: 'd' });
  assert.deepEqual(Object.fromEntries(sameValues(graph, ['a', 'c'])), {}, 'c reads b, which is not measured: c is measured itself');
});
