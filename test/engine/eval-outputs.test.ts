// `octet eval --json` scores every output with the measure that fits it, on real architectures (../shared arch-zoo,
// random weights): LR-ASPP's segmentation map (pixel agreement), the YOLO-style detector's head (no agreement: many
// rows of mixed box/score attributes), and a CIFAR classifier (top-1 agreement, and top-1 against labels).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../fixtures/models';

const shared = resolve(process.cwd(), '../shared/assets');
const missing = existsSync(join(shared, 'models/arch-zoo')) ? false : `../shared/assets/models/arch-zoo not found (looked in ${shared})`;
const engine = resolve(process.cwd(), 'dist/engine.js');

function octet(args: string[]): string {
  const r = spawnSync(process.execPath, [engine, ...args], { encoding: 'utf8', timeout: 300_000 });
  assert.equal(r.status, 0, `octet ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
}

interface EvalOutput { name: string; kind: string; shape: number[]; sqnr_db: number; agreement: number | null; agreement_measure: string | null }

function quantizeAndEval(model: string, images: string, extra: string[]): { agreement: number | null; labelled: boolean; outputs: EvalOutput[] } {
  const out = join(tempDir(), 'int8.onnx');
  octet(['quantize', model, '--calib', images, '--calib-count', '4', '--no-eval', '--no-bench', '--bias-correction', 'off', '--progress', 'none',
    '--out', out, ...extra]);
  return JSON.parse(octet(['eval', model, out, '--data', images, '--limit', '4', '--json', ...extra]));
}

test('eval --json: a segmentation map is scored by pixel agreement, not a flattened argmax', { skip: missing }, () => {
  const result = quantizeAndEval(join(shared, 'models/arch-zoo/lraspp_op11_dyn.onnx'), join(shared, 'images/imagenet-sample'),
    ['--preprocess', 'torch', '--crop', '64']);
  assert.equal(result.outputs.length, 1);
  const [map] = result.outputs;
  assert.equal(map.kind, 'map');
  assert.deepEqual(map.shape, [21, 64, 64]);
  assert.equal(map.agreement_measure, 'pixels with the same class');
  assert.ok(map.agreement! > 0 && map.agreement! <= 1, String(map.agreement));
  assert.equal(result.agreement, null, 'no top-1 agreement for a map');
  assert.equal(result.labelled, false, 'ImageNet labels do not apply to a segmentation map');
});

test('eval --json: a detection head gets SQNR and error but no agreement', { skip: missing }, () => {
  const result = quantizeAndEval(join(shared, 'models/arch-zoo/yolo_n_op12_dyn.onnx'), join(shared, 'images/imagenet-sample'),
    ['--preprocess', 'torch', '--crop', '64']);
  const [head] = result.outputs;
  assert.equal(head.kind, 'other');
  assert.equal(head.shape[1], 85);
  assert.equal(head.agreement, null);
  assert.equal(head.agreement_measure, null);
  assert.ok(Number.isFinite(head.sqnr_db));
});

test('eval --json: a classifier keeps top-1 agreement and labels', { skip: missing }, () => {
  const result = quantizeAndEval(join(shared, 'models/cifar10/resnet20_cifar10_akamaster.onnx'), join(shared, 'images/cifar10-test'),
    ['--preprocess', 'torch']);
  const [logits] = result.outputs;
  assert.equal(logits.kind, 'classification');
  assert.equal(logits.agreement_measure, 'top-1 class');
  assert.equal(result.agreement, logits.agreement);
  assert.equal(result.labelled, true);
});

test('--max-drop on a model with no output to measure agreement on is refused before calibration', { skip: missing }, () => {
  const started = Date.now();
  const r = spawnSync(process.execPath, [engine, 'quantize', join(shared, 'models/arch-zoo/yolo_n_op12_dyn.onnx'), '--calib',
    join(shared, 'images/imagenet-sample'), '--preprocess', 'torch', '--crop', '64', '--max-drop', '1', '--progress', 'json',
    '--out', join(tempDir(), 'int8.onnx')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--max-drop: needs an output Octet can measure agreement on .*output \[1,252,85\]/);
  assert.ok(!/"stage":"calibrate"/.test(r.stderr), 'no calibration started');
  assert.ok(Date.now() - started < 60_000);
});
