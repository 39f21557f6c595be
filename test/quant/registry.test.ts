// The op registry: every rule's facts are consistent with each other, the run-time op classifier says what each ORT
// op type is, and the code that acts on op facts (rewrite, equalization, bias correction, diagnosis, the report's
// op table) agrees with what the registry says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { buildModel, floatAttribute, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { NodeProto } from '../../src/onnx/proto';
import { makeTensor, tensorToFloat32 } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { OP_RULES } from '../../src/quant/op-rules';
import {
  biasCorrectionOf, equalizationOf, keepsFullRangeWeights, quantizableOpTypes, requantizedByOrtWhenFloat, rescaleFactor, ruleFor, runsInt8Kernel,
  variantOf,
} from '../../src/quant/registry';
import { floatComputeRan, runtimeOpRole, runtimeOpsWithRole } from '../../src/quant/runtime-ops';
import { planQuantization } from '../../src/quant/plan';
import { applyPlan } from '../../src/quant/rewrite';
import { findEqualizationPairs } from '../../src/quant/equalize';
import { findBiasTargets } from '../../src/engine/accuracy/bias-correction';
import { diagnoseRuntime } from '../../src/engine/runtime/diagnose';
import { opKind } from '../../src/report/tables';
import { smallCnn } from '../fixtures/models';

const node = (op: string, attributes: NodeProto['attribute'] = []): NodeProto => makeNode(op, ['x', 'w', 'b'], ['y'], op, attributes);

test('every rule is consistent: one per op type, weights where they compute with weights, ORT names for each kind', () => {
  assert.equal(new Set(OP_RULES.map((r) => r.opType)).size, OP_RULES.length, 'one rule per op type');
  const ortNames = new Map<string, string>();
  for (const rule of OP_RULES) {
    const label = rule.opType;
    const sample = node(rule.opType);
    assert.equal(rule.kind === 'weighted', rule.weight !== undefined, `${label}: a weight spec exactly when weighted`);
    if (rule.weight) assert.ok(!rule.activationInputs(sample).includes(rule.weight.input), `${label}: the weight is no activation`);
    if (rule.biasCorrectable) assert.ok(rule.weight?.bias !== undefined, `${label}: bias-correctable needs a bias input`);
    if (rule.equalization || rule.variants) assert.ok(rule.weight, `${label}: equalization and variants need a weight`);
    assert.equal(rule.kind === 'foldable-activation', rule.clamp !== undefined, `${label}: clamp bounds exactly for foldable activations`);
    const computes = rule.kind === 'weighted' || rule.kind === 'requantizing';
    assert.equal(rule.ort.int8.length > 0, computes, `${label}: int8 kernels exactly for ops that compute in int8`);
    assert.ok(rule.ort.float.includes(rule.opType), `${label}: its float form runs under its own name`);
    if (rule.kind === 'passthrough') assert.ok(rule.ort.movesData, `${label}: passthrough ops move data`);
    if (rule.ort.requantizesFloat) assert.ok(rule.kind === 'weighted' || rule.kind === 'float', `${label}: ORT re-quantizes only layers with weights`);
    for (const name of [...rule.ort.int8, ...(rule.ort.int8.length ? rule.ort.float : [])]) {
      assert.ok(!ortNames.has(name), `${name} is named by ${ortNames.get(name)} and ${label}`);
      ortNames.set(name, label);
    }
  }
  const quantizable = quantizableOpTypes();
  assert.ok(quantizable.includes('Conv') && quantizable.includes('Reshape'));
  assert.ok(!quantizable.includes('Relu') && !quantizable.includes('ConvTranspose'), 'folded and float-only ops are not offered');
});

test('depthwise is a registered sub-kind of Conv: full-range weights, its own equalization axis', () => {
  const dw = makeNode('Conv', ['x', 'w'], ['y'], 'dw', [intAttribute('group', 8)]);
  assert.equal(variantOf(dw, [8, 1, 3, 3])?.name, 'depthwise');
  assert.ok(keepsFullRangeWeights(dw, [8, 1, 3, 3]));
  assert.deepEqual(equalizationOf(dw, [8, 1, 3, 3]), { producer: true, consumerAxis: 0 });
  // A channel multiplier of 2 is grouped, not depthwise; a dense Conv has no variant.
  const grouped = makeNode('Conv', ['x', 'w'], ['y'], 'g', [intAttribute('group', 8)]);
  assert.equal(variantOf(grouped, [16, 1, 3, 3])?.name, 'grouped');
  assert.ok(!keepsFullRangeWeights(grouped, [16, 1, 3, 3]));
  assert.equal(equalizationOf(grouped, [16, 1, 3, 3])?.consumerAxis, null);
  const dense = makeNode('Conv', ['x', 'w'], ['y'], 'c');
  assert.equal(variantOf(dense, [8, 8, 3, 3]), undefined);
  assert.deepEqual(equalizationOf(dense, [8, 8, 3, 3]), { producer: true, consumerAxis: 1 });
  assert.equal(equalizationOf(node('Gemm'), [10, 16]), null, 'Gemm is not equalized');
});

