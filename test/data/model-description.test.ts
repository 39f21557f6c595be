// describeModel (input, free dims, output kinds, the preprocessing guess and its reason) and resolvePreprocessing
// (flags over a spec file over a preset over the guess; checked against the model's dims), and the spec file format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../fixtures/models';
import { OctetError } from '../../src/common/errors';
import { describeModel, type ModelDescription, requireInput, sizeAdvice } from '../../src/data/model-description';
import { formatPreprocessFile, parsePreprocessFile, preprocessFileSource } from '../../src/data/preprocess-file';
import {
  describePreprocessing, FIELD_FLAGS, fieldsFromFlags, fieldsOf, PreprocessingFlags, PreprocessingFields, resolvePreprocessing,
} from '../../src/data/preprocessing';
import type { ModelSummary } from '../../src/onnx/model-summary';

function summary(shape: (number | string)[], producerName = '', metadata: Record<string, string> = {},
  outputs: (number | string)[][] = [['N', 10]]): ModelSummary {
  return {
    irVersion: 7, producerName, producerVersion: '', opset: 13, graphName: '', metadata, nodeCount: 3,
    inputs: [{ name: 'x', elemType: 1, shape }], outputs: outputs.map((s, i) => ({ name: `y${i}`, elemType: 1, shape: s })),
  };
}

const describe = (s: ModelSummary, label = 'm.onnx'): ModelDescription => describeModel(s, { label });
const guessOf = (s: ModelSummary, label?: string) => describe(s, label).guess!;

test('describeModel: layout, channels, fixed and free dims, output kinds; problems in words', () => {
  const d = describe(summary(['N', 3, 48, 'W'], 'PaddlePaddle', {}, [['N', 40, 6625]]));
  assert.deepEqual(d.input, { name: 'x', dims: ['N', 3, 48, 'W'], layout: 'NCHW', channels: 3, height: 48, width: null, fixedBatch: null });
  assert.deepEqual(d.outputs.map((o) => o.kind), ['sequence']);
  // Free dims decide nothing, except that a free height or width makes a map.
  const yolo = describe(summary(['N', 3, 'H', 'W'], 'pytorch', {}, [['N', 'anchors', 'attrs'], ['N', 'C', 'H', 'W'], ['N', 'classes'], [1, 5, 1, 1]]));
  assert.deepEqual(yolo.outputs.map((o) => o.kind), ['other', 'map', 'other', 'classification']);
  assert.match(sizeAdvice(d.input!), /\[N,3,48,W\] leaves its width free: pass --input-size HxW \(e\.g\. 48x192\)/);
  const nhwc = describe(summary([1, 224, 224, 3], 'tf2onnx', {}, [[1, 1001], [1, 'H', 'W', 2]]));
  assert.equal(nhwc.input!.layout, 'NHWC');
  assert.equal(nhwc.input!.fixedBatch, 1);
  assert.deepEqual(nhwc.outputs.map((o) => o.kind), ['classification', 'map']);
  const free = describe(summary(['N', 3, 'H', 'W']));
  assert.match(sizeAdvice(free.input!), /height and width free: pass --input-size HxW \(e\.g\. 640x640\), or --size-multiple N --max-side S/);
  const two = describe({ ...summary([1, 3, 8, 8]), inputs: [{ name: 'a', elemType: 1, shape: [1] }, { name: 'b', elemType: 1, shape: [1] }] });
  assert.equal(two.input, null);
  assert.match(two.problem!, /one input tensor; this one has 2 \(a, b\)/);
  assert.throws(() => requireInput(two), (err: unknown) => err instanceof OctetError && err.subject === 'm.onnx');
  assert.match(describe({ ...summary([1, 3, 8, 8]), inputs: [{ name: 'x', elemType: 7, shape: [1, 3, 8, 8] }] }).problem!, /not float32/);
  assert.match(describe(summary(['N', 'C', 8, 8])).problem!, /free channel count/);
});

