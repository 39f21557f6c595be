// Modern blocks in int8: hard-swish (x·HardSigmoid(x) and x·Clip(x+3,0,6)/6), squeeze-excitation (Mul of two
// activations), SiLU (x·Sigmoid(x)), LeakyRelu, nearest Resize, and attention (MatMul of two activations, a scale by a
// constant). Each must become the ONNX Runtime int8 kernels the op rules name — no float island left between the
// model's input QuantizeLinear and output DequantizeLinear — and keep the output as close to FP32 as the same model
// with those ops left in float (within 3 dB: int8 adds some noise by nature). Softmax, slower in int8, stays float without a Q/DQ round trip of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, floatAttribute, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { encodeModel, ModelProto, NodeProto } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { Report } from '../../src/common/report';
import { tempDir, writeImageNpy } from '../fixtures/models';

const conv = (name: string, input: string, output: string, weight: string, kernel: number, group = 1): NodeProto =>
  makeNode('Conv', [input, weight], [output], name, [intsAttribute('kernel_shape', [kernel, kernel]),
    intsAttribute('pads', Array(4).fill(Math.floor(kernel / 2))), intAttribute('group', group)]);

/** The pattern nodes of mobileBlocks(): what a float-island baseline keeps in FP32. */
const MOBILE_PATTERNS = ['hsig0', 'hswish0', 'se_hsig', 'se_mul', 'add3', 'clip6', 'div6', 'hswish2', 'sigmoid', 'silu', 'up', 'leaky'];

function mobileBlocks(): ModelProto {
  const r = rng(21);
  const nodes = [
    conv('conv0', 'x', 'c0', 'w0', 3),
    makeNode('HardSigmoid', ['c0'], ['h0'], 'hsig0', [floatAttribute('alpha', 1 / 6), floatAttribute('beta', 0.5)]),
    makeNode('Mul', ['c0', 'h0'], ['m0'], 'hswish0'),
    conv('dw', 'm0', 'd1', 'wdw', 3, 16),
    makeNode('GlobalAveragePool', ['d1'], ['g'], 'se_pool'),
    conv('se_fc1', 'g', 's1', 'wse1', 1),
    makeNode('Relu', ['s1'], ['s1r'], 'se_relu'),
    conv('se_fc2', 's1r', 's2', 'wse2', 1),
    makeNode('HardSigmoid', ['s2'], ['s3'], 'se_hsig'),
    makeNode('Mul', ['d1', 's3'], ['se'], 'se_mul'),
    conv('conv2', 'se', 'c2', 'w2', 1),
    makeNode('Add', ['c2', 'three'], ['a'], 'add3'),
    makeNode('Clip', ['a', 'zero', 'six'], ['cl'], 'clip6'),
    makeNode('Div', ['cl', 'six'], ['dv'], 'div6'),
    makeNode('Mul', ['c2', 'dv'], ['m2'], 'hswish2'),
    conv('conv3', 'm2', 'c3', 'w3', 3),
    makeNode('Sigmoid', ['c3'], ['sg'], 'sigmoid'),
    makeNode('Mul', ['c3', 'sg'], ['m3'], 'silu'),
    makeNode('Resize', ['m3', '', 'scales'], ['u'], 'up', [{ name: 'mode', type: 3, s: Buffer.from('nearest'), floats: [], ints: [], strings: [], tensors: [], graphs: [] }]),
    conv('conv4', 'u', 'c4', 'w4', 3),
    makeNode('LeakyRelu', ['c4'], ['lr'], 'leaky', [floatAttribute('alpha', 0.1)]),
    conv('head', 'lr', 'y', 'wh', 1),
  ];
  const inits = [
    randomTensor('w0', [16, 3, 3, 3], r, 0.4), randomTensor('wdw', [16, 1, 3, 3], r, 0.4), randomTensor('wse1', [4, 16, 1, 1], r, 0.4),
    randomTensor('wse2', [16, 4, 1, 1], r, 0.4), randomTensor('w2', [16, 16, 1, 1], r, 0.3), randomTensor('w3', [16, 16, 3, 3], r, 0.12),
    randomTensor('w4', [16, 16, 3, 3], r, 0.12), randomTensor('wh', [8, 16, 1, 1], r, 0.3),
    makeTensor('three', [], Float32Array.of(3)), makeTensor('zero', [], Float32Array.of(0)), makeTensor('six', [], Float32Array.of(6)),
    makeTensor('scales', [4], Float32Array.of(1, 1, 2, 2)),
  ];
  return buildModel(nodes, inits, [valueInfo('x', ['N', 3, 16, 16])], [valueInfo('y', ['N', 8, 32, 32])], 13, 'octet-test-fixture');
}

const ATTENTION_PATTERNS = ['scale_q', 'scores', 'softmax', 'context'];