test('bias correction facts: Conv always, Gemm only with transA=0 and beta=1, MatMul never; output-channel axis', () => {
  assert.ok(biasCorrectionOf(node('Conv')));
  const gemm = biasCorrectionOf(node('Gemm', [intAttribute('transB', 1)]));
  assert.equal(gemm?.bias, 2);
  assert.equal(gemm?.axis(node('Gemm', [intAttribute('transB', 1)]), 2), 0);
  assert.equal(ruleFor(node('Gemm'))!.weight!.axis(node('Gemm'), 2), 1, 'transB=0: output channels are columns');
  assert.equal(biasCorrectionOf(node('Gemm', [intAttribute('transA', 1)])), null);
  assert.equal(biasCorrectionOf(node('Gemm', [floatAttribute('beta', 0.5)])), null);
  assert.equal(biasCorrectionOf(node('MatMul')), null);
  assert.equal(biasCorrectionOf(node('Add')), null);
});

test('the run-time op classifier: int8 kernels, Q/DQ, data movement, float compute, other float', () => {
  for (const op of ['QLinearConv', 'QGemm', 'QLinearMatMul', 'MatMulIntegerToFloat', 'QLinearAdd', 'QLinearMul', 'QLinearConcat',
    'QLinearGlobalAveragePool', 'QLinearAveragePool', 'ConvInteger', 'QLinearSoftmax', 'DynamicQuantizeMatMul']) {
    assert.equal(runtimeOpRole(op), 'int8', op);
  }
  for (const op of ['QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear']) assert.equal(runtimeOpRole(op), 'conversion', op);
  for (const op of ['Conv', 'FusedConv', 'Gemm', 'FusedGemm', 'MatMul', 'FusedMatMul']) assert.equal(runtimeOpRole(op), 'float compute', op);
  for (const op of ['Reshape', 'MaxPool', 'Concat', 'Transpose', 'Resize', 'Slice']) assert.equal(runtimeOpRole(op), 'data movement', op);
  for (const op of ['Add', 'Mul', 'Relu', 'ConvTranspose', 'Softmax', 'SomethingNew']) assert.equal(runtimeOpRole(op), 'float', op);
  // Every rule's names are classified as the rule says.
  for (const rule of OP_RULES) {
    for (const op of rule.ort.int8) assert.equal(runtimeOpRole(op), 'int8', op);
    if (rule.kind === 'weighted') for (const op of rule.ort.float) assert.equal(runtimeOpRole(op), 'float compute', op);
  }
  assert.deepEqual(runtimeOpsWithRole('float compute'), ['Conv', 'FusedConv', 'Gemm', 'FusedGemm', 'MatMul', 'FusedMatMul']);
  assert.deepEqual(floatComputeRan({ QLinearConv: 3, FusedGemm: 1, Add: 2, Conv: 0 }), [{ op: 'FusedGemm', count: 1 }]);
});

test('diagnosis and the report op table classify with the registry', () => {
  const ops = { QLinearConv: 4, Conv: 2, FusedMatMul: 1, Add: 3, QuantizeLinear: 1, DequantizeLinear: 1 };
  const [warning, ...rest] = diagnoseRuntime(ops);
  assert.equal(warning, 'ONNX Runtime still runs float Conv x2, FusedMatMul x1 in the INT8 model (not quantized or not fused).');
  assert.deepEqual(rest, []);
  assert.deepEqual(diagnoseRuntime({ QLinearConv: 4, QGemm: 1, Add: 3 }), [], 'no float compute, few Q/DQ: nothing to say');
  const table = { QLinearConv: 'int8', QuantizeLinear: 'conversion', MaxPool: 'data movement', Conv: 'float', Add: 'float', Softmax: 'float' };
  for (const [op, kind] of Object.entries(table)) assert.equal(opKind(op), kind, op);
});

