// Models beyond square ImageNet classifiers, end to end with real onnxruntime-node: a text-line model [N,3,48,W]
// calibrated at 48x192 with pad-right, a fully dynamic map model with each image at its own size (--size-multiple,
// --max-side) through calibration, evaluation and `octet eval`, a paddle2onnx-style BGR 0.5/0.5 model, tensor data of a
// free size taken as it is, and the preprocessing spec file from writer to CLI to Report. The INT8 models keep the
// original's free dims.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Report } from '../../src/common/report';
import { rng } from '../../src/common/random';
import { formatPreprocessFile } from '../../src/data/preprocess-file';
import { evaluatePair } from '../../src/engine/commands/eval';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { EngineEvent } from '../../src/engine/events';
import type { QuantizeRequest } from '../../src/engine/request';
import { openSession, runFloat } from '../../src/engine/runtime/session';
import { preprocessFilePath } from '../../src/extension/quantize/quantize-request';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { intAttribute, makeNode, shapeOf } from '../../src/onnx/graph';
import { readModel } from '../../src/onnx/model-io';
import { encodeModel, ModelProto, NodeProto } from '../../src/onnx/proto';
import { writePngFolder } from '../fixtures/images';
import { tempDir, writeNpy } from '../fixtures/models';
import { paddleStyleClassifier } from '../fixtures/paddle-style';

const engine = resolve(process.cwd(), 'dist/engine.js');

function conv(name: string, input: string, output: string, kernel: number, stride = 1): NodeProto {
  const pad = Math.floor(kernel / 2);
  return makeNode('Conv', [input, `${name}_w`, `${name}_b`], [output], name, [intsAttribute('kernel_shape', [kernel, kernel]),
    intsAttribute('strides', [stride, stride]), intsAttribute('pads', [pad, pad, pad, pad]), intAttribute('group', 1)]);
}

/** Weights [out, in, k, k] and bias for each conv: name → [out, in, k]. */
function convWeights(specs: Record<string, [number, number, number]>, seed: number) {
  const r = rng(seed);
  return Object.entries(specs).flatMap(([name, [out, inC, k]]) => [randomTensor(`${name}_w`, [out, inC, k, k], r, 0.4), randomTensor(`${name}_b`, [out], r, 0.1)]);
}

/** A text-line classifier like PaddleOCR's direction classifier: [N,3,48,W] → [N,4]. */
function textLineModel(): ModelProto {
  const inits = [...convWeights({ c1: [8, 3, 3], c2: [8, 8, 3] }, 11), randomTensor('fc_w', [4, 8], rng(12), 0.4), randomTensor('fc_b', [4], rng(13), 0.1)];
  const nodes = [
    conv('c1', 'x', 'a1', 3, 2), makeNode('Relu', ['a1'], ['r1'], 'relu1'),
    conv('c2', 'r1', 'a2', 3), makeNode('Relu', ['a2'], ['r2'], 'relu2'),
    makeNode('GlobalAveragePool', ['r2'], ['gap'], 'gap'), makeNode('Flatten', ['gap'], ['flat'], 'flatten'),
    makeNode('Gemm', ['flat', 'fc_w', 'fc_b'], ['logits'], 'fc', [intAttribute('transB', 1)]),
  ];
  return buildModel(nodes, inits, [valueInfo('x', ['N', 3, 48, 'W'])], [valueInfo('logits', ['N', 4])], 13, 'octet-test');
}

/** A fully convolutional map model (a detector's probability map): [N,3,H,W] → [N,2,H/2,W/2]. */
function mapModel(): ModelProto {
  const nodes = [
    conv('c1', 'x', 'a1', 3, 2), makeNode('Relu', ['a1'], ['r1'], 'relu1'),
    conv('c2', 'r1', 'a2', 3), makeNode('Relu', ['a2'], ['r2'], 'relu2'),
    conv('c3', 'r2', 'map', 1),
  ];
  return buildModel(nodes, convWeights({ c1: [8, 3, 3], c2: [8, 8, 3], c3: [2, 8, 1] }, 21),
    [valueInfo('x', ['N', 3, 'H', 'W'])], [valueInfo('map', ['N', 2, 'H2', 'W2'])], 13, 'octet-test');
}

function request(model: string, calib: string, overrides: Partial<QuantizeRequest> = {}): QuantizeRequest {
  return { model, calib, calibCount: 8, calibBatch: 4, method: 'minmax', evalCount: 6, benchmark: false, threads: 1, speedAware: 'off', ...overrides };
}

