// Kernel alignment: a convolution reading the model input with 3 channels gets that input padded to 4 (uint8, with
// the zero point) and zero weights for the new channel, so ONNX Runtime can use its fast int8 kernel — and the model
// computes exactly what it computed before (run here with onnxruntime-node). Layers the kernel could not take anyway
// (fewer than 16 or unaligned output channels, grouped, asymmetric weights) and old opsets are left alone; the quantize
// pipeline pads the written model, lists the layer in the Report, charges the Pad to the layer in the time profile, and
// the graph viewer folds it with the input's Q/DQ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { encodeModel, ModelProto, NodeProto, TensorProto } from '../../src/onnx/proto';
import { makeTensor, tensorToArray } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { alignForKernels, alignmentPays } from '../../src/quant/kernel-alignment';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { QuantizeRequest } from '../../src/engine/request';
import { readModel } from '../../src/onnx/model-io';
import { reportToMarkdown } from '../../src/report/markdown';
import { ModelView } from '../../src/graphmodel/model-view';
import { tempDir, writeImageNpy } from '../fixtures/models';
import { conversionHarness } from '../fixtures/conversion-harness';
import { measureLayerErrors } from '../../src/engine/runtime/layer-error';

/** An int8 QDQ convolution of the input: `outputs` channels, symmetric per-channel weights (or `weightZeroPoint`). */
function qdqConv(name: string, outputs: number, r: () => number, inits: TensorProto[], options: { group?: number; weightZeroPoint?: number } = {}): NodeProto[] {
  const group = options.group ?? 1;
  const perGroup = 3 / group;
  const codes = Int8Array.from({ length: outputs * perGroup * 9 }, () => Math.round((r() * 2 - 1) * 127));
  inits.push(makeTensor(`${name}_w`, [outputs, perGroup, 3, 3], codes),
    makeTensor(`${name}_ws`, [outputs], Float32Array.from({ length: outputs }, (_, c) => 0.002 + c * 1e-4)),
    makeTensor(`${name}_wz`, [outputs], new Int8Array(outputs).fill(options.weightZeroPoint ?? 0)),
    makeTensor(`${name}_b`, [outputs], Int32Array.from({ length: outputs }, (_, c) => c * 37 - 200)),
    makeTensor(`${name}_bs`, [outputs], Float32Array.from({ length: outputs }, (_, c) => 0.02 * (0.002 + c * 1e-4))),
    makeTensor(`${name}_bz`, [outputs], new Int32Array(outputs)),
    makeTensor(`${name}_ys`, [], Float32Array.of(0.05)), makeTensor(`${name}_yz`, [], Uint8Array.of(0)));
  return [
    makeNode('DequantizeLinear', ['image_q', 'x_scale', 'x_zero'], [`${name}_x`], `${name}_input_DQ`),
    makeNode('DequantizeLinear', [`${name}_w`, `${name}_ws`, `${name}_wz`], [`${name}_wd`], `${name}_w_DQ`, [intAttribute('axis', 0)]),
    makeNode('DequantizeLinear', [`${name}_b`, `${name}_bs`, `${name}_bz`], [`${name}_bd`], `${name}_b_DQ`, [intAttribute('axis', 0)]),
    makeNode('Conv', [`${name}_x`, `${name}_wd`, `${name}_bd`], [`${name}_c`], name,
      [intsAttribute('kernel_shape', [3, 3]), intsAttribute('strides', [2, 2]), intsAttribute('pads', [1, 1, 1, 1]), intAttribute('group', group)]),
    makeNode('Relu', [`${name}_c`], [`${name}_r`], `${name}_relu`),
    makeNode('QuantizeLinear', [`${name}_r`, `${name}_ys`, `${name}_yz`], [`${name}_q`], `${name}_Q`),
    makeNode('DequantizeLinear', [`${name}_q`, `${name}_ys`, `${name}_yz`], [name], `${name}_DQ`),
  ];
}

/** The model input quantized once (zero point 128) and read by four convolutions; only `wide` can be padded. */
function qdqModel(opset = 13): ModelProto {
  const r = rng(5);
  const inits: TensorProto[] = [makeTensor('x_scale', [], Float32Array.of(0.02)), makeTensor('x_zero', [], Uint8Array.of(128))];
  const nodes = [
    makeNode('QuantizeLinear', ['image', 'x_scale', 'x_zero'], ['image_q'], 'image_Q'),
    ...qdqConv('wide', 32, r, inits),
    ...qdqConv('narrow', 12, r, inits),
    ...qdqConv('grouped', 24, r, inits, { group: 3 }),
    ...qdqConv('asymmetric', 16, r, inits, { weightZeroPoint: 3 }),
  ];
  const outputs = ['wide', 'narrow', 'grouped', 'asymmetric'];
  return buildModel(nodes, inits, [valueInfo('image', ['N', 3, 20, 20])], outputs.map((o) => valueInfo(o, ['N', `C_${o}`, 10, 10])), opset);
}