test('rewrite agrees: depthwise weights keep the full range under 7bit; ORT-requantized ops left float get per-channel DQ', () => {
  const graph = new Graph(smallCnn().graph!);
  const plan = planQuantization(graph, { opTypes: null, exclude: new Set(['conv4']), isFloat: () => true, opset: 13 });
  const result = applyPlan(graph, plan, () => ({ scale: 0.05, zeroPoint: 3 }),
    { activations: 'u8', perChannel: true, weightRange: '7bit', channelsOf: () => 8 });
  for (const record of result.weights) {
    const layer = graph.nodes.find((n) => n.name === record.node)!;
    const codes = graph.initializers.get(graph.producers.get(layer.input[1])!.input[0])!;
    const maxCode = Math.max(...Array.from(tensorToFloat32(codes), Math.abs));
    assert.equal(maxCode > 63, keepsFullRangeWeights(layer, codes.dims), `${record.node}: max |code| ${maxCode}`);
  }
  assert.ok(result.weights.some((w) => w.node === 'dwconv'), 'the depthwise conv was quantized');
  // conv4 stays float; ORT would re-quantize it from a scalar-scale DQ, so it reads a per-channel copy.
  const conv4 = graph.nodes.find((n) => n.name === 'conv4')!;
  assert.ok(requantizedByOrtWhenFloat(conv4));
  const dq = graph.producers.get(conv4.input[0])!;
  assert.equal(dq.op_type, 'DequantizeLinear');
  assert.deepEqual(graph.initializers.get(dq.input[1])!.dims, [8]);
  // Every node reading such a copy is one the registry says ORT would re-quantize.
  for (const n of graph.nodes) {
    if (n.input.some((i) => i.endsWith('_dequantized_for_float'))) assert.ok(requantizedByOrtWhenFloat(n), n.name);
  }
});

test('bias correction agrees: its targets are exactly the quantized bias-correctable layers, channels on the registry axis', () => {
  const fp32 = new Graph(smallCnn().graph!);
  const int8 = new Graph(smallCnn().graph!);
  const plan = planQuantization(int8, { opTypes: null, exclude: new Set(), isFloat: () => true, opset: 13 });
  applyPlan(int8, plan, () => ({ scale: 0.05, zeroPoint: 3 }), { activations: 'u8', perChannel: true, weightRange: 'full' });
  const targets = findBiasTargets(int8, fp32);
  const expected = plan.quantized.filter((n) => biasCorrectionOf(n)).map((n) => n.name).sort();
  assert.deepEqual(targets.map((t) => t.node.name).sort(), expected);
  assert.deepEqual(expected, ['conv1', 'conv4', 'dwconv', 'fc', 'pwconv']);
  const fc = targets.find((t) => t.node.name === 'fc')!;
  assert.equal(fc.bias.length, 10, 'Gemm transB=1: one channel per weight row');
  assert.deepEqual(fc.inputs, { activation: 0, weight: 1, bias: 2 });
});

test('equalization agrees: pairs only where the registry gives producer and consumer roles, along their axes', () => {
  const r = rng(3);
  const model = buildModel([
    makeNode('Conv', ['x', 'wa', 'ba'], ['a'], 'a', [intsAttribute('kernel_shape', [1, 1])]),
    makeNode('Relu', ['a'], ['ra'], 'relu'),
    makeNode('Conv', ['ra', 'wdw'], ['d'], 'dw', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1]), intAttribute('group', 4)]),
    makeNode('Conv', ['d', 'wg'], ['g'], 'grouped', [intsAttribute('kernel_shape', [1, 1]), intAttribute('group', 2)]),
    makeNode('Conv', ['g', 'wc'], ['y'], 'dense', [intsAttribute('kernel_shape', [1, 1])]),
  ], [randomTensor('wa', [4, 3, 1, 1], r, 0.3), randomTensor('ba', [4], r, 0.1), randomTensor('wdw', [4, 1, 3, 3], r, 0.3),
    randomTensor('wg', [4, 2, 1, 1], r, 0.3), randomTensor('wc', [5, 4, 1, 1], r, 0.3)],
  [valueInfo('x', [1, 3, 8, 8])], [valueInfo('y', [1, 5, 8, 8])], 13, 'test');
  const graph = new Graph(model.graph!);
  const pairs = findEqualizationPairs(graph, 13, () => true);
  // a -> Relu -> depthwise (output axis), grouped -> dense (input axis); dw -> grouped is not a pair (grouped consumer).
  assert.deepEqual(pairs.map((p) => [p.producer.name, p.activation?.name ?? null, p.consumer.name, p.producerAxis, p.consumerAxis]),
    [['a', 'relu', 'dw', 0, 0], ['grouped', null, 'dense', 0, 1]]);
  for (const p of pairs) {
    assert.equal(equalizationOf(p.consumer, graph.initializers.get(p.consumer.input[1])!.dims)?.consumerAxis, p.consumerAxis);
  }
});