test('the guess: metadata first, then producer, name and input shape; each says why', () => {
  const preset = (s: ModelSummary, label?: string) => guessOf(s, label).preprocessing.preset;
  assert.equal(preset(summary(['N', 3, 224, 224], 'pytorch', { 'Image.NominalPixelRange': 'Normalized_1_1' })), 'tf');
  assert.equal(preset(summary(['N', 3, 224, 224], '', { 'octet.preprocess': 'caffe' })), 'caffe');
  assert.equal(preset(summary(['N', 3, 224, 224], 'pytorch', { preprocessing: 'unit' })), 'unit');
  assert.equal(preset(summary(['N', 3, 32, 32], 'pytorch')), 'torch');
  assert.equal(preset(summary(['N', 224, 224, 3], 'tf2onnx')), 'tf');
  assert.equal(preset(summary(['N', 224, 224, 3], '')), 'tf', 'channels-last without a producer');
  assert.equal(preset(summary([1, 1, 28, 28], 'CNTK')), 'raw');
  assert.equal(preset(summary(['batch', 1, 28, 28], 'pytorch')), 'unit');
  assert.equal(preset(summary(['N', 3, 224, 224], 'mystery')), 'torch');
  assert.equal(preset(summary(['N', 3, 224, 224], 'caffe2')), 'caffe');
  // Keras ResNet/VGG by the file name (the modelName rule, now reached) or the graph name; v2 models take tf.
  assert.equal(preset(summary(['N', 224, 224, 3], 'tf2onnx'), '/models/resnet50_keras.onnx'), 'caffe');
  assert.equal(preset({ ...summary(['N', 224, 224, 3], 'keras2onnx'), graphName: 'vgg16' }), 'caffe');
  assert.equal(preset(summary(['N', 224, 224, 3], 'tf2onnx'), '/models/resnet50v2.onnx'), 'tf');
  // Image.BitmapPixelFormat turns the channel order.
  assert.equal(guessOf(summary(['N', 3, 224, 224], 'pytorch', { 'Image.BitmapPixelFormat': 'Bgr8' })).preprocessing.channelOrder, 'bgr');
  const reason = guessOf(summary(['N', 3, 32, 32], 'pytorch')).reason;
  assert.match(reason, /^guess: producer 'pytorch'.*torch; guess: fit stretch, a small input/);
});

test('the guess for PaddlePaddle exports: text lines BGR 0.5/0.5 pad-right, detectors BGR ImageNet letterbox, classifiers torch', () => {
  const rec = guessOf(summary(['N', 3, 48, 'W'], 'PaddlePaddle', {}, [['N', 'T', 6625]]));
  assert.deepEqual([rec.preprocessing.channelOrder, rec.preprocessing.mean, rec.preprocessing.std, rec.preprocessing.fit],
    ['bgr', [127.5, 127.5, 127.5], [127.5, 127.5, 127.5], 'pad-right']);
  assert.equal(rec.preprocessing.preset, 'custom');
  assert.match(rec.reason, /PaddleOCR.*BGR.*pad-right/);
  const cls = guessOf(summary(['N', 3, 48, 192], 'PaddlePaddle', {}, [['N', 2]]));
  assert.equal(cls.preprocessing.channelOrder, 'bgr');
  assert.deepEqual(cls.preprocessing.size, [48, 192]);
  const det = guessOf(summary(['N', 3, 'H', 'W'], 'PaddlePaddle', {}, [['N', 1, 'H', 'W']]));
  assert.deepEqual([det.preprocessing.channelOrder, det.preprocessing.mean, det.preprocessing.fit, det.preprocessing.size],
    ['bgr', [123.675, 116.28, 103.53], 'letterbox', null]);
  assert.equal(guessOf(summary(['N', 3, 224, 224], 'PaddlePaddle')).preprocessing.preset, 'torch');
  // A free size with a class output: crop.
  assert.equal(guessOf(summary(['N', 3, 'H', 'W'], 'pytorch', {}, [['N', 1000]])).preprocessing.fit, 'crop');
});

const NO_FLAGS: PreprocessingFlags = {
  preprocess: 'auto', channelOrder: null, mean: null, std: null, inputSize: null, fit: null, padValue: null,
  sizeMultiple: null, maxSide: null, resize: null, crop: null,
};
const flags = (given: Partial<PreprocessingFlags>) => ({ fields: fieldsFromFlags({ ...NO_FLAGS, ...given }), name: (f: keyof PreprocessingFields) => FIELD_FLAGS[f] });
const file = (fields: PreprocessingFields) => ({ fields, name: () => 'spec.json' });