function saved(dir: string, name: string, model: ModelProto): string {
  const path = join(dir, name);
  writeFileSync(path, encodeModel(model));
  return path;
}

/** Word-like images of many widths (and a few square ones). */
const LINE_SIZES: [number, number][] = [[100, 40], [60, 30], [300, 50], [48, 48], [180, 36], [90, 45], [400, 40], [120, 60], [75, 25], [200, 100], [50, 40], [260, 52], [140, 35], [64, 64]];

test('text-line model [N,3,48,W]: --input-size 48x192 --fit pad-right; the plan is logged first, the Report records it, INT8 keeps W free', async () => {
  const dir = tempDir();
  const model = saved(dir, 'cls.onnx', textLineModel());
  const images = writePngFolder(dir, 'lines', LINE_SIZES);
  const events: EngineEvent[] = [];
  const outcome = await quantizeModel(request(model, images, { inputSize: '48x192', fit: 'pad-right', padValue: 0, onEvent: (e) => events.push(e) }));
  const { settings } = outcome.report;
  assert.deepEqual(settings.preprocessing, {
    preset: 'torch', channelOrder: 'rgb', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], fit: 'pad-right', size: [48, 192],
    resize: null, crop: null, padValue: 0, sizeMultiple: null, maxSide: null, reason: settings.preprocessing!.reason,
  });
  assert.match(settings.preprocessing!.reason, /given: --fit, --input-size, --pad-value; the rest guess: producer 'octet-test'; assuming the ImageNet mean\/std \(torchvision\): torch$/);
  assert.equal(settings.preprocess, 'torch');
  const logged = events.findIndex((e) => e.type === 'log' && /^preprocessing: torch .*48x192, fit pad-right, pad 0/.test(e.message));
  const calibrating = events.findIndex((e) => e.type === 'progress' && e.stage === 'calibrate');
  assert.ok(logged >= 0 && logged < calibrating, 'the preprocessing is logged before calibration');
  assert.ok(outcome.report.warnings.some((w) => /Preprocessing 'torch'.*was guessed/.test(w)), 'a guessed normalization is a warning');
  assert.equal(outcome.report.calibration.images, 8);
  assert.equal(outcome.report.accuracy!.n, 6);
  // The INT8 model keeps the free width and runs at another one.
  const int8 = readModel(outcome.modelPath).model;
  assert.deepEqual(shapeOf(int8.graph!.input[0]), ['N', 3, 48, 'W']);
  const session = await openSession(outcome.modelPath, { threads: 1, level: 'all' }, outcome.modelPath);
  const out = await runFloat(session, 'x', new Float32Array(2 * 3 * 48 * 100).fill(0.3), [2, 3, 48, 100]);
  assert.deepEqual([...out.logits.dims], [2, 4]);
  await session.release();
});

test('tensor data of a free size (.npy 48x192 for [N,3,48,W]) is taken as it is: no preprocessing, no preprocessing warning', async () => {
  const dir = tempDir();
  const model = saved(dir, 'cls.onnx', textLineModel());
  const r = rng(4);
  const data = join(dir, 'lines.npy');
  writeNpy(data, [14, 3, 48, 192], new Float32Array(14 * 3 * 48 * 192).map(() => r() * 2 - 1));
  const events: EngineEvent[] = [];
  const outcome = await quantizeModel(request(model, data, { onEvent: (e) => events.push(e) }));
  assert.equal(outcome.report.settings.preprocess, 'none');
  assert.equal(outcome.report.settings.preprocessing, null);
  assert.deepEqual(outcome.report.warnings.filter((w) => /reprocessing/.test(w)), []);
  assert.ok(events.some((e) => e.type === 'log' && /npy data: samples taken as they are \(no preprocessing\), input \[3,48,192\]/.test(e.message)));
  assert.ok(outcome.report.accuracy!.outputSqnrDb > 15, `SQNR ${outcome.report.accuracy!.outputSqnrDb}`);
});

