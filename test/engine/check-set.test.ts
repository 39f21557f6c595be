// How automatic choices are judged: the check set's size and place among the calibration samples, the noise margin on
// top-1 agreement, and the budget that decides which layers weight rounding 'auto' takes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGREEMENT_MARGIN_SAMPLES, beats } from '../../src/engine/accuracy/auto-choice';
import { BIAS_SAMPLES, checkSetRange } from '../../src/engine/pipeline/check-set';
import { roundingCost } from '../../src/engine/accuracy/input-moments';
import { attrInt, Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { makeTensor } from '../../src/onnx/tensor';
import { smallCnn } from '../fixtures/models';

const imagenet = 3 * 224 * 224 * 4;

test('check set: held out from the bias samples, 64 ImageNet-size samples at most, fewer for large inputs, never under 16', () => {
  assert.deepEqual(checkSetRange(100, imagenet), { from: BIAS_SAMPLES, count: 64 });
  assert.deepEqual(checkSetRange(60, imagenet), { from: BIAS_SAMPLES, count: 28 }, 'every held-out sample when fewer');
  assert.deepEqual(checkSetRange(100, 3 * 640 * 640 * 4), { from: BIAS_SAMPLES, count: 16 }, 'a 640x640 detector: the floor');
  assert.deepEqual(checkSetRange(100, 3 * 320 * 320 * 4), { from: BIAS_SAMPLES, count: 31 });
  assert.deepEqual(checkSetRange(100, 3 * 32 * 32 * 4), { from: BIAS_SAMPLES, count: 64 }, 'small inputs: the cap');
  assert.deepEqual(checkSetRange(40, imagenet), { from: 0, count: 40 }, 'too few held out: overlapping the bias samples');
  assert.deepEqual(checkSetRange(8, imagenet), { from: 0, count: 8 });
});

test('beats: agreement decides only past the noise margin; otherwise output SQNR', () => {
  const score = (agreement: number | null, outputSqnrDb: number, samples = 64) => ({ agreement, outputSqnrDb, samples });
  assert.equal(AGREEMENT_MARGIN_SAMPLES, 6);
  // up to five samples flipped: SQNR decides
  assert.ok(beats(score(63 / 64, 46.5), score(1, 46.0)));
  assert.ok(!beats(score(1, 46.0), score(63 / 64, 46.5)));
  assert.ok(beats(score(59 / 64, 46.5), score(1, 46.0)));
  assert.ok(beats(score(29 / 32, 30.9), score(1, 29.8, 32)), 'three flips of 32: noise, SQNR decides');
  // six samples: agreement decides, whatever the SQNR
  assert.ok(beats(score(1, 40), score(58 / 64, 46.5)));
  assert.ok(!beats(score(58 / 64, 46.5), score(1, 40)));
  // the margin is in samples: 6/32 is six samples
  assert.ok(beats(score(1, 40, 32), score(26 / 32, 46.5, 32)));
  // no agreement measure (not a classifier): SQNR
  assert.ok(beats(score(null, 30), score(null, 29)));
  assert.ok(!beats(score(null, 29), score(null, 29)), 'a tie is not a win');
  assert.ok(!beats(score(1, 46.4), score(1, 46.0), 0.5), 'within the margin: no win');
  assert.ok(beats(score(1, 46.6), score(1, 46.0), 0.5));
  assert.ok(beats(score(1, 40), score(58 / 64, 46.5), 0.5), 'agreement still decides past its own margin');
});

test('rounding cost: the solve (rows × inputs × block, a factorization per block and group) and the gathering per sample and group', () => {
  const graph = new Graph(smallCnn().graph!);
  const facts = new Map<string, { type: string; dims: number[] }>();
  for (const node of graph.nodes.filter((n) => n.op_type === 'Conv' || n.op_type === 'Gemm')) {
    const dims = graph.initializers.get(node.input[1])!.dims.map(Number);
    const inputs = node.op_type === 'Conv' ? dims[1] * dims[2] * dims[3] : dims[1];
    const cost = roundingCost(node, graph, facts)!;
    assert.equal(cost.solve, dims[0] * inputs * inputs + attrInt(node, 'group', 1) * inputs ** 3, node.name);
  }
  assert.ok(graph.nodes.filter((n) => n.op_type === 'Relu').every((n) => roundingCost(n, graph, facts) === null));
  // a convolution's gathering: its output positions up to the kept ones (4·K, at least 64, at most 1024), K·(K + block) each
  const conv = graph.nodes.find((n) => n.op_type === 'Conv' && n.name === 'conv1')!;
  const k = graph.initializers.get(conv.input[1])!.dims.slice(1).map(Number).reduce((a, b) => a * b, 1);
  facts.set(conv.output[0], { type: 'float', dims: [1, 8, 10, 10] });
  assert.equal(roundingCost(conv, graph, facts)!.gatherPerSample, 100 * k * 2 * k, 'few positions: all of them');
  facts.set(conv.output[0], { type: 'float', dims: [1, 8, 320, 320] });
  assert.equal(roundingCost(conv, graph, facts)!.gatherPerSample, Math.max(64, 4 * k) * k * 2 * k, 'many: the kept ones');
  // blocks: 4096 inputs in blocks of 1024 → rows·K·1024 + 4·1024³; a Gemm's vectors are its input's leading dims
  const big = new Graph({ ...smallCnn().graph!, node: [], initializer: [] });
  big.initializers.set('w', makeTensor('w', [8, 4096], new Float32Array(8 * 4096)));
  const gemm = makeNode('Gemm', ['x', 'w'], ['y'], 'big', [intAttribute('transB', 1)]);
  facts.set('x', { type: 'float', dims: [1, 4096] });
  assert.deepEqual(roundingCost(gemm, big, facts), { solve: 8 * 4096 * 1024 + 4 * 1024 ** 3, gatherPerSample: 4096 * 1024 });
  // a depthwise 7×7 convolution (ConvNeXt's): a Σ x xᵀ of K = 49 and a factorization for each of its 384 channels
  big.initializers.set('dw', makeTensor('dw', [384, 1, 7, 7], new Float32Array(384 * 49)));
  const depthwise = makeNode('Conv', ['x', 'dw'], ['z'], 'dw', [intAttribute('group', 384)]);
  facts.set('z', { type: 'float', dims: [1, 384, 14, 14] });
  assert.deepEqual(roundingCost(depthwise, big, facts), { solve: 384 * 49 * 49 + 384 * 49 ** 3, gatherPerSample: 384 * 196 * 49 * 98 });
});