test('resolvePreprocessing: flags over the spec file over the preset over the guess, field by field; the preset named back', () => {
  const d = describe(summary(['N', 3, 48, 'W'], 'PaddlePaddle', {}, [['N', 'T', 97]]));
  const input = requireInput(d);
  const guessed = resolvePreprocessing(input, d.guess!, [flags({ inputSize: '48x192' })]);
  assert.equal(guessed.guessed, true);
  assert.deepEqual(guessed.preprocessing, {
    preset: 'custom', channelOrder: 'bgr', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], fit: 'pad-right', size: [48, 192],
    resize: null, crop: null, padValue: 0, sizeMultiple: null, maxSide: null,
  });
  assert.match(guessed.reason, /^given: --input-size; the rest guess: producer 'PaddlePaddle'/);
  // The file's preset gives the normalization; a flag beats the file's size and mean.
  const merged = resolvePreprocessing(input, d.guess!, [
    flags({ inputSize: '48x320', mean: '0' }), file({ preset: 'tf', size: [48, 100], fit: 'stretch', padValue: 9 })]);
  assert.deepEqual(merged.preprocessing, {
    preset: 'custom', channelOrder: 'rgb', mean: [0, 0, 0], std: [127.5, 127.5, 127.5], fit: 'stretch', size: [48, 320],
    resize: null, crop: null, padValue: 9, sizeMultiple: null, maxSide: null,
  });
  assert.equal(merged.guessed, false);
  assert.match(merged.reason, /given: --mean, --input-size, spec\.json \(preset tf\)/);
  // Numbers equal to a preset are called by its name.
  assert.equal(resolvePreprocessing(input, d.guess!, [flags({ inputSize: '48', channelOrder: 'rgb', mean: '127.5', std: '127.5' })]).preprocessing.preset, 'tf');
  // --crop/--resize pick the crop fit; --size-multiple the stretch fit.
  const free = describe(summary(['N', 3, 'H', 'W'], 'pytorch', {}, [['N', 2, 'H', 'W']]));
  const crop = resolvePreprocessing(requireInput(free), free.guess!, [flags({ crop: 224 })]).preprocessing;
  assert.deepEqual([crop.fit, crop.size, crop.crop], ['crop', [224, 224], 224]);
  const own = resolvePreprocessing(requireInput(free), free.guess!, [flags({ sizeMultiple: 32, maxSide: 640 })]).preprocessing;
  assert.deepEqual([own.fit, own.size, own.sizeMultiple, own.maxSide], ['stretch', null, 32, 640]);
  assert.equal(describePreprocessing(own), 'torch (RGB, mean 123.675,116.28,103.53, std 58.395,57.12,57.375), each image its own size (sides multiples of 32, at most 640), fit stretch');
  // No size for a free model: null (the image data set says how to give one).
  assert.equal(resolvePreprocessing(requireInput(free), free.guess!, []).preprocessing.size, null);
});

