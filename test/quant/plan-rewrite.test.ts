// The QDQ plan and rewrite on a small CNN built in the test: which nodes are quantized, Relu/Clip folding,
// weight/bias layout, names preserved, and the user's filters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, randomTensor, valueInfo } from '../../src/onnx/build';
import { Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { DataType } from '../../src/onnx/proto';
import { planQuantization } from '../../src/quant/plan';
import { applyPlan } from '../../src/quant/rewrite';
import { makeTensor } from '../../src/onnx/tensor';
import { smallCnn } from '../fixtures/models';

const allFloat = () => true;

function plan(exclude: string[] = [], opTypes: string[] | null = null) {
  const model = smallCnn();
  const graph = new Graph(model.graph!);
  const p = planQuantization(graph, { opTypes: opTypes ? new Set(opTypes) : null, exclude: new Set(exclude), isFloat: allFloat, opset: 13 });
  return { model, graph, plan: p };
}

test('plan quantizes every conv, add, pool, concat and gemm and folds Relu/Clip into their producers', () => {
  const { plan: p } = plan();
  const names = p.quantized.map((n) => n.name).sort();
  assert.deepEqual(names, ['concat', 'conv1', 'conv4', 'dwconv', 'fc', 'flatten', 'gap', 'maxpool', 'pwconv', 'residual_add'].sort());
  assert.deepEqual([...p.folded.keys()].map((n) => n.name).sort(), ['relu1', 'relu3', 'relu6']);
  // Folded activations: the Q/DQ sits on the activation's output, not the producer's.
  assert.ok(p.qdqTensors.includes('r1') && !p.qdqTensors.includes('c1'));
  assert.ok(p.qdqTensors.includes('r2') && !p.qdqTensors.includes('c2'));
  // MaxPool and Flatten move data: their outputs reuse their input's scale.
  assert.equal(p.sharedParams.get('p1'), 'r3');
  assert.equal(p.sharedParams.get('flat'), 'gap');
  assert.ok(!p.calibrationTensors.includes('p1'));
  assert.ok(p.calibrationTensors.includes('image'));
});

test('--exclude keeps a node in FP32 with the reason, and a Relu after it stays', () => {
  const { plan: p } = plan(['conv1']);
  assert.ok(!p.quantized.some((n) => n.name === 'conv1'));
  assert.deepEqual(p.kept.find((k) => k.node === 'conv1'), { node: 'conv1', opType: 'Conv', reason: 'excluded by the user (--exclude)' });
  assert.ok(p.kept.some((k) => k.node === 'relu1'));
  assert.ok(![...p.folded.keys()].some((n) => n.name === 'relu1'));
});

test('--op-types narrows quantization to the listed types', () => {
  const { plan: p } = plan([], ['Conv']);
  assert.deepEqual([...new Set(p.quantized.map((n) => n.op_type))], ['Conv']);
  assert.equal(p.kept.find((k) => k.node === 'fc')?.reason, 'op type not selected (--op-types)');
});

test('rewrite: int8 per-channel weights, int32 bias, Q/DQ pairs keep tensor and node names', () => {
  const { graph, plan: p } = plan();
  const result = applyPlan(graph, p, () => ({ scale: 0.05, zeroPoint: 3 }), { activations: 'u8', perChannel: true, weightRange: 'full' });
  const nodes = graph.nodes;
  assert.ok(!nodes.some((n) => n.op_type === 'Relu' || n.op_type === 'Clip'), 'Relu/Clip folded away');
  const conv1 = nodes.find((n) => n.name === 'conv1')!;
  assert.equal(conv1.output[0], 'r1_float', 'conv1 now writes the folded Relu output (before its Q/DQ)');
  const weightDq = graph.producers.get(conv1.input[1])!;
  assert.equal(weightDq.op_type, 'DequantizeLinear');
  const wq = graph.initializers.get(weightDq.input[0])!;
  assert.equal(wq.data_type, DataType.INT8);
  assert.deepEqual(graph.initializers.get(weightDq.input[1])!.dims, [8], 'one scale per output channel');
  assert.equal(weightDq.attribute.find((a) => a.name === 'axis')?.i, 0);
  const biasDq = graph.producers.get(conv1.input[2])!;
  assert.equal(graph.initializers.get(biasDq.input[0])!.data_type, DataType.INT32);
  const fc = nodes.find((n) => n.name === 'fc')!;
  const fcWeightDq = graph.producers.get(fc.input[1])!;
  assert.equal(fcWeightDq.attribute.find((a) => a.name === 'axis')?.i, 0, 'Gemm transB=1: per output row');
  // The graph output keeps its name; the Gemm writing it writes float (ORT's QGemm has a float output): no Q/DQ there.
  assert.equal(graph.producers.get('logits')?.op_type, 'Gemm');
  assert.ok(!p.qdqTensors.includes('logits'));
  // The graph input is quantized for conv1 through a dequantized copy.
  assert.equal(graph.producers.get(conv1.input[0])?.op_type, 'DequantizeLinear');
  // Every non-Q/DQ node reads only dequantized activations or constants.
  for (const n of nodes) {
    if (n.op_type === 'QuantizeLinear' || n.op_type === 'DequantizeLinear') continue;
    for (const i of n.input) {
      if (!i || graph.isConstant(i)) continue;
      assert.equal(graph.producers.get(i)?.op_type, 'DequantizeLinear', `${n.name} reads ${i}`);
    }
  }
  assert.equal(result.weights.length, 5);
  assert.ok(result.weights.every((w) => w.perChannel));
});

test('per-tensor pair-safe weights of a Gemm with transB=1 check neighbouring pairs along its rows (the K order)', () => {
  const { graph, plan: p } = plan();
  const w = graph.initializers.get('wfc')!;
  const [rows, k] = w.dims;
  // Row 0 holds a same-sign pair 1, 1 next to each other in K; no column has one.
  const values = new Float32Array(rows * k);
  values[0] = 1;
  values[1] = 1;
  graph.proto.initializer[graph.proto.initializer.indexOf(w)] = makeTensor('wfc', w.dims, values);
  graph.reindex();
  const result = applyPlan(graph, p, () => ({ scale: 0.05, zeroPoint: 3 }), { activations: 'u8', perChannel: false, weightRange: 'pair-safe' });
  const fc = result.weights.find((r) => r.node === 'fc')!;
  assert.equal(fc.perChannel, false);
  // |q0| + |q1| <= 128 needs scale >= 2 / 127.5; full range would give 1 / 127 and codes 127 + 127.
  assert.ok(Math.abs(fc.scales[0] - 2 / 127.5) < 1e-6, `scale ${fc.scales[0]}`);
});

test('tensors that end in a parameter input (Resize scales, computed from a run-time shape) stay exact, the data path does not', () => {
  // x → Conv → c; Shape(c) → Gather → Cast(float) → Div → Concat([1, 1], …) → Resize(c, roi, scales) → Add(c, up)
  let seed = 1;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  const model = buildModel([
    makeNode('Conv', ['x', 'w'], ['c'], 'conv'),
    makeNode('Shape', ['c'], ['shape'], 'shape'),
    makeNode('Gather', ['shape', 'two'], ['h'], 'gather'),
    makeNode('Cast', ['h'], ['hf'], 'cast', [intAttribute('to', DataType.FLOAT)]),
    makeNode('Div', ['hf', 'hf'], ['ratio'], 'div'),
    makeNode('Concat', ['ones', 'ratio', 'ratio'], ['scales'], 'scales_concat', [intAttribute('axis', 0)]),
    makeNode('Resize', ['c', '', 'scales'], ['up'], 'resize'),
    makeNode('Add', ['c', 'up'], ['y'], 'add'),
  ], [randomTensor('w', [4, 3, 1, 1], random, 0.5), makeTensor('two', [1], BigInt64Array.of(2n)), makeTensor('ones', [2], Float32Array.of(1, 1))],
  [valueInfo('x', [1, 3, 8, 8])], [valueInfo('y', [1, 4, 8, 8])]);
  const graph = new Graph(model.graph!);
  const isFloat = (t: string) => !['shape', 'h', 'two'].includes(t);
  const p = planQuantization(graph, { opTypes: null, exclude: new Set(), isFloat, opset: 13 });
  const quantized = p.quantized.map((n) => n.name);
  assert.ok(quantized.includes('conv') && quantized.includes('add'), quantized.join(','));
  assert.ok(!quantized.includes('scales_concat'), 'the Concat that makes Resize scales stays float');
  assert.deepEqual(p.kept.find((k) => k.node === 'scales_concat')?.reason, 'computes a shape, size or scale parameter (kept exact)');
  assert.ok(!p.qdqTensors.includes('scales') && !p.qdqTensors.includes('ratio'));
  assert.ok(p.qdqTensors.includes('c'), 'the data the shape was read from is still quantized');
});

test('excluding a Relu that would fold into its producer keeps the producer float too (no uncalibrated pre-activation tensor)', () => {
  const { plan: p } = plan(['relu1']);
  assert.ok(!p.quantized.some((n) => n.name === 'conv1'), 'conv1 stays float with its Relu');
  assert.match(p.kept.find((k) => k.node === 'conv1')!.reason, /the Relu after it \(relu1\) is kept in float/);
  assert.ok(!p.qdqTensors.includes('c1'), 'the raw conv output gets no Q/DQ');
  const full = plan().plan;
  for (const t of p.calibrationTensors) assert.ok(full.qdqTensors.includes(t), `${t} was calibrated by the full plan`);
});

test('whatever single node is excluded, every tensor the plan needs a range for was calibrated by the full plan', () => {
  const full = plan().plan;
  for (const node of smallCnn().graph!.node) {
    const p = plan([node.name!]).plan;
    for (const t of p.calibrationTensors) assert.ok(full.qdqTensors.includes(t), `excluding ${node.name}: ${t} needs a range`);
  }
});