function attention(): ModelProto {
  const r = rng(22);
  const nodes = [
    makeNode('MatMul', ['x', 'wq'], ['q'], 'proj_q'),
    makeNode('MatMul', ['x', 'wk'], ['k'], 'proj_k'),
    makeNode('MatMul', ['x', 'wv'], ['v'], 'proj_v'),
    makeNode('Mul', ['q', 'scale'], ['qs'], 'scale_q'),
    makeNode('Transpose', ['k'], ['kt'], 'k_t', [intsAttribute('perm', [0, 2, 1])]),
    makeNode('MatMul', ['qs', 'kt'], ['s'], 'scores'),
    makeNode('Softmax', ['s'], ['p'], 'softmax', [intAttribute('axis', -1)]),
    makeNode('MatMul', ['p', 'v'], ['o'], 'context'),
    makeNode('MatMul', ['o', 'wo'], ['y'], 'proj_o'),
  ];
  const inits = [randomTensor('wq', [32, 32], r, 0.2), randomTensor('wk', [32, 32], r, 0.2), randomTensor('wv', [32, 32], r, 0.2),
    randomTensor('wo', [32, 32], r, 0.2), makeTensor('scale', [], Float32Array.of(1 / Math.sqrt(32)))];
  return buildModel(nodes, inits, [valueInfo('x', ['N', 16, 32])], [valueInfo('y', ['N', 16, 32])], 13, 'octet-test-fixture');
}

async function quantize(model: ModelProto, sample: number[], exclude: string[]): Promise<Report> {
  const dir = tempDir();
  const modelPath = join(dir, 'model.onnx');
  writeFileSync(modelPath, encodeModel(model));
  const calib = writeImageNpy(dir, 48, sample);
  const { report } = await quantizeModel({ model: modelPath, calib, calibCount: 32, evalCount: 16, preprocess: 'raw', method: 'minmax',
    biasCorrection: 'off', benchmark: false, speedAware: 'off', exclude });
  return report;
}

function assertNoFloatIsland(ops: Record<string, number>, floatOps: string[]): void {
  for (const op of floatOps) assert.ok(!ops[op], `float ${op} left: ${JSON.stringify(ops)}`);
  assert.equal(ops.QuantizeLinear ?? 0, 1, `only the input is quantized by a QuantizeLinear: ${JSON.stringify(ops)}`);
  assert.ok((ops.DequantizeLinear ?? 0) <= 1, `at most the output is dequantized: ${JSON.stringify(ops)}`);
}

test('hard-swish, squeeze-excitation, SiLU, LeakyRelu and nearest Resize run as int8 kernels and keep the output SQNR', async () => {
  const int8 = await quantize(mobileBlocks(), [3, 16, 16], []);
  const ops = int8.int8RuntimeOps;
  assertNoFloatIsland(ops, ['HardSigmoid', 'HardSwish', 'Mul', 'Div', 'Clip', 'Sigmoid', 'LeakyRelu', 'Conv', 'FusedConv']);
  // hsig0, se_hsig (HardSigmoid as QLinearAdd) and add3; hswish0, se_mul, hswish2, silu.
  assert.equal(ops.QLinearAdd, 3, JSON.stringify(ops));
  assert.equal(ops.QLinearMul, 4, JSON.stringify(ops));
  assert.equal(ops.QLinearSigmoid, 1);
  assert.equal(ops.QLinearLeakyRelu, 1);
  assert.equal(ops.Resize, 1, 'Resize runs on uint8 between int8 kernels');
  const div = int8.keptFloat.find((k) => k.node === 'div6');
  assert.equal(div, undefined, 'the division by 6 is folded into the scale, not kept float');
  const islands = await quantize(mobileBlocks(), [3, 16, 16], MOBILE_PATTERNS);
  assert.ok(islands.int8RuntimeOps.HardSigmoid || islands.int8RuntimeOps.HardSwish, 'the baseline keeps them float');
  const [a, b] = [int8.accuracy!.outputSqnrDb, islands.accuracy!.outputSqnrDb];
  assert.ok(a > 22 && a > b - 3, `output SQNR ${a.toFixed(2)} dB in int8, ${b.toFixed(2)} dB with the blocks in float`);
});

test('attention: MatMul of two activations and the constant scale run in int8, Softmax in float between them; output SQNR kept', async () => {
  const int8 = await quantize(attention(), [16, 32], []);
  const ops = int8.int8RuntimeOps;
  for (const op of ['MatMul', 'FusedMatMul', 'Mul', 'QLinearSoftmax', 'DequantizeLinear']) assert.ok(!ops[op], `${op} in ${JSON.stringify(ops)}`);
  assert.equal(ops.QLinearMatMul, 4, `projections q, k, v and scores·V: ${JSON.stringify(ops)}`);
  assert.equal(ops.MatMulIntegerToFloat, 2, 'Q·Kᵀ feeds the float Softmax, the last projection the model output: both write float');
  assert.equal(ops.Softmax, 1);
  assert.equal(ops.QuantizeLinear, 2, 'the input, and the probabilities for scores·V');
  assert.match(int8.keptFloat.find((k) => k.node === 'softmax')?.reason ?? '', /QLinearSoftmax is slower/);
  const islands = await quantize(attention(), [16, 32], ATTENTION_PATTERNS);
  const [a, b] = [int8.accuracy!.outputSqnrDb, islands.accuracy!.outputSqnrDb];
  assert.ok(a > 22 && a > b - 3, `output SQNR ${a.toFixed(2)} dB in int8, ${b.toFixed(2)} dB with attention in float`);
});
