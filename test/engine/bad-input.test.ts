// Bad input through the real CLI (dist/engine.js): each case gets one clear error naming the file and the cause,
// a non-zero exit code, and nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { makeNode } from '../../src/onnx/graph';
import { encodeModel } from '../../src/onnx/proto';
import { makeTensor, tensorToFloat32 } from '../../src/onnx/tensor';
import { writePngFolder } from '../fixtures/images';
import { buildModel, smallCnn, tempDir, valueInfo, workspace, writeImageNpy } from '../fixtures/models';

const engine = resolve(process.cwd(), 'dist/engine.js');

function octet(args: string[]): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [engine, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

function expectError(args: string[], subject: string, cause: RegExp): void {
  const r = octet(args);
  assert.notEqual(r.code, 0, `exit code for ${args.join(' ')}`);
  assert.ok(r.stderr.includes(subject), `error names ${subject}:\n${r.stderr}`);
  assert.match(r.stderr, cause);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/, 'no stack trace');
}

test('truncated model', () => {
  const { dir, data } = workspace();
  const bytes = encodeModel(smallCnn());
  const path = join(dir, 'truncated.onnx');
  writeFileSync(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  expectError(['quantize', path, '--calib', data], path, /truncated or corrupt/);
  assert.deepEqual(readdirSync(dir).sort(), ['data.npy', 'truncated.onnx']);
});

test('a file that is not ONNX', () => {
  const { dir, data } = workspace();
  const path = join(dir, 'notes.onnx');
  writeFileSync(path, 'these are my notes, not a model\n'.repeat(20));
  expectError(['quantize', path, '--calib', data], path, /not (a valid )?(an )?ONNX model/);
});

test('missing model file', () => {
  const { dir, data } = workspace();
  const path = join(dir, 'nope.onnx');
  expectError(['quantize', path, '--calib', data], path, /no such file/);
});

test('an op the runtime cannot run', () => {
  const { dir, data } = workspace();
  const model = buildModel([makeNode('FancyOp', ['image'], ['out'], 'fancy', [], 'com.example')],
    [], [valueInfo('image', ['N', 3, 16, 16])], [valueInfo('out', ['N', 3, 16, 16])]);
  model.opset_import.push({ domain: 'com.example', version: 1 });
  const path = join(dir, 'custom.onnx');
  writeFileSync(path, encodeModel(model));
  expectError(['quantize', path, '--calib', data], path, /ONNX Runtime cannot load this model/);
});

test('a model with no quantizable op', () => {
  const { dir, data } = workspace();
  const model = buildModel([makeNode('Softmax', ['image'], ['out'], 'softmax')],
    [], [valueInfo('image', ['N', 3, 16, 16])], [valueInfo('out', ['N', 3, 16, 16])]);
  const path = join(dir, 'softmax.onnx');
  writeFileSync(path, encodeModel(model));
  expectError(['quantize', path, '--calib', data, '--preprocess', 'raw'], path, /no quantizable op/);
  assert.deepEqual(readdirSync(dir).sort(), ['data.npy', 'softmax.onnx']);
});

test('a weight holding NaN: refused before calibration, naming the node and the tensor (exit 1)', () => {
  const { dir, data } = workspace();
  const model = smallCnn();
  const w = model.graph!.initializer.find((t) => t.name === 'w3')!;
  const values = tensorToFloat32(w);
  values[5] = NaN;
  Object.assign(w, makeTensor('w3', w.dims.map(Number), values));
  const path = join(dir, 'nan.onnx');
  writeFileSync(path, encodeModel(model));
  const r = octet(['quantize', path, '--calib', data, '--no-eval', '--no-bench']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /node 'pwconv' \(Conv\): its weight 'w3' holds NaN at element 5/);
  assert.match(r.stderr, /--exclude pwconv/);
  assert.doesNotMatch(r.stderr, /\[calibrate\]/, 'found before calibration');
  assert.deepEqual(readdirSync(dir).sort(), ['data.npy', 'nan.onnx'], 'nothing written');
});

test('free height and width, images and no size: the error says which flags give one (inspect takes them too)', () => {
  const { dir } = workspace();
  const model = smallCnn();
  model.graph!.input[0] = valueInfo('image', ['N', 3, 'H', 'W']);
  const path = join(dir, 'dynamic.onnx');
  writeFileSync(path, encodeModel(model));
  const images = writePngFolder(dir, 'images', [[20, 20], [24, 18]]);
  expectError(['quantize', path, '--calib', images], images, /leaves its height or width free: pass --input-size HxW, or --size-multiple N --max-side S/);
  const inspected = octet(['inspect', path]);
  assert.equal(inspected.code, 0, inspected.stderr);
  assert.match(inspected.stdout, /leaves its height and width free: pass --input-size HxW/);
  const sized = octet(['inspect', path, '--input-size', '16x16']);
  assert.equal(sized.code, 0, sized.stderr);
  assert.match(sized.stdout, /preprocessing: torch .*16x16, fit crop/);
  assert.doesNotMatch(sized.stdout, /leaves its/);
});

test('empty calibration folder', () => {
  const { dir } = workspace();
  const path = join(dir, 'cnn.onnx');
  writeFileSync(path, encodeModel(smallCnn()));
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  expectError(['quantize', path, '--calib', empty, '--preprocess', 'raw'], empty, /no (images|samples|data)|empty/i);
});

test('calibration data of the wrong shape', () => {
  const { dir } = workspace();
  const path = join(dir, 'cnn.onnx');
  writeFileSync(path, encodeModel(smallCnn()));
  const wrong = writeImageNpy(tempDir(), 4, [1, 8, 8]);
  expectError(['quantize', path, '--calib', wrong, '--preprocess', 'raw'], wrong, /shape|expected/i);
});

test('bad flag values', () => {
  const { dir, data } = workspace();
  const path = join(dir, 'cnn.onnx');
  writeFileSync(path, encodeModel(smallCnn()));
  expectError(['quantize', path, '--calib', data, '--method', 'magic'], '--method', /must be one of/);
  expectError(['quantize', path, '--calib', data, '--op-types', 'Erf'], '--op-types', /unquantizable/);
});