test('resolvePreprocessing refuses what cannot work, naming the flag or file', () => {
  const fixed = describe(summary(['N', 3, 224, 224], 'pytorch'));
  const free = describe(summary(['N', 3, 'H', 'W'], 'pytorch', {}, [['N', 2, 'H', 'W']]));
  const fails = (d: ModelDescription, sources: Parameters<typeof resolvePreprocessing>[2], subject: string, message: RegExp) =>
    assert.throws(() => resolvePreprocessing(requireInput(d), d.guess!, sources),
      (err: unknown) => err instanceof OctetError && err.subject === subject && message.test(err.message), `${subject} ${message}`);
  fails(fixed, [flags({ inputSize: '48x192' })], '--input-size', /asks for 48x192, but the model's input height is fixed at 224/);
  fails(fixed, [file({ size: [224, 100] })], 'spec.json', /width is fixed at 224/);
  fails(fixed, [flags({ fit: 'letterbox', crop: 200 })], '--crop', /applies to --fit crop/);
  fails(fixed, [flags({ sizeMultiple: 32, maxSide: 640 })], '--size-multiple', /both free; this one fixes 224x224: use --input-size/);
  fails(free, [flags({ sizeMultiple: 32 })], '--size-multiple', /--size-multiple N and --max-side S together/);
  fails(free, [flags({ sizeMultiple: 32, maxSide: 640, inputSize: '64' })], '--size-multiple', /cannot go with --input-size/);
  fails(free, [flags({ sizeMultiple: 32, maxSide: 640, fit: 'crop' })], '--fit', /crop needs one size/);
  fails(free, [flags({ sizeMultiple: 64, maxSide: 32 })], '--max-side', /must be at least --size-multiple/);
  assert.throws(() => fieldsFromFlags({ ...NO_FLAGS, mean: '1,2' }), (err: unknown) => err instanceof OctetError && err.subject === '--mean' && /one number for all channels or three/.test(err.message));
  assert.throws(() => fieldsFromFlags({ ...NO_FLAGS, std: '1,0,1' }), /each > 0/);
  assert.throws(() => fieldsFromFlags({ ...NO_FLAGS, inputSize: '48x' }), (err: unknown) => err instanceof OctetError && err.subject === '--input-size');
  assert.deepEqual(fieldsFromFlags({ ...NO_FLAGS, inputSize: '48×192', mean: '1, 2 ,3' }), { size: [48, 192], mean: [1, 2, 3] });
});

test('the spec file: written for an input, read back field for field; bad files are errors naming them', () => {
  const dir = tempDir('octet-spec-');
  const fields: PreprocessingFields = { preset: 'tf', channelOrder: 'bgr', mean: [1, 2, 3], std: [4, 5, 6], size: [48, 192], fit: 'pad-right', padValue: 127.5 };
  const path = join(dir, 'm.int8.preprocess.json');
  writeFileSync(path, formatPreprocessFile('x', fields));
  assert.deepEqual(preprocessFileSource(path, 'x').fields, fields);
  assert.throws(() => preprocessFileSource(path, 'image'), (err: unknown) => err instanceof OctetError && err.subject === path && /no entry for the model input 'image' \(it describes 'x'\)/.test(err.message));
  // Every field of a resolved preprocessing survives the round trip.
  const d = describe(summary(['N', 3, 'H', 'W'], 'PaddlePaddle', {}, [['N', 1, 'H', 'W']]));
  const resolved = resolvePreprocessing(requireInput(d), d.guess!, [flags({ sizeMultiple: 32, maxSide: 960, padValue: 3 })]).preprocessing;
  const again = resolvePreprocessing(requireInput(d), d.guess!, [file(parsePreprocessFile(formatPreprocessFile('x', fieldsOf(resolved)), 'f').get('x')!)]).preprocessing;
  assert.deepEqual(again, resolved);
  const bad = (text: string, message: RegExp) => assert.throws(() => parsePreprocessFile(text, 'spec.json'),
    (err: unknown) => err instanceof OctetError && err.subject.startsWith('spec.json') && message.test(err.message), message.source);
  bad('not json', /is not JSON/);
  bad('{"inputs": {}}', /not an Octet preprocessing spec/);
  bad('{"octetPreprocessing": 1}', /no "inputs" object/);
  bad('{"octetPreprocessing": 1, "inputs": {"x": {"stdev": [1]}}}', /inputs\.x has unknown field\(s\) stdev/);
  bad('{"octetPreprocessing": 1, "inputs": {"x": {"mean": [1, 2]}}}', /inputs\.x\.mean.*one number for all channels or three/);
  bad('{"octetPreprocessing": 1, "inputs": {"x": {"fit": "cover"}}}', /inputs\.x\.fit must be one of crop, stretch, letterbox, pad-right/);
  bad('{"octetPreprocessing": 1, "inputs": {"x": {"padValue": 300}}}', /padValue must be a number in \[0, 255\]/);
  bad('{"octetPreprocessing": 1, "inputs": {"x": {"sizeMultiple": 0}}}', /sizeMultiple must be a whole number/);
  bad('{"octetPreprocessing": 1, "inputs": {"x": {"preset": "imagenet"}}}', /preset must be one of torch, tf, caffe, raw, unit/);
});
