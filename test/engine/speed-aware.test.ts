// The speed-aware choice end to end, on a model made so that part of it is far slower in int8: per-channel scalings
// (depthwise 1x1 convs) between float Tanhs on a large 3-channel tensor each need a Q, two NHWC transposes and a DQ
// around a QLinearConv that does almost nothing, while the dense 3x3 convs after a stride-4 conv gain from int8.
// Octet must keep the slow region in float, keep the dense convs in int8, and write a model not slower than FP32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { encodeModel, NodeProto, TensorProto } from '../../src/onnx/proto';
import { rng } from '../../src/common/random';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { QuantizeRequest } from '../../src/engine/request';
import { fasterEnough, profiledTiming, SPEED_REASON } from '../../src/engine/pipeline/speed';
import { formatQuantizeSummary } from '../../src/report/terminal-summary';
import { tempDir, writeImageNpy } from '../fixtures/models';

const SIZE = 256;
const SLOW = ['slow0', 'slow1', 'slow2', 'slow3'];
const DENSE = ['dense0', 'dense1', 'dense2'];

/**
 * With `dense` false, the model is only the slow region and a stride-4 conv: nothing in it pays in int8. With `biased`,
 * every conv has a bias (bias correction then changes values only, not the graph).
 */
function islandsModel(dense = true, biased = false) {
  const r = rng(5);
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let t = 'image';
  SLOW.forEach((name, i) => {
    nodes.push(makeNode('Tanh', [t], [`t${i}`], `tanh${i}`));
    inits.push(randomTensor(`ws${i}`, [3, 1, 1, 1], r, 0.2, 1), ...(biased ? [randomTensor(`bs${i}`, [3], r, 0.1)] : []));
    nodes.push(makeNode('Conv', [`t${i}`, `ws${i}`, ...(biased ? [`bs${i}`] : [])], [`s${i}`], name,
      [intsAttribute('kernel_shape', [1, 1]), intAttribute('group', 3)]));
    t = `s${i}`;
  });
  inits.push(randomTensor('wd', [32, 3, 4, 4], r, 0.3), ...(biased ? [randomTensor('bd', [32], r, 0.1)] : []));
  nodes.push(makeNode('Conv', [t, 'wd', ...(biased ? ['bd'] : [])], ['d'], 'down', [intsAttribute('kernel_shape', [4, 4]), intsAttribute('strides', [4, 4])]));
  t = 'd';
  (dense ? DENSE : []).forEach((name, i) => {
    inits.push(randomTensor(`wc${i}`, [32, 32, 3, 3], r, 0.1), ...(biased ? [randomTensor(`bc${i}`, [32], r, 0.1)] : []));
    nodes.push(makeNode('Conv', [t, `wc${i}`, ...(biased ? [`bc${i}`] : [])], [`c${i}`], name,
      [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]));
    nodes.push(makeNode('Relu', [`c${i}`], [`r${i}`], `relu${i}`));
    t = `r${i}`;
  });
  nodes.push(makeNode('GlobalAveragePool', [t], ['y'], 'gap'));
  return buildModel(nodes, inits, [valueInfo('image', ['N', 3, SIZE, SIZE])], [valueInfo('y', ['N', 32, 1, 1])], 13, 'octet-test-fixture');
}

function setup(dense = true, biased = false, images = 8): { modelPath: string; calib: string; dir: string } {
  const dir = tempDir();
  const modelPath = join(dir, 'islands.onnx');
  writeFileSync(modelPath, encodeModel(islandsModel(dense, biased)));
  return { dir, modelPath, calib: writeImageNpy(dir, images, [3, SIZE, SIZE]) };
}

function request(modelPath: string, calib: string, overrides: Partial<QuantizeRequest>): QuantizeRequest {
  return { model: modelPath, calib, calibCount: 8, preprocess: 'raw', method: 'minmax', biasCorrection: 'off', evaluate: false, benchmark: false, ...overrides };
}

test('speed-aware: the region slower in int8 stays float, the dense convs stay int8, the model is faster than FP32', async () => {
  const { dir, modelPath, calib } = setup();
  const { report } = await quantizeModel(request(modelPath, calib, { out: join(dir, 'auto.onnx') }));
  const speed = report.speed;
  assert.ok(speed && speed.mode === 'auto', 'the speed-aware choice ran');
  const quantized = new Set(report.quantizedNodes.map((q) => q.node));
  for (const name of DENSE) assert.ok(quantized.has(name), `${name} stays int8: ${[...quantized]}`);
  for (const name of SLOW) {
    const kept = report.keptFloat.find((k) => k.node === name);
    assert.equal(kept?.reason, SPEED_REASON, `${name}: ${JSON.stringify(kept)}`);
  }
  const decision = speed.decisions.find((d) => d.kept);
  assert.ok(decision && SLOW.every((n) => decision.nodes.includes(n)), JSON.stringify(speed.decisions));
  assert.equal(decision.action, 'keep-float');
  assert.ok(decision.afterMs < decision.beforeMs, `${decision.beforeMs} -> ${decision.afterMs} ms`);
  assert.match(decision.reason, /int8 \+ Q\/DQ .* ms vs float .* ms in the profile; measured time ratio .* \(95% .*rounds\)/);
  assert.ok(speed.fasterThanFp32 && speed.int8Ms < speed.fp32Ms, `INT8 ${speed.int8Ms} ms vs FP32 ${speed.fp32Ms} ms`);
  assert.ok(report.int8RuntimeOps.QLinearConv >= DENSE.length, JSON.stringify(report.int8RuntimeOps));
  // The profile describes the written model: the slow convs run float there, the dense ones as QLinearConv.
  const profile = report.profile!;
  for (const name of SLOW) assert.ok(!profile.nodes.find((n) => n.node === name)?.int8Kernels.includes('QLinearConv'), name);
  for (const name of DENSE) assert.deepEqual(profile.nodes.find((n) => n.node === name)?.int8Kernels, ['QLinearConv'], name);
  assert.ok(!report.warnings.some((w) => /still runs float Conv/.test(w)), `convs kept float on purpose are no warning: ${report.warnings}`);
  assert.ok(!/not faster than FP32/.test(formatQuantizeSummary(report, 'm', 'r')));
});

