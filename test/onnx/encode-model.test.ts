// encodeModel copies large initializers' raw_data straight into its output instead of through protobufjs' writer: the
// bytes must equal protobufjs' own encoding of the same model, whatever else the model holds (small and typed-field
// initializers, doc strings, metadata, a subgraph with its own initializers, fields after the graph), and decode back
// to the same model; a model read from a real file encodes to the file's bytes. encodeSplit leaves the large top-level
// initializers' bytes out, as in-memory external data its encoding names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as protobuf from 'protobufjs';
import onnxProtoText from '../../src/onnx/onnx.proto';
import { intsAttribute, randomTensor } from '../../src/onnx/build';
import { makeNode } from '../../src/onnx/graph';
import { decodeModel, encodeModel, encodeSplit, ModelProto, TensorProto } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { buildModel, valueInfo } from '../fixtures/models';

const modelType = protobuf.parse(onnxProtoText, { keepCase: true }).root.lookupType('onnx.ModelProto');

function protobufjsBytes(model: ModelProto): Uint8Array {
  return modelType.encode(modelType.fromObject(model as unknown as Record<string, unknown>)).finish();
}

function richModel(): ModelProto {
  const r = rng(3);
  const typed: TensorProto = { ...makeTensor('typed', [3], Float32Array.of(0, 0, 0)), raw_data: undefined, float_data: [0.5, -1, 2], doc_string: 'float_data' };
  const model = buildModel([
    makeNode('Conv', ['x', 'w', 'b'], ['c'], 'conv', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]),
    makeNode('Add', ['c', 'typed_bias'], ['out'], 'add'),
  ], [randomTensor('w', [32, 16, 3, 3], r, 0.3), randomTensor('b', [32], r, 0.1), makeTensor('typed_bias', [1, 32, 1, 1], new Float32Array(32).fill(0.25)), typed],
  [valueInfo('x', ['N', 16, 8, 8])], [valueInfo('out', ['N', 32, 8, 8])], 13);
  const big = model.graph!.initializer[0];
  big.doc_string = 'a weight with a doc string after its raw data';
  big.external_data = [];
  model.graph!.doc_string = 'graph doc';
  model.graph!.value_info.push(valueInfo('c', ['N', 32, 8, 8]));
  model.doc_string = 'model doc';
  model.metadata_props = [{ key: 'k', value: 'v' }];
  // A subgraph attribute with an initializer of its own (encoded by protobufjs as part of its node).
  const sub = buildModel([makeNode('Identity', ['s'], ['t'], 'id')], [randomTensor('s', [64, 64], r, 1)], [], [valueInfo('t', [64, 64])], 13).graph!;
  model.graph!.node.push({ input: [], output: ['never'], name: 'holder', op_type: 'Constant', domain: 'example.unused',
    attribute: [{ name: 'body', type: 5, g: sub, floats: [], ints: [], strings: [], tensors: [], graphs: [] }] });
  return model;
}

test('encodeModel equals protobufjs\' encoding of the same model and decodes back to it', () => {
  const model = richModel();
  assert.ok(model.graph!.initializer.some((t) => (t.raw_data?.length ?? 0) >= 4096), 'an initializer large enough to be copied directly');
  const bytes = encodeModel(model);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(protobufjsBytes(model)));
  const back = decodeModel(bytes);
  assert.deepEqual(Buffer.from(encodeModel(back)), Buffer.from(bytes));
  assert.equal(back.graph!.initializer[0].doc_string, 'a weight with a doc string after its raw data');
  assert.deepEqual(back.graph!.initializer[3].float_data, [0.5, -1, 2]);
  assert.deepEqual(back.metadata_props, [{ key: 'k', value: 'v' }]);
  // A model without large initializers takes protobufjs' path and is the same too.
  const small = { ...model, graph: { ...model.graph!, initializer: model.graph!.initializer.slice(1) } };
  assert.deepEqual(Buffer.from(encodeModel(small)), Buffer.from(protobufjsBytes(small)));
});

test('a real model file encodes back to its own bytes', (t) => {
  const path = join(process.cwd(), '..', 'shared', 'assets', 'models', 'imagenet', 'mobilenet_v1_0.75_224_keras_fp32.onnx');
  if (!existsSync(path)) {
    t.skip(`../shared is absent (${path})`);
    return;
  }
  const file = readFileSync(path);
  const model = decodeModel(file);
  const bytes = Buffer.from(encodeModel(model));
  assert.deepEqual(bytes, Buffer.from(protobufjsBytes(model)));
  assert.deepEqual(bytes, file, 'the file\'s own bytes');
});

test('encodeSplit: the large top-level initializers go apart, unread; put back, the model encodes as before', () => {
  const model = richModel();
  const split = encodeSplit(model);
  const large = model.graph!.initializer.filter((t) => (t.raw_data?.length ?? 0) >= 4096);
  assert.equal(split.external.length, large.length);
  split.external.forEach((file, i) => assert.equal(file.data, large[i].raw_data, 'the initializer\'s own bytes, not a copy'));
  const back = decodeModel(split.graph);
  const files = new Map(split.external.map((f) => [f.path, f.data]));
  for (const tensor of back.graph!.initializer) {
    if (tensor.data_location !== 1) continue;
    const entries = Object.fromEntries(tensor.external_data.map((e) => [e.key, e.value]));
    const data = files.get(entries.location);
    assert.ok(data, `${tensor.name} names one of the files`);
    assert.deepEqual([entries.offset, entries.length], ['0', String(data.length)]);
    assert.equal(tensor.raw_data, undefined);
    Object.assign(tensor, { raw_data: data, data_location: undefined, external_data: [] });
  }
  assert.deepEqual(Buffer.from(encodeModel(back)), Buffer.from(encodeModel(model)));
  // Subgraph initializers stay where they are; the model itself is not changed.
  assert.ok(model.graph!.initializer.every((t) => t.data_location === undefined));
  const apart = split.external.reduce((n, f) => n + f.data.length, 0);
  assert.ok(split.graph.length < encodeModel(model).length - apart + 1024, `${split.graph.length} bytes without ${apart} bytes of weights`);
});