test('inspect and tuning count int8 compute the registry way', () => {
  assert.ok(runsInt8Kernel(node('Conv')) && runsInt8Kernel(node('Add')));
  assert.ok(!runsInt8Kernel(node('Reshape')) && !runsInt8Kernel(node('Relu')) && !runsInt8Kernel(node('ConvTranspose')));
  assert.ok(!runsInt8Kernel({ ...node('Conv'), domain: 'com.example' }), 'other domains are unknown');
});

test('per-node forms: MatMul of two activations, Mul/Div by one positive constant (folded into the scale), else float', () => {
  const model = buildModel([
    makeNode('MatMul', ['x', 'w'], ['a'], 'weighted'),
    makeNode('MatMul', ['a', 'x'], ['b'], 'pair'),
    makeNode('Mul', ['b', 'half'], ['c'], 'scale'),
    makeNode('Mul', ['two', 'c'], ['c2'], 'scale_first'),
    makeNode('Mul', ['c2', 'negative'], ['d'], 'negative_scale'),
    makeNode('Mul', ['d', 'per_channel'], ['e'], 'tensor_scale'),
    makeNode('Mul', ['e', 'e'], ['f'], 'square'),
    makeNode('Div', ['f', 'six'], ['g'], 'div'),
    makeNode('Div', ['g', 'f'], ['h'], 'div_tensor'),
    makeNode('HardSigmoid', ['h'], ['y'], 'hsig', [floatAttribute('alpha', 0.25)]),
  ], [randomTensor('w', [4, 4], rng(1), 0.3), makeTensor('half', [], Float32Array.of(0.5)), makeTensor('two', [1], Float32Array.of(2)),
    makeTensor('negative', [], Float32Array.of(-2)), makeTensor('per_channel', [4], Float32Array.of(1, 2, 3, 4)), makeTensor('six', [], Float32Array.of(6))],
  [valueInfo('x', [4, 4])], [valueInfo('y', [4, 4])], 13, 'test');
  const graph = new Graph(model.graph!);
  const at = (name: string) => graph.nodes.find((n) => n.name === name)!;
  const kind = (name: string) => ruleFor(at(name), graph)?.kind;
  assert.equal(kind('weighted'), 'weighted');
  assert.equal(kind('pair'), 'requantizing');
  assert.equal(ruleFor(at('pair'), graph)?.weight, undefined, 'no weight when both inputs are activations');
  assert.deepEqual(ruleFor(at('pair'), graph)?.activationInputs(at('pair')), [0, 1]);
  assert.equal(kind('scale'), 'rescale');
  assert.equal(rescaleFactor(at('scale'), graph), 0.5);
  assert.equal(rescaleFactor(at('scale_first'), graph), 2, 'the constant may come first');
  assert.equal(kind('negative_scale'), 'requantizing', 'a negative scale is no rescale');
  assert.match(ruleFor(at('tensor_scale'), graph)?.blocker?.(at('tensor_scale'), graph) ?? '', /constant tensor/);
  assert.equal(kind('square'), 'requantizing');
  assert.ok(Math.abs(rescaleFactor(at('div'), graph)! - 1 / 6) < 1e-9);
  assert.equal(kind('div_tensor'), 'float');
  assert.equal(kind('hsig'), 'clamped-affine');
  assert.deepEqual(ruleFor(at('hsig'))?.affine?.(at('hsig')), { a: 0.25, b: 0.5, lo: 0, hi: 1 });
  assert.ok(runsInt8Kernel(at('pair'), graph) && runsInt8Kernel(at('hsig'), graph) && !runsInt8Kernel(at('scale'), graph));
  assert.ok(quantizableOpTypes().includes('Div') && quantizableOpTypes().includes('HardSigmoid'));

  // Planned: the rescales read their input's codes (no range of their own), the HardSigmoid's range is fixed [0, 1].
  const plan = planQuantization(graph, { opTypes: null, exclude: new Set(), isFloat: () => true, opset: 13 });
  assert.deepEqual(plan.scaled.get('c'), { from: 'b', factor: 0.5 });
  assert.ok(!plan.calibrationTensors.includes('c') && !plan.calibrationTensors.includes('y'));
  assert.deepEqual(plan.fixedRanges.get('y'), { min: 0, max: 1 });
  assert.equal(plan.quantizeFactor.get('y'), 4);
  assert.match(plan.kept.find((k) => k.node === 'div_tensor')!.reason, /division by a tensor/);
});

