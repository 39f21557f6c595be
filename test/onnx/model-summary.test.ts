// The light ONNX reader: readModelSummary (a structure-only read of the file, as the extension host does it) says the
// same as summarizeModel on the decoded model; refuses files that are not models, naming them; reads real models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OctetError } from '../../src/common/errors';
import { rng } from '../../src/common/random';
import { randomTensor } from '../../src/onnx/build';
import { summarizeModel } from '../../src/onnx/model-summary';
import { decodeModel, encodeModel } from '../../src/onnx/proto';
import { readModelSummary } from '../../src/onnx/skim';
import { smallCnn, tempDir, valueInfo } from '../fixtures/models';

const SHARED_MODELS = join(__dirname, '..', '..', '..', '..', 'shared', 'assets', 'models');
const dir = tempDir('octet-summary-');

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

test('readModelSummary = summarizeModel of the decoded model: producer, opset, metadata, inputs without initializers, outputs', () => {
  const model = smallCnn();
  model.producer_name = 'pytorch';
  model.producer_version = '2.1';
  model.graph!.name = 'main_graph';
  model.metadata_props = [{ key: 'octet.preprocess', value: 'tf' }, { key: 'Image.BitmapPixelFormat', value: 'Bgr8' }];
  // IR 3 style: an initializer also listed as a graph input is not something a caller feeds.
  model.graph!.input.push(valueInfo('w1', [8, 3, 3, 3]));
  model.graph!.initializer.push(randomTensor('big', [512, 512], rng(1), 0.1)); // 1 MB of weights the read skips
  const path = write('cnn.onnx', encodeModel(model));
  const summary = readModelSummary(path);
  assert.deepEqual(summary, summarizeModel(decodeModel(encodeModel(model))));
  assert.equal(summary.producerName, 'pytorch');
  assert.equal(summary.producerVersion, '2.1');
  assert.equal(summary.opset, 13);
  assert.equal(summary.graphName, 'main_graph');
  assert.deepEqual(summary.metadata, { 'octet.preprocess': 'tf', 'Image.BitmapPixelFormat': 'Bgr8' });
  assert.deepEqual(summary.inputs, [{ name: 'image', elemType: 1, shape: ['N', 3, 16, 16] }]);
  assert.deepEqual(summary.outputs, [{ name: 'logits', elemType: 1, shape: ['N', 10] }]);
  assert.equal(summary.nodeCount, model.graph!.node.length);
});

test('readModelSummary refuses truncated, empty, non-ONNX and input-less files with an error naming the file', () => {
  const bytes = encodeModel(smallCnn());
  const cases: [string, Uint8Array, RegExp][] = [
    ['half.onnx', bytes.subarray(0, Math.floor(bytes.byteLength / 2)), /truncated or corrupt/],
    ['empty.onnx', new Uint8Array(0), /empty/],
    ['json.onnx', new TextEncoder().encode('{"this": "is json, not onnx"}'), /not (a valid )?an? ONNX|corrupt/],
    ['notes.onnx', new TextEncoder().encode('these are my notes, not a model\n'.repeat(20)), /not (a valid )?an? ONNX|corrupt/],
  ];
  const inputless = smallCnn();
  inputless.graph!.input = [];
  cases.push(['inputless.onnx', encodeModel(inputless), /no graph inputs/]);
  for (const [name, data, message] of cases) {
    const path = write(name, data);
    assert.throws(() => readModelSummary(path), (err: unknown) => err instanceof OctetError && err.subject === path && message.test(err.message), name);
  }
  assert.throws(() => readModelSummary(join(dir, 'missing.onnx')), /no such file/);
  assert.throws(() => readModelSummary(dir), /is a folder/);
});

test('real models from ../shared: inputs, producers, initializers left out', { skip: existsSync(SHARED_MODELS) ? false : `${SHARED_MODELS} is absent` }, () => {
  const resnet = readModelSummary(join(SHARED_MODELS, 'cifar10', 'resnet20_cifar10_akamaster.onnx'));
  assert.deepEqual(resnet.inputs[0].shape, ['N', 3, 32, 32]);
  const mnist = readModelSummary(join(SHARED_MODELS, 'mnist', 'mnist-8.onnx'));
  assert.deepEqual(mnist.inputs.map((i) => i.name), ['Input3'], 'initializers listed as inputs (IR 3) are left out');
  assert.match(mnist.producerName, /CNTK/);
  const mobilenet = readModelSummary(join(SHARED_MODELS, 'imagenet', 'mobilenet_v1_0.75_224_keras_fp32.onnx'));
  assert.match(mobilenet.producerName, /^tfjs/);
});