for (const biased of [true, false]) {
  test(`with bias correction, the INT8 profile is ${biased ? 'taken while the shifts are computed (they change values only)' : 'taken again when the shifts add bias nodes'}, and describes the written model`, async () => {
    const { dir, modelPath, calib } = setup(true, biased, 24);
    const logs: string[] = [];
    const { report } = await quantizeModel(request(modelPath, calib, { out: join(dir, 'bias.onnx'), calibCount: 24, biasCorrection: 'on',
      weightRounding: 'auto', onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } }));
    assert.ok(report.calibration.biasCorrection && report.calibration.biasCorrection.layers > 0, 'biases were corrected');
    assert.ok(report.calibration.techniques, 'techniques were compared (the uncorrected conversion was built first)');
    assert.equal(logs.some((m) => /profiled while its bias shifts were computed/.test(m)), biased, logs.join('\n'));
    const quantized = new Set(report.quantizedNodes.map((q) => q.node));
    for (const name of DENSE) assert.ok(quantized.has(name), name);
    for (const name of DENSE) assert.deepEqual(report.profile?.nodes.find((n) => n.node === name)?.int8Kernels, ['QLinearConv'], name);
    assert.ok(report.speed?.fasterThanFp32, JSON.stringify(report.speed));
  });
}

test('--speed-aware off quantizes every conv, whatever it costs; without a benchmark nothing is timed', async () => {
  const { dir, modelPath, calib } = setup();
  const { report } = await quantizeModel(request(modelPath, calib, { out: join(dir, 'off.onnx'), speedAware: 'off' }));
  const quantized = new Set(report.quantizedNodes.map((q) => q.node));
  for (const name of [...SLOW, ...DENSE]) assert.ok(quantized.has(name), name);
  assert.equal(report.speed, null);
  assert.equal(report.profile, null);
});

test('when no INT8 layout beats FP32, every layer stays float and Octet says so; the profile shows the int8 that lost', async () => {
  const { dir, modelPath, calib } = setup(false);
  const { report } = await quantizeModel(request(modelPath, calib, { out: join(dir, 'slow.onnx') }));
  assert.deepEqual(report.quantizedNodes, [], 'nothing runs in int8');
  assert.ok(!report.int8RuntimeOps.QLinearConv, JSON.stringify(report.int8RuntimeOps));
  assert.equal(report.speed?.fasterThanFp32, false);
  assert.ok(report.warnings.some((w) => /No INT8 layout was faster than FP32/.test(w)), report.warnings.join('; '));
  assert.match(formatQuantizeSummary(report, 'm', 'r'), /not faster than FP32: .*the written model keeps every layer in FP32/);
  for (const name of SLOW) {
    assert.match(report.keptFloat.find((k) => k.node === name)?.reason ?? '', /slower in int8|no INT8 layout beat FP32/, name);
    assert.deepEqual(report.profile?.nodes.find((n) => n.node === name)?.int8Kernels, ['QLinearConv'], `${name}: the profile shows the int8 layout`);
  }
});

test('speed-aware: a float layout is kept only when it is at least 1 % faster with 95 % confidence', () => {
  assert.equal(fasterEnough({ high: 0.983 }), true, 'MobileNet-V1\'s first layers: 0.932 (95% 0.887–0.983)');
  assert.equal(fasterEnough({ high: 0.998 }), false, 'significant but under 1 % (ResNet-20\'s Add: 0.995, 95% 0.986–0.998)');
  assert.equal(fasterEnough({ high: 1.002 }), false, 'within the noise');
});

test('speed-aware: the profiles stand for the final check against FP32 only when INT8 takes 0.8 of its time or less', () => {
  // ResNet-50 on 2 cores: FP32 ~71 ms, INT8 ~21 ms per run (medians of ORT's run durations, not means).
  const decisive = profiledTiming([70.1, 71.3, 90, 70.8, 71.0], [21.4, 21.0, 35, 21.2]);
  assert.deepEqual(decisive, { aMs: 71, bMs: 21.3, ratio: 0.3, low: 0.3, high: 0.3, rounds: 0 });
  assert.equal(profiledTiming([10, 10, 10], [8.1, 8.1]), null, 'a 19 % gain is timed interleaved');
  assert.equal(profiledTiming([10, 10, 10], [8, 8])?.ratio, 0.8, 'the line itself is decisive');
  assert.equal(profiledTiming([10], [12]), null, 'slower: timed interleaved (and then kept float)');
  assert.equal(profiledTiming([], [5]), null, 'no FP32 runs');
  assert.equal(profiledTiming([10], []), null, 'no INT8 runs');
});