test('rewrite of the new forms: a rescale becomes a DequantizeLinear at the scaled scale, a HardSigmoid an Add quantized at scale / alpha', () => {
  const model = buildModel([
    makeNode('Conv', ['x', 'w'], ['c'], 'conv', [intsAttribute('kernel_shape', [1, 1])]),
    makeNode('Div', ['c', 'six'], ['d'], 'div'),
    makeNode('HardSigmoid', ['d'], ['h'], 'hsig', [floatAttribute('alpha', 0.2), floatAttribute('beta', 0.5)]),
    makeNode('Mul', ['d', 'h'], ['y'], 'mul'),
  ], [randomTensor('w', [4, 4, 1, 1], rng(2), 0.3), makeTensor('six', [], Float32Array.of(6))],
  [valueInfo('x', [1, 4, 8, 8])], [valueInfo('y', [1, 4, 8, 8])], 13, 'test');
  const graph = new Graph(model.graph!);
  const plan = planQuantization(graph, { opTypes: null, exclude: new Set(), isFloat: () => true, opset: 13 });
  const result = applyPlan(graph, plan, (t) => (t === 'h' ? { scale: 1 / 255, zeroPoint: 0 } : { scale: 0.06, zeroPoint: 10 }),
    { activations: 'u8', perChannel: true, weightRange: 'full' });
  assert.ok(!graph.nodes.some((n) => n.op_type === 'Div' || n.op_type === 'HardSigmoid'));
  const scaleOf = (t: string) => tensorToFloat32(graph.initializers.get(t)!)[0];
  const dDq = graph.producers.get('d')!;
  assert.equal(dDq.op_type, 'DequantizeLinear');
  assert.equal(graph.producers.get(dDq.input[0])!.output[0], dDq.input[0], 'reads the codes the conv output was quantized to');
  assert.ok(Math.abs(scaleOf(dDq.input[1]) - 0.01) < 1e-7, 'scale 0.06 / 6');
  assert.equal(result.activationParams.get('d'), undefined, 'a rescaled tensor has no row of its own: it carries the conv output codes');
  const add = graph.nodes.find((n) => n.name === 'hsig')!;
  assert.equal(add.op_type, 'Add');
  const q = graph.consumersOf(add.output[0])[0];
  assert.equal(q.op_type, 'QuantizeLinear');
  assert.ok(Math.abs(scaleOf(q.input[1]) - 1 / 255 / 0.2) < 1e-7, 'quantized at scale / alpha: saturation does the clamp');
  assert.ok(Math.abs(scaleOf(graph.producers.get('h')!.input[1]) - 1 / 255) < 1e-9, 'read back at the scale of [0, 1]');
});

test('a Sigmoid or LeakyRelu writing a model output, directly or through a Reshape, stays float; inside the model it is int8', () => {
  const model = buildModel([
    makeNode('LeakyRelu', ['x'], ['p'], 'inner'),
    makeNode('Sigmoid', ['p'], ['s'], 'last'),
    makeNode('Reshape', ['s', 'shape'], ['y'], 'reshape'),
    makeNode('LeakyRelu', ['x'], ['z'], 'direct'),
  ], [makeTensor('shape', [2], BigInt64Array.of(4n, 4n))], [valueInfo('x', [4, 4])], [valueInfo('y', [4, 4]), valueInfo('z', [4, 4])], 13, 'test');
  const graph = new Graph(model.graph!);
  const blocked = (name: string) => { const n = graph.nodes.find((x) => x.name === name)!; return ruleFor(n, graph)!.blocker!(n, graph); };
  assert.equal(blocked('inner'), null);
  assert.match(blocked('last') ?? '', /model output/);
  assert.match(blocked('direct') ?? '', /model output/);
});
