// QuantizeRequest → `octet quantize` arguments (the engine contract), default outputs, and input checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultOutputPaths, describeInvalidRequest, engineArguments, QuantizeRequest } from '../../src/extension/quantize/quantize-request';

function request(overrides: Partial<QuantizeRequest> = {}): QuantizeRequest {
  return {
    model: '/m/resnet.onnx', calibrationDir: '/data/calib', labelsFile: null, preprocess: 'torch', method: 'minmax',
    percentile: null, calibrationCount: 64, calibrationBatch: 8, activations: 'u8', perChannel: true, evaluationCount: 200,
    benchmark: true, maxDropPoints: null, biasCorrection: 'auto', ...defaultOutputPaths('/m/resnet.onnx'), ...overrides,
  };
}

test('default outputs sit beside the model, as the engine names them', () => {
  assert.deepEqual(defaultOutputPaths('/m/resnet.onnx'), { outputModel: '/m/resnet.int8.onnx', outputReport: '/m/resnet.int8.report.json' });
  assert.deepEqual(defaultOutputPaths('/m/Model.ONNX'), { outputModel: '/m/Model.int8.onnx', outputReport: '/m/Model.int8.report.json' });
});

test('arguments follow the engine contract and always ask for JSON progress', () => {
  assert.deepEqual(engineArguments(request()), [
    'quantize', '/m/resnet.onnx', '--calib', '/data/calib', '--calib-count', '64', '--calib-batch', '8', '--method', 'minmax',
    '--activations', 'u8', '--preprocess', 'torch', '--eval-count', '200',
    '--out', '/m/resnet.int8.onnx', '--report', '/m/resnet.int8.report.json', '--progress', 'json',
  ]);
});

test('optional flags: labels, percentile, per-tensor, no eval, no bench, max drop', () => {
  const args = engineArguments(request({
    labelsFile: '/data/labels.txt', method: 'percentile', percentile: 99.99, perChannel: false, evaluationCount: 0,
    benchmark: false, maxDropPoints: 0.5, biasCorrection: 'off',
  }));
  const has = (...seq: string[]) => args.some((_, i) => seq.every((s, j) => args[i + j] === s));
  assert.ok(has('--labels', '/data/labels.txt'));
  assert.ok(has('--method', 'percentile', '--percentile', '99.99'));
  assert.ok(args.includes('--per-tensor'));
  assert.ok(args.includes('--no-eval') && !args.includes('--eval-count'));
  assert.ok(args.includes('--no-bench'));
  assert.ok(has('--max-drop', '0.5'));
  assert.ok(!engineArguments(request()).includes('--max-drop'), '--max-drop only when set');
  assert.ok(has('--bias-correction', 'off'));
  assert.ok(!engineArguments(request()).includes('--bias-correction'), "'auto' is the engine's default and not passed");
});

test('invalid requests are explained in a sentence naming the field', () => {
  assert.equal(describeInvalidRequest(request()), null);
  assert.match(describeInvalidRequest(request({ calibrationCount: 0 })) ?? '', /calibration images/);
  assert.match(describeInvalidRequest(request({ calibrationBatch: 1.5 })) ?? '', /batch size/);
  assert.match(describeInvalidRequest(request({ evaluationCount: -1 })) ?? '', /evaluation images/);
  assert.match(describeInvalidRequest(request({ model: '/m/readme.txt' })) ?? '', /not an \.onnx file/);
  assert.match(describeInvalidRequest(request({ calibrationDir: '' })) ?? '', /calibration image folder/);
  assert.match(describeInvalidRequest(request({ percentile: 120 })) ?? '', /percentile/);
  assert.match(describeInvalidRequest(request({ maxDropPoints: -1 })) ?? '', /accuracy drop/);
});
