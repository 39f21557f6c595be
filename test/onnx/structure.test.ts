// sameStructure: what ONNX Runtime picks its kernels from — nodes, initializers' names, types and dims, graph inputs and
// outputs — and not the values of the initializers or the order of the nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyProto, makeNode } from '../../src/onnx/graph';
import { makeTensor } from '../../src/onnx/tensor';
import { sameStructure } from '../../src/onnx/structure';
import { smallCnn } from '../fixtures/models';

test('models that differ only in initializer values or node order have the same structure', () => {
  const model = smallCnn(1);
  assert.ok(sameStructure(model, copyProto(model)));
  assert.ok(sameStructure(model, smallCnn(2)), 'other random weights');
  const reordered = copyProto(model);
  reordered.graph!.node.reverse();
  assert.ok(sameStructure(model, reordered));
});

test('a node more, another attribute, input or initializer shape, or a changed Constant value is another structure', () => {
  const model = smallCnn(1);
  const variants: [string, (m: ReturnType<typeof smallCnn>) => void][] = [
    ['a node more', (m) => m.graph!.node.push(makeNode('Identity', [m.graph!.output[0].name!], ['extra'], 'extra'))],
    ['an attribute', (m) => m.graph!.node[0].attribute.push({ name: 'group', type: 2, i: 1, floats: [], ints: [], strings: [], tensors: [], graphs: [] })],
    ['an input renamed', (m) => { m.graph!.node[1].input[0] = 'elsewhere'; }],
    ['an initializer reshaped', (m) => { m.graph!.initializer[0].dims = [...m.graph!.initializer[0].dims, 1]; }],
    ['an initializer retyped', (m) => { m.graph!.initializer[1] = makeTensor(m.graph!.initializer[1].name!, [8], new Float64Array(8)); }],
    ['an opset', (m) => { m.opset_import = [{ domain: '', version: 11 }]; }],
  ];
  for (const [what, change] of variants) {
    const changed = copyProto(model);
    change(changed);
    assert.ok(!sameStructure(model, changed), what);
  }
  const withConstant = (value: number) => {
    const m = copyProto(model);
    m.graph!.node.unshift(makeNode('Constant', [], ['k'], 'k', [{ name: 'value', type: 4, t: makeTensor('', [1], Float32Array.of(value)), floats: [], ints: [], strings: [], tensors: [], graphs: [] }]));
    return m;
  };
  assert.ok(sameStructure(withConstant(1), withConstant(1)));
  assert.ok(!sameStructure(withConstant(1), withConstant(2)), 'a Constant\'s value is part of the graph');
});
