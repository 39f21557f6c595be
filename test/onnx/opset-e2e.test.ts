// End to end through `quantizeModel`: a paddle2onnx-style opset-9 model (Constant-node weights, Clip relu6, hard-swish,
// SE, Upsample, ReduceMean, Squeeze, Softmax) is moved to opset 13, every Conv and the MatMul get per-channel int8
// weights, and the INT8 model loads and runs in ONNX Runtime close to FP32. Also the opset-9 SqueezeNet of the
// architecture zoo when ../shared is present.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../src/onnx/proto';
import { readModel } from '../../src/onnx/model-io';
import { opsetVersion } from '../../src/onnx/graph';
import { quantizeModel } from '../../src/engine/commands/quantize';
import { tempDir, writeImageNpy } from '../fixtures/models';
import { paddleStyleClassifier } from '../fixtures/paddle-style';

type QuantizeRequest = Parameters<typeof quantizeModel>[0];

function request(model: string, calib: string, overrides: Partial<QuantizeRequest> = {}): QuantizeRequest {
  return {
    model, calib, calibCount: 24, calibBatch: 8, method: 'minmax', percentile: 99.999, perChannel: true, activations: 'u8',
    weightRange: 'pair-safe', equalize: true, equalizeStrength: 0.5, biasCorrection: 'auto', preprocess: 'raw', evalCount: 16,
    evaluate: true, benchmark: false, benchRuns: 5, threads: 1, maxDrop: null, tuneTimeout: 60, speedAware: 'off', ...overrides,
  };
}

test('paddle2onnx-style opset-9 model with Constant weights: moved to 13, per-channel int8 weights, INT8 runs in ORT', async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'paddle.onnx');
  writeFileSync(modelPath, encodeModel(paddleStyleClassifier()));
  const data = writeImageNpy(dir, 40, [3, 32, 32]);
  const logs: string[] = [];
  const { modelPath: int8Path, report } = await quantizeModel(request(modelPath, data, {
    onEvent: (e) => { if (e.type === 'log') logs.push(e.message); },
  }));
  assert.ok(logs.some((l) => /^opset 9 moved to 13: .*Clip attributes → inputs ×2.*Upsample \(nearest\) → Resize/.test(l)), logs.join('\n'));
  assert.equal(report.fp32Model.opset, 9);
  assert.equal(report.int8Model.opset, 13);
  const quantized = report.quantizedNodes.map((n) => n.node);
  // ORT's optimizer fuses MatMul + Add into a Gemm named after the MatMul.
  for (const layer of ['conv_stem', 'conv_dw', 'conv_se1', 'conv_se2', 'conv_pw', 'fc_matmul']) {
    assert.ok(quantized.some((q) => q === layer || q.startsWith(`${layer}/`)), `${layer} (weight from a Constant node) is quantized: ${quantized.join(', ')}`);
  }
  const int8 = readModel(int8Path).model;
  assert.equal(opsetVersion(int8, ''), 13);
  const graph = int8.graph!;
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const producer = new Map(graph.node.flatMap((n) => n.output.map((o) => [o, n] as const)));
  for (const conv of graph.node.filter((n) => n.op_type === 'Conv')) {
    const dq = producer.get(conv.input[1]);
    assert.equal(dq?.op_type, 'DequantizeLinear', `${conv.name} reads a dequantized weight`);
    const scale = initializers.get(dq!.input[1]);
    assert.equal(scale?.dims.length, 1, `${conv.name}: per-channel weight scale`);
    assert.ok(scale!.dims[0] > 1);
  }
  const session = await ort.InferenceSession.create(int8Path);
  const out = await session.run({ x: new ort.Tensor('float32', new Float32Array(2 * 3 * 32 * 32).fill(0.5), [2, 3, 32, 32]) });
  assert.deepEqual(out.probs.dims, [2, 10]);
  const sums = [0, 1].map((i) => Array.from(out.probs.data as Float32Array).slice(i * 10, i * 10 + 10).reduce((a, b) => a + b, 0));
  for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-3, `softmax rows sum to 1: ${sums}`);
  await session.release();
  assert.ok(report.accuracy && report.accuracy.outputSqnrDb > 15, `INT8 close to FP32: ${report.accuracy?.outputSqnrDb} dB`);
  assert.ok((report.int8RuntimeOps.QLinearConv ?? 0) >= 4, JSON.stringify(report.int8RuntimeOps));
});

const squeezenet = resolve(process.cwd(), '../shared/assets/models/arch-zoo/squeezenet_op9.onnx');
test('SqueezeNet at opset 9 (arch zoo) quantizes end to end with per-channel weights', {
  skip: existsSync(squeezenet) ? false : `${squeezenet} not found; this test needs ../shared`,
}, async () => {
  const dir = tempDir();
  const data = writeImageNpy(dir, 20, [3, 224, 224]);
  const { report } = await quantizeModel(request(squeezenet, data, { calibCount: 12, evalCount: 8, equalize: false, biasCorrection: 'off',
    out: join(dir, 'squeezenet.int8.onnx') }));
  assert.equal(report.int8Model.opset, 13);
  assert.equal(report.settings.perChannel, true);
  assert.equal(report.int8RuntimeOps.QLinearConv, 26, JSON.stringify(report.int8RuntimeOps));
  assert.ok(report.accuracy!.outputSqnrDb > 10, `output SQNR ${report.accuracy!.outputSqnrDb} dB`);
});