async function outputs(model: ModelProto, x: Float32Array): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  try {
    const out = await session.run({ image: new ort.Tensor('float32', x, [2, 3, 20, 20]) });
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

test('a 3-channel input is padded to 4 on the uint8 codes, and the outputs stay bit for bit the same', async () => {
  const model = qdqModel();
  const { model: aligned, padded } = alignForKernels(model, 13);
  assert.deepEqual(padded, [{ node: 'wide', channels: 3, paddedTo: 4 }], 'only the dense, symmetric, 32-output layer qualifies');
  const graph = new Graph(aligned.graph!);
  const pad = graph.nodes.find((n) => n.op_type === 'Pad')!;
  assert.equal(pad.input[0], 'image_q', 'pads the quantized codes');
  assert.equal(pad.input[2], 'x_zero', 'with the zero point');
  assert.deepEqual(tensorToArray(graph.initializers.get(pad.input[1])!), BigInt64Array.of(0n, 0n, 0n, 0n, 0n, 1n, 0n, 0n));
  assert.equal(graph.producers.get('wide_x')!.input[0], pad.output[0], "the layer's own DQ reads the padded codes");
  assert.equal(graph.producers.get('narrow_x')!.input[0], 'image_q', 'the other layers still read the unpadded codes');
  const weight = graph.initializers.get(graph.producers.get('wide_wd')!.input[0])!;
  assert.deepEqual(weight.dims.map(Number), [32, 4, 3, 3]);
  const codes = tensorToArray(weight) as Int8Array;
  const before = tensorToArray(new Graph(model.graph!).initializers.get('wide_w')!) as Int8Array;
  for (let o = 0; o < 32; o++) {
    assert.deepEqual([...codes.subarray(o * 36, o * 36 + 27)], [...before.subarray(o * 27, o * 27 + 27)], `channel ${o} keeps its weights`);
    assert.ok(codes.subarray(o * 36 + 27, o * 36 + 36).every((v) => v === 0), `channel ${o} reads the new input channel with zeros`);
  }
  assert.deepEqual(new Graph(model.graph!).initializers.get('wide_w')!.dims.map(Number), [32, 3, 3, 3], 'the source model is not changed');

  const r = rng(9);
  const x = Float32Array.from({ length: 2 * 3 * 20 * 20 }, () => (r() * 2 - 1) * 2.5);
  const [want, got] = [await outputs(model, x), await outputs(aligned, x)];
  for (const name of Object.keys(want)) assert.deepEqual([...got[name]], [...want[name]], `output ${name}`);
});

test('no padding before opset 11 (Pad takes no uint8), nor where no layer qualifies; only x64 with AVX2 has the kernel', () => {
  const old = qdqModel(10);
  assert.equal(alignForKernels(old, 10).model, old);
  assert.deepEqual(alignForKernels(old, 10).padded, []);
  assert.equal(alignmentPays({ avx2: true }, 'x64'), true);
  assert.equal(alignmentPays({ avx2: false }, 'x64'), false);
  assert.equal(alignmentPays({ avx2: true }, 'arm64'), false);
});

test('quantize pads the written model, reports the layer and charges the Pad to it in the time profile', { skip: !alignmentPays({ avx2: true }) && 'x64 only' }, async () => {
  const r = rng(3);
  const model = buildModel([
    makeNode('Conv', ['image', 'w1', 'b1'], ['c1'], 'stem', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('strides', [2, 2]), intsAttribute('pads', [1, 1, 1, 1])]),
    makeNode('Relu', ['c1'], ['r1'], 'stem_relu'),
    makeNode('Conv', ['r1', 'w2', 'b2'], ['c2'], 'pw', [intsAttribute('kernel_shape', [1, 1])]),
    makeNode('Relu', ['c2'], ['r2'], 'pw_relu'),
    makeNode('GlobalAveragePool', ['r2'], ['gap'], 'gap'),
    makeNode('Flatten', ['gap'], ['flat'], 'flatten'),
    makeNode('Gemm', ['flat', 'wfc', 'bfc'], ['logits'], 'fc', [intAttribute('transB', 1)]),
  ], [randomTensor('w1', [32, 3, 3, 3], r, 0.3), randomTensor('b1', [32], r, 0.1), randomTensor('w2', [32, 32, 1, 1], r, 0.2),
    randomTensor('b2', [32], r, 0.1), randomTensor('wfc', [10, 32], r, 0.3), randomTensor('bfc', [10], r, 0.1)],
  [valueInfo('image', ['N', 3, 32, 32])], [valueInfo('logits', ['N', 10])], 13);
  const dir = tempDir();
  const modelPath = join(dir, 'stem.onnx');
  writeFileSync(modelPath, encodeModel(model));
  const request: QuantizeRequest = {
    model: modelPath, calib: writeImageNpy(dir, 16, [3, 32, 32]), calibCount: 16, calibBatch: 8, method: 'minmax', percentile: 99.999,
    perChannel: true, activations: 'u8', weightRange: 'full', equalize: false, equalizeStrength: 0.5, biasCorrection: 'off', preprocess: 'raw',
    evalCount: 8, evaluate: false, benchmark: true, benchRuns: 4, threads: 1, maxDrop: null, tuneTimeout: 60, speedAware: 'off',
    out: join(dir, 'stem.int8.onnx'),
  };
  const { report } = await quantizeModel(request);
  assert.deepEqual(report.paddedInputs, [{ node: 'stem', channels: 3, paddedTo: 4 }]);
  const written = new Graph(readModel(join(dir, 'stem.int8.onnx')).model.graph!);
  const pad = written.nodes.find((n) => n.op_type === 'Pad');
  assert.ok(pad, 'the written model holds the Pad');
  const stemConv = written.nodes.find((n) => n.op_type === 'Conv' && n.name === 'stem')!;
  const stemWeight = written.initializers.get(written.producers.get(stemConv.input[1])!.input[0])!;
  assert.deepEqual(stemWeight.dims.map(Number), [32, 4, 3, 3]);
  assert.equal(written.producers.get(stemConv.input[0])!.input[0], pad.output[0], 'the layer reads the padded codes');
  const stem = report.profile!.nodes.find((n) => n.node === 'stem')!;
  assert.ok(stem.int8Kernels.includes('QLinearConv'), `stem runs in int8 (${stem.int8Kernels})`);
  assert.ok(stem.overheadMs > 0, 'the Pad (and the input Q) are charged to the layer they feed');
  assert.equal(report.profile!.unattributedInt8Ms, 0, 'no kernel is left unattributed');
  // The graph viewer folds the Pad with the input's Q/DQ: the stem reads the model input, its panel lists the Pad.
  const view = new ModelView(readModel(join(dir, 'stem.int8.onnx')).model, { fileName: 'stem.int8.onnx', fileBytes: 0, hadExternalData: false });
  const folded = view.graphs({ fold: true })[0];
  assert.ok(!folded.nodes.some((n) => n.opType === 'Pad'), 'no Pad node in the folded view');
  const stemView = folded.nodes.find((n) => n.name === 'stem')!;
  const feeding = folded.edges.filter((e) => e.to === stemView.id).map((e) => folded.nodes[e.from]);
  assert.deepEqual(feeding.map((n) => [n.kind, n.name]), [['input', 'image']], 'the stem reads the model input');
  assert.ok(stemView.inputs[0].quant?.via.some((v) => v.endsWith('_Pad')), `the Pad is listed with the folded Q/DQ (${stemView.inputs[0].quant?.via})`);
  assert.ok(stemView.folded.some((v) => v.endsWith('_Pad')), 'and among the nodes folded into the stem');
  assert.match(reportToMarkdown(report), /Input channels padded with zeros for ONNX Runtime's fast int8 convolution .*: stem 3 → 4\./);
});

/**
 * 8 channels in -> 1x1 conv to 24 -> Clip (or hard-swish: x · HardSigmoid(x)) -> 3x3 depthwise (24) -> Relu (or SiLU:
 * x · Sigmoid(x)) -> 1x1 conv to 16 -> pooled logits.
 */
function depthwiseChainModel(activations: 'relu' | 'swish'): ModelProto {
  const r = rng(21);
  const act = (input: string, output: string, name: string, gate: 'HardSigmoid' | 'Sigmoid', plain: NodeProto): NodeProto[] => (activations === 'relu'
    ? [plain] : [makeNode(gate, [input], [`${name}_gate`], `${name}_gate`), makeNode('Mul', [input, `${name}_gate`], [output], name)]);
  return buildModel([
    makeNode('Conv', ['image', 'w1', 'b1'], ['c1'], 'expand', [intsAttribute('kernel_shape', [1, 1])]),
    ...act('c1', 'r1', 'expand_act', 'HardSigmoid', makeNode('Clip', ['c1', 'lo', 'hi'], ['r1'], 'expand_act')),
    makeNode('Conv', ['r1', 'w2', 'b2'], ['c2'], 'dw', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1]), intAttribute('group', 24)]),
    ...act('c2', 'r2', 'dw_act', 'Sigmoid', makeNode('Relu', ['c2'], ['r2'], 'dw_act')),
    makeNode('Conv', ['r2', 'w3', 'b3'], ['c3'], 'project', [intsAttribute('kernel_shape', [1, 1])]),
    makeNode('GlobalAveragePool', ['c3'], ['gap'], 'gap'),
    makeNode('Flatten', ['gap'], ['flat'], 'flatten'),
    makeNode('Gemm', ['flat', 'wfc', 'bfc'], ['logits'], 'fc', [intAttribute('transB', 1)]),
  ], [randomTensor('w1', [24, 8, 1, 1], r, 0.4), randomTensor('b1', [24], r, 0.1), makeTensor('lo', [], Float32Array.of(0)),
    makeTensor('hi', [], Float32Array.of(6)), randomTensor('w2', [24, 1, 3, 3], r, 0.4), randomTensor('b2', [24], r, 0.1),
    randomTensor('w3', [16, 24, 1, 1], r, 0.3), randomTensor('b3', [16], r, 0.1), randomTensor('wfc', [10, 16], r, 0.3),
    randomTensor('bfc', [10], r, 0.1)],
  [valueInfo('image', ['N', 8, 12, 12])], [valueInfo('logits', ['N', 10])], 13);
}

