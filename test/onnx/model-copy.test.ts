// Copies of decoded models: copyProto gives every byte field its own buffer (a decoded field is a view into the whole
// file) and shares nothing; copySharingInitializers shares the initializer objects, in a list of its own, and copies the
// rest — so a rewrite of the copy (nodes changed, initializers added, dropped or replaced) leaves the original as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyProto, copySharingInitializers, Graph, makeNode } from '../../src/onnx/graph';
import { decodeModel, encodeModel } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { smallCnn } from '../fixtures/models';

function decoded() {
  const bytes = encodeModel(smallCnn(2));
  return { bytes, model: decodeModel(bytes) };
}

test('copyProto: byte fields own their bytes, nothing is shared, the encoding is the same', () => {
  const { bytes, model } = decoded();
  const raw = model.graph!.initializer.find((t) => t.raw_data && t.raw_data.byteLength > 0)!.raw_data!;
  assert.ok(raw.buffer.byteLength > raw.byteLength, 'decoded bytes are a view into a larger buffer');
  const copy = copyProto(model);
  assert.deepEqual(encodeModel(copy), bytes);
  const copiedRaw = copy.graph!.initializer.find((t) => t.name === model.graph!.initializer.find((i) => i.raw_data === raw)!.name)!.raw_data!;
  assert.equal(copiedRaw.buffer.byteLength, copiedRaw.byteLength, 'the copy owns exactly its bytes');
  assert.notEqual(copy.graph!.node[0], model.graph!.node[0]);
  copiedRaw[0] ^= 0xff;
  assert.notEqual(copiedRaw[0], raw[0]);
});

test('copySharingInitializers: initializers shared in a list of their own; a rewrite of the copy leaves the original', () => {
  const { bytes, model } = decoded();
  const copy = copySharingInitializers(model);
  assert.deepEqual(encodeModel(copy), bytes);
  assert.equal(copy.graph!.initializer[0], model.graph!.initializer[0], 'the same TensorProto objects');
  assert.notEqual(copy.graph!.initializer, model.graph!.initializer);
  for (const node of copy.graph!.node) {
    for (const a of node.attribute) for (const v of Object.values(a)) if (ArrayBuffer.isView(v)) assert.equal(v.buffer.byteLength, v.byteLength);
  }
  const graph = new Graph(copy.graph!);
  graph.proto.node[0].input[0] = 'renamed';
  graph.addInitializer(makeTensor('extra', [1], Float32Array.of(1)));
  graph.proto.initializer[1] = makeTensor(graph.proto.initializer[1].name!, [1], Float32Array.of(0));
  graph.proto.node.push(makeNode('Identity', ['logits'], ['out2'], 'id'));
  assert.deepEqual(encodeModel(model), bytes, 'the original is unchanged');
});
