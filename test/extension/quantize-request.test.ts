// RunRequest → `octet quantize` arguments (the engine contract), default outputs, and input checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { parseArgsConfig, readCommandLine } from '../../src/engine/option-kinds';
import { QUANTIZE_COMMAND, readSettingValues } from '../../src/engine/options';
import { completeRequest, defaultOutputs, describeInvalidRequest, engineArguments, RunRequest } from '../../src/extension/quantize/quantize-request';

function request(overrides: Partial<RunRequest> = {}): RunRequest {
  return {
    model: '/m/resnet.onnx', calib: '/data/calib', labels: null, preprocess: 'torch', method: 'minmax',
    percentile: 99.999, calibCount: 64, calibBatch: 8, activations: 'u8', perChannel: true, evalCount: 200,
    benchmark: true, maxDrop: null, biasCorrection: 'auto', weightRounding: 'auto', floatNorms: 'auto', smoothQuant: 'auto', speedAware: 'auto', ...defaultOutputs('/m/resnet.onnx'), ...overrides,
  };
}

/** What the engine's own parser makes of the arguments (after `quantize MODEL`). */
function engineReads(args: string[]) {
  const { values, positionals } = parseArgs({ args: args.slice(1), allowPositionals: true, strict: true, options: parseArgsConfig(QUANTIZE_COMMAND) });
  return { model: positionals[0], ...readCommandLine(QUANTIZE_COMMAND, values) };
}

test('default outputs sit beside the model, as the engine names them', () => {
  assert.deepEqual(defaultOutputs('/m/resnet.onnx'), { out: '/m/resnet.int8.onnx', report: '/m/resnet.int8.report.json' });
  assert.deepEqual(defaultOutputs('/m/Model.ONNX'), { out: '/m/Model.int8.ONNX', report: '/m/Model.int8.report.json' });
});

test('arguments follow the engine contract and always ask for JSON progress', () => {
  assert.deepEqual(engineArguments(request()), [
    'quantize', '/m/resnet.onnx', '--calib', '/data/calib', '--preprocess', 'torch', '--calib-count', '64', '--method', 'minmax',
    '--out', '/m/resnet.int8.onnx', '--report', '/m/resnet.int8.report.json', '--eval-count', '200', '--progress', 'json',
  ]);
});

test('optional flags: labels, percentile, per-tensor, no eval, no bench, max drop', () => {
  const args = engineArguments(request({
    labels: '/data/labels.txt', method: 'percentile', percentile: 99.99, perChannel: false, evalCount: 0,
    benchmark: false, maxDrop: 0.5, biasCorrection: 'off', weightRounding: 'on',
  }));
  const has = (...seq: string[]) => args.some((_, i) => seq.every((s, j) => args[i + j] === s));
  assert.ok(has('--labels', '/data/labels.txt'));
  assert.ok(has('--method', 'percentile', '--percentile', '99.99'));
  assert.ok(!engineArguments(request({ percentile: 99.9 })).includes('--percentile'), 'the percentile only with the percentile method');
  assert.ok(args.includes('--per-tensor'));
  assert.ok(args.includes('--no-eval') && !args.includes('--eval-count'));
  assert.ok(args.includes('--no-bench'));
  assert.ok(has('--max-drop', '0.5'));
  assert.ok(!engineArguments(request()).includes('--max-drop'), '--max-drop only when set');
  assert.ok(has('--bias-correction', 'off'));
  assert.ok(!engineArguments(request()).includes('--bias-correction'), "'auto' is the engine's default and not passed");
  assert.ok(has('--weight-rounding', 'on'));
  assert.ok(!engineArguments(request()).includes('--weight-rounding'), "'auto' is the engine's default and not passed");
  assert.ok(engineArguments(request({ speedAware: 'off' })).join(' ').includes('--speed-aware off'));
  assert.ok(!engineArguments(request()).includes('--speed-aware'), "'auto' is the engine's default and not passed");
});

test('the engine reads back exactly what the extension asked for', () => {
  for (const asked of [request(), request({ labels: '/l.txt', method: 'percentile', percentile: 99.9, perChannel: false, activations: 's8',
    evalCount: 0, benchmark: false, maxDrop: 1.5, biasCorrection: 'on', calibBatch: 3, preprocess: 'auto' })]) {
    const read = engineReads(engineArguments(asked));
    for (const [field, value] of Object.entries(asked)) {
      if (field === 'percentile' && asked.method !== 'percentile') continue;
      if (field === 'evalCount' && asked.evalCount === 0) continue;
      assert.deepEqual(read[field as keyof typeof read], value, field);
    }
    assert.equal(read.evaluate, asked.evalCount > 0);
    assert.equal(read.progress, 'json');
  }
});

test('a run takes given answers over the settings, and writes beside the model unless told', () => {
  const defaults = readSettingValues(() => undefined);
  const run = completeRequest('/m/r.onnx', '/c', defaults, { calibCount: 7, maxDrop: null, out: '/o/x.onnx', prompt: true } as Partial<RunRequest>);
  assert.equal(run.calibCount, 7);
  assert.equal(run.method, defaults.method);
  assert.equal(run.maxDrop, null);
  assert.equal(run.out, '/o/x.onnx');
  assert.equal(run.report, '/m/r.int8.report.json');
  assert.equal('prompt' in run, false, 'command options that are not engine options stay out');
});

test('invalid requests are explained in a sentence naming the field', () => {
  assert.equal(describeInvalidRequest(request()), null);
  assert.match(describeInvalidRequest(request({ calibCount: 0 })) ?? '', /calibration images/);
  assert.match(describeInvalidRequest(request({ calibBatch: 1.5 })) ?? '', /batch size/);
  assert.match(describeInvalidRequest(request({ evalCount: -1 })) ?? '', /evaluation images/);
  assert.match(describeInvalidRequest(request({ model: '/m/readme.txt' })) ?? '', /not an \.onnx file/);
  assert.match(describeInvalidRequest(request({ calib: '' })) ?? '', /calibration image folder/);
  assert.match(describeInvalidRequest(request({ percentile: 120 })) ?? '', /percentile/);
  assert.match(describeInvalidRequest(request({ percentile: 20 })) ?? '', /percentile must be a number in \[50, 100\]/, 'the engine\'s range');
  assert.match(describeInvalidRequest(request({ maxDrop: -1 })) ?? '', /accuracy drop/);
});