test('fully dynamic map model: --size-multiple 32 --max-side 128, images of different sizes through calibration, evaluation and octet eval', async () => {
  const dir = tempDir();
  const model = saved(dir, 'det.onnx', mapModel());
  const images = writePngFolder(dir, 'scenes', [[300, 200], [64, 64], [100, 150], [40, 90], [128, 128], [500, 120], [80, 60], [200, 210], [33, 33], [150, 90], [96, 160], [256, 256], [70, 140], [210, 64]]);
  const events: EngineEvent[] = [];
  const outcome = await quantizeModel(request(model, images, { sizeMultiple: 32, maxSide: 128, onEvent: (e) => events.push(e) }));
  const { report } = outcome;
  assert.equal(report.settings.calibBatch, 1, 'samples of their own sizes run one at a time');
  assert.deepEqual([report.settings.preprocessing!.sizeMultiple, report.settings.preprocessing!.maxSide, report.settings.preprocessing!.size, report.settings.preprocessing!.fit],
    [32, 128, null, 'stretch']);
  assert.equal(report.calibration.images, 8);
  assert.equal(report.accuracy!.n, 6);
  assert.equal(report.accuracy!.outputs![0].kind, 'map');
  assert.ok(report.accuracy!.outputs![0].agreement! > 0.8, `map agreement ${report.accuracy!.outputs![0].agreement}`);
  assert.ok(events.some((e) => e.type === 'log' && /sizes of their own \(up to \[3,128,128\]\)/.test(e.message)));
  assert.deepEqual(shapeOf(readModel(outcome.modelPath).model.graph!.input[0]), ['N', 3, 'H', 'W'], 'INT8 keeps H and W free');
  const evaluated = await evaluatePair({
    fp32: model, int8: outcome.modelPath, data: images, labels: null, skip: 0, limit: 5, threads: 1, preprocess: 'auto', channelOrder: null,
    mean: null, std: null, inputSize: null, fit: null, padValue: null, sizeMultiple: 32, maxSide: 128, resize: null, crop: null,
    preprocessFile: null, layout: null,
  });
  assert.equal(evaluated.json.n, 5);
  assert.equal(evaluated.json.outputs[0].kind, 'map');
  assert.equal(evaluated.json.preprocessing!.sizeMultiple, 32);
});

test('a paddle2onnx-style opset-9 model taking BGR (x/255 − 0.5)/0.5: --channel-order bgr --mean 127.5 --std 127.5', async () => {
  const dir = tempDir();
  const model = saved(dir, 'paddle.onnx', paddleStyleClassifier());
  const images = writePngFolder(dir, 'images', LINE_SIZES.map(([w, h]) => [Math.max(32, h), Math.max(32, h)] as [number, number]));
  const outcome = await quantizeModel(request(model, images, { channelOrder: 'bgr', mean: '127.5', std: '127.5' }));
  const p = outcome.report.settings.preprocessing!;
  assert.deepEqual([p.preset, p.channelOrder, p.mean, p.std, p.fit, p.size], ['custom', 'bgr', [127.5, 127.5, 127.5], [127.5, 127.5, 127.5], 'stretch', [32, 32]]);
  assert.equal(outcome.report.settings.preprocess, 'custom');
  assert.deepEqual(outcome.report.warnings.filter((w) => /was guessed/.test(w)), [], 'nothing guessed about the normalization');
  assert.ok(outcome.report.accuracy!.outputSqnrDb > 10, `SQNR ${outcome.report.accuracy!.outputSqnrDb}`);
});

test('the spec file: written as the extension writes it, read by the CLI (a flag wins over one field), recorded in the Report', () => {
  const dir = tempDir();
  const model = saved(dir, 'cls.onnx', textLineModel());
  const images = writePngFolder(dir, 'lines', LINE_SIZES);
  const report = join(dir, 'cls.int8.report.json');
  const spec = preprocessFilePath(report);
  assert.equal(spec, join(dir, 'cls.int8.preprocess.json'));
  writeFileSync(spec, formatPreprocessFile('x', { channelOrder: 'bgr', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], size: [48, 192], fit: 'pad-right', padValue: 127.5 }));
  const run = spawnSync(process.execPath, [engine, 'quantize', model, '--calib', images, '--calib-count', '8', '--eval-count', '4', '--no-bench',
    '--method', 'minmax', '--preprocess-file', spec, '--pad-value', '0', '--report', report, '--progress', 'none'], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(run.status, 0, run.stderr);
  const written = JSON.parse(readFileSync(report, 'utf8')) as Report;
  const p = written.settings.preprocessing!;
  assert.deepEqual([p.channelOrder, p.mean, p.std, p.size, p.fit, p.padValue], ['bgr', [127.5, 127.5, 127.5], [127.5, 127.5, 127.5], [48, 192], 'pad-right', 0]);
  assert.match(p.reason, new RegExp(`given: --pad-value, ${spec.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  // The output may not overwrite the spec file: it is one of the run's inputs.
  const clash = spawnSync(process.execPath, [engine, 'quantize', model, '--calib', images, '--preprocess-file', spec, '--report', spec], { encoding: 'utf8' });
  assert.equal(clash.status, 1);
  assert.match(clash.stderr, /--report would overwrite the preprocessing spec file/);
});