for (const activations of ['relu', 'swish'] as const) {
  test(`a 24-channel depthwise layer between two dense ones (${activations} activations) is padded to 32 along the chain: same outputs, same per-layer error`, async () => {
  const dir = tempDir();
  const modelPath = join(dir, 'dw.onnx');
  writeFileSync(modelPath, encodeModel(depthwiseChainModel(activations)));
  const h = await conversionHarness(modelPath, writeImageNpy(dir, 24, [8, 12, 12]), { preprocess: 'raw', calibCount: 16, checkCount: 8 });
  const plain = await h.builder.build({ method: 'minmax', exclude: new Set(), biasCorrection: false });
  const { model: aligned, padded } = alignForKernels(plain.model, 13);
  assert.deepEqual(padded, [{ node: 'dw', channels: 24, paddedTo: 32 }]);
  const graph = new Graph(aligned.graph!);
  const weightOf = (name: string) => {
    const conv = graph.nodes.find((n) => n.name === name)!;
    const dq = graph.producers.get(conv.input[1])!;
    return { dims: graph.initializers.get(dq.input[0])!.dims.map(Number), codes: tensorToArray(graph.initializers.get(dq.input[0])!) as Int8Array,
      scales: tensorToArray(graph.initializers.get(dq.input[1])!) as Float32Array, conv };
  };
  const [expand, dw, project] = [weightOf('expand'), weightOf('dw'), weightOf('project')];
  assert.deepEqual([expand.dims, dw.dims, project.dims], [[32, 8, 1, 1], [32, 1, 3, 3], [16, 32, 1, 1]]);
  assert.ok(expand.codes.subarray(24 * 8).every((v) => v === 0) && dw.codes.subarray(24 * 9).every((v) => v === 0), 'new channels computed from zero weights');
  for (let o = 0; o < 16; o++) assert.ok(project.codes.subarray(o * 32 + 24, o * 32 + 32).every((v) => v === 0), `project row ${o} reads them with zeros`);
  assert.equal(expand.scales.length, 32);
  assert.ok(expand.scales.subarray(24).every((s) => s === expand.scales[23]), 'their scales repeat the last real one');
  assert.equal(dw.conv.attribute.find((a) => a.name === 'group')!.i, 32);

  const r = rng(4);
  const x = Float32Array.from({ length: 2 * 8 * 12 * 12 }, () => r() * 3 - 1);
  const run = async (m: ModelProto) => {
    const s = await ort.InferenceSession.create(encodeModel(m));
    try { return [...((await s.run({ image: new ort.Tensor('float32', x, [2, 8, 12, 12]) })).logits.data as Float32Array)]; } finally { await s.release(); }
  };
  assert.deepEqual(await run(aligned), await run(plain.model), 'bit for bit the same logits');

  const layerOptions = {
    params: plain.activationParams, samples: 8, methodOf: () => 'minmax' as const,
    activationRange: (p: { scale: number; zeroPoint: number }) => ({ lo: (0 - p.zeroPoint) * p.scale, hi: (255 - p.zeroPoint) * p.scale }),
    shapes: new Map([...h.ctx.facts].map(([name, f]) => [name, f.dims])),
  };
  const errors = async (m: ModelProto) => measureLayerErrors(h.reference, m, h.samples, h.input, layerOptions, ['fp32', 'int8']);
  const [before, after] = [await errors(plain.model), await errors(aligned)];
  assert.ok(before.some((l) => l.node === 'expand') && before.some((l) => l.node === 'dw'), 'the padded tensors are measured');
  assert.deepEqual(after, before, 'the per-layer error reads the padded tensors\' real channels');
});
}
