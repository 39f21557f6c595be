// The converter's tensor facts (element type, rank, dims) carried through a graph with pre-13 op meanings: what the
// Softmax adapter relies on to tell a last axis from another, and the Clip/Pad adapters to type their new inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { intsAttribute, stringAttribute } from '../../src/onnx/build';
import { DataType } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { inferFacts } from '../../src/onnx/opset/facts';
import { oldModel } from './opset-check';

test('facts follow Reshape, Squeeze, Unsqueeze, Transpose, Flatten, MatMul, Gather, Concat, reductions and Cast', () => {
  const model = oldModel(9, [
    makeNode('Conv', ['x', 'w'], ['c'], 'conv'),
    makeNode('Reshape', ['c', 'shape'], ['r'], 'reshape'),
    makeNode('Unsqueeze', ['r'], ['u'], 'unsqueeze', [intsAttribute('axes', [0])]),
    makeNode('Squeeze', ['u'], ['s'], 'squeeze', [intsAttribute('axes', [0])]),
    makeNode('Transpose', ['c'], ['t'], 'transpose', [intsAttribute('perm', [0, 2, 3, 1])]),
    makeNode('Flatten', ['t'], ['f'], 'flatten', [intAttribute('axis', 2)]),
    makeNode('MatMul', ['f', 'm'], ['mm'], 'matmul'),
    makeNode('Gather', ['c', 'idx'], ['g'], 'gather', [intAttribute('axis', 1)]),
    makeNode('Concat', ['c', 'c'], ['cat'], 'concat', [intAttribute('axis', 1)]),
    makeNode('ReduceMean', ['c'], ['rm'], 'mean', [intsAttribute('axes', [2, 3]), intAttribute('keepdims', 0)]),
    makeNode('Shape', ['c'], ['shp'], 'shape_of'),
    makeNode('Cast', ['shp'], ['shp_f'], 'cast', [intAttribute('to', DataType.FLOAT)]),
    makeNode('Cast', ['x'], ['x_d'], 'cast_old', [stringAttribute('to', 'DOUBLE')]),
    makeNode('Add', ['rm', 'bias'], ['biased'], 'add'),
  ], [['x', ['N', 3, 8, 8]]], ['biased'], [
    makeTensor('w', [4, 3, 1, 1], new Float32Array(12)), makeTensor('shape', [3], BigInt64Array.from([0n, 4n, -1n])),
    makeTensor('m', [8, 5], new Float32Array(40)), makeTensor('idx', [2, 2], BigInt64Array.from([0n, 1n, 2n, 3n])),
    makeTensor('bias', [4], new Float32Array(4)),
  ]);
  const facts = inferFacts(model.graph!, 9);
  const dims = (t: string) => facts.get(t)?.dims;
  assert.deepEqual(dims('c'), [undefined, undefined, undefined, undefined]);
  assert.deepEqual(dims('r'), [undefined, 4, undefined]);
  assert.equal(dims('u')?.length, 4);
  assert.equal(dims('s')?.length, 3);
  assert.equal(dims('t')?.length, 4);
  assert.deepEqual(dims('f'), [undefined, undefined]);
  assert.equal(dims('mm')?.length, 2);
  assert.equal(dims('g')?.length, 5);
  assert.equal(dims('cat')?.length, 4);
  assert.deepEqual(dims('rm'), [undefined, undefined]);
  assert.deepEqual(dims('biased'), [undefined, 4]);
  assert.deepEqual(dims('shp'), [4]);
  assert.equal(facts.get('shp')?.elemType, DataType.INT64);
  assert.equal(facts.get('shp_f')?.elemType, DataType.FLOAT);
  assert.equal(facts.get('x_d')?.elemType, DataType.DOUBLE);
  assert.equal(facts.get('biased')?.elemType, DataType.FLOAT);
});

test('fully known dims are carried through shape-preserving and broadcasting ops', () => {
  const model = oldModel(9, [
    makeNode('Relu', ['x'], ['a'], 'relu'),
    makeNode('Mul', ['a', 'k'], ['b'], 'mul'),
    makeNode('Flatten', ['b'], ['f'], 'flatten', [intAttribute('axis', 1)]),
  ], [['x', [2, 3, 4]]], ['f'], [makeTensor('k', [3, 1], new Float32Array(3))]);
  const facts = inferFacts(model.graph!, 9);
  assert.deepEqual(facts.get('b')?.dims, [2, 3, 4]);
  assert.deepEqual(facts.get('f')?.dims, [2, 12]);
});
