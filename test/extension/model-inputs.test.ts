// The cheap in-host model look (inputs, producer, metadata) and the preprocessing guess built on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../../src/onnx/proto';
import { OctetError } from '../../src/common/errors';
import { summarizeModel, summarizeModelBytes, ModelSummary } from '../../src/extension/quantize/model-inputs';
import { guessPreprocess, imageLayout } from '../../src/extension/quantize/preprocess-guess';
import { smallCnn, tempDir } from '../fixtures/models';

const SHARED_MODELS = join(__dirname, '..', '..', '..', '..', 'shared', 'assets', 'models');

test('reads the graph inputs of a generated model, leaving out initializers', () => {
  const model = smallCnn();
  model.producer_name = 'pytorch';
  const summary = summarizeModelBytes(encodeModel(model), 'cnn.onnx');
  assert.equal(summary.inputs.length, 1);
  assert.equal(summary.inputs[0].name, 'image');
  assert.equal(summary.inputs[0].elemType, 1);
  assert.equal(summary.inputs[0].shape.length, 4);
  assert.equal(summary.inputs[0].shape[1], 3);
  assert.equal(summary.producerName, 'pytorch');
  assert.ok(summary.nodeCount > 5);
  assert.equal(guessPreprocess(summary).preset, 'torch');
});

test('truncated, empty and non-ONNX files fail with an error naming the file', () => {
  const bytes = encodeModel(smallCnn());
  const cases: [Uint8Array, RegExp][] = [
    [bytes.subarray(0, Math.floor(bytes.byteLength / 2)), /truncated or corrupt/],
    [new Uint8Array(0), /empty/],
    [new TextEncoder().encode('{"this": "is json, not onnx"}'), /not (a valid )?an? ONNX|corrupt/],
  ];
  for (const [data, message] of cases) {
    assert.throws(() => summarizeModelBytes(data, '/x/bad.onnx'), (err: unknown) =>
      err instanceof OctetError && err.subject === '/x/bad.onnx' && message.test(err.message));
  }
  const dir = tempDir();
  assert.throws(() => summarizeModel(join(dir, 'missing.onnx')), /no such file/);
  writeFileSync(join(dir, 'half.onnx'), bytes.subarray(0, 100));
  assert.throws(() => summarizeModel(join(dir, 'half.onnx')), /half\.onnx/);
});

function summary(shape: (number | string)[], producerName = '', metadata: Record<string, string> = {}): ModelSummary {
  return { irVersion: 7, producerName, producerVersion: '', inputs: [{ name: 'x', elemType: 1, shape }], metadata, nodeCount: 3 };
}

test('preprocessing guess: metadata first, then exporter and channels', () => {
  assert.equal(guessPreprocess(summary(['N', 3, 224, 224], 'pytorch', { 'Image.NominalPixelRange': 'Normalized_1_1' })).preset, 'tf');
  assert.equal(guessPreprocess(summary(['N', 3, 224, 224], '', { 'octet.preprocess': 'caffe' })).preset, 'caffe');
  assert.equal(guessPreprocess(summary(['N', 3, 32, 32], 'pytorch')).preset, 'torch');
  assert.equal(guessPreprocess(summary(['N', 224, 224, 3], 'tf2onnx')).preset, 'tf');
  assert.equal(guessPreprocess(summary([1, 1, 28, 28], 'CNTK')).preset, 'raw');
  assert.equal(guessPreprocess(summary(['batch', 1, 28, 28], 'pytorch')).preset, 'unit');
  assert.equal(guessPreprocess(summary(['N', 3, 224, 224], 'mystery')).preset, 'auto');
  assert.match(guessPreprocess(summary(['N', 3, 32, 32], 'pytorch')).reason, /pytorch.*\[N, 3, 32, 32\]/);
  assert.deepEqual(imageLayout([1, 224, 224, 3]), { channels: 3, layout: 'NHWC', size: '224×224' });
  assert.equal(imageLayout([1, 1000]), null);
});

test('real models from ../shared: inputs and guesses', { skip: existsSync(SHARED_MODELS) ? false : `${SHARED_MODELS} is absent` }, () => {
  const resnet = summarizeModel(join(SHARED_MODELS, 'cifar10', 'resnet20_cifar10_akamaster.onnx'));
  assert.deepEqual(resnet.inputs[0].shape, ['N', 3, 32, 32]);
  assert.equal(guessPreprocess(resnet).preset, 'torch');
  const mnist = summarizeModel(join(SHARED_MODELS, 'mnist', 'mnist-8.onnx'));
  assert.deepEqual(mnist.inputs.map((i) => i.name), ['Input3'], 'initializers listed as inputs (IR 3) are left out');
  assert.equal(guessPreprocess(mnist).preset, 'raw');
  const mobilenet = summarizeModel(join(SHARED_MODELS, 'imagenet', 'mobilenet_v1_0.75_224_keras_fp32.onnx'));
  assert.equal(guessPreprocess(mobilenet).preset, 'tf');
});
