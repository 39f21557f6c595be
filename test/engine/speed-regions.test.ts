// Regions where int8 loses time, read off a profile: slow quantized nodes joined through the float or folded nodes
// between them, most lost first; a folded Relu never goes float without its producer (its input's range was never
// calibrated).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeTiming, TimeProfile } from '../../src/common/report';
import { Graph, makeNode } from '../../src/onnx/graph';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { rng } from '../../src/common/random';
import { RegionTrials, SlowRegion, slowRegions, tryRegions } from '../../src/engine/accuracy/speed-regions';

function timing(node: string, opType: string, fp32Ms: number, int8Ms: number, overheadMs = 0): NodeTiming {
  return { node, opType, fp32Ms, int8Ms, overheadMs, fp32Kernels: [opType], int8Kernels: [`QLinear${opType}`] };
}

function profile(nodes: NodeTiming[]): TimeProfile {
  const sum = (f: (n: NodeTiming) => number) => nodes.reduce((s, n) => s + f(n), 0);
  return { runs: 5, batch: 1, threads: 1, fp32TotalMs: sum((n) => n.fp32Ms), int8TotalMs: sum((n) => n.int8Ms + n.overheadMs), nodes, byOpType: [], unattributedInt8Ms: 0 };
}

test('slow nodes joined through a float node form one region; nodes that gain stay out; most lost first', () => {
  const r = rng(1);
  const conv = (name: string, input: string, output: string) => makeNode('Conv', [input, `w_${name}`], [output], name, [intsAttribute('kernel_shape', [1, 1])]);
  const model = buildModel([
    conv('a', 'x', 'ya'), makeNode('Tanh', ['ya'], ['t'], 'tanh'), conv('b', 't', 'yb'), conv('c', 'yb', 'yc'), makeNode('Tanh', ['yc'], ['t2'], 'tanh2'), conv('d', 't2', 'y'),
  ], ['a', 'b', 'c', 'd'].map((n) => randomTensor(`w_${n}`, [4, 4, 1, 1], r, 0.3)), [valueInfo('x', [1, 4, 8, 8])], [valueInfo('y', [1, 4, 8, 8])], 13, 'test');
  const graph = new Graph(model.graph!);
  const quantized = graph.nodes.filter((n) => n.op_type === 'Conv');
  const regions = slowRegions(profile([
    timing('a', 'Conv', 0.1, 0.3, 0.1), timing('tanh', 'Tanh', 0, 0.05), timing('b', 'Conv', 0.1, 0.2, 0.05),
    timing('c', 'Conv', 1.0, 0.3), timing('tanh2', 'Tanh', 0, 0.05), timing('d', 'Conv', 0.1, 0.15, 0.1),
  ]), graph, quantized, { minLossMs: 0.01 });
  assert.deepEqual(regions.map((x) => x.nodes), [['a', 'tanh', 'b'], ['d']]);
  assert.deepEqual(regions.map((x) => [x.int8Ms, x.floatMs]), [[0.65, 0.2], [0.25, 0.1]]);
  assert.deepEqual(slowRegions(profile([timing('c', 'Conv', 1.0, 0.3)]), graph, quantized, { minLossMs: 0.01 }), [], 'a node that gains is no region');
});

test('a Relu folded into a quantized Add is not kept float on its own, even between two slow nodes', () => {
  const r = rng(2);
  const model = buildModel([
    makeNode('Add', ['x', 'x'], ['s'], 'add1'),
    makeNode('Relu', ['s'], ['rs'], 'relu'),
    makeNode('Conv', ['rs', 'w'], ['c'], 'conv', [intsAttribute('kernel_shape', [1, 1])]),
    makeNode('Add', ['c', 'rs'], ['y'], 'add2'),
  ], [randomTensor('w', [4, 4, 1, 1], r, 0.3)], [valueInfo('x', [1, 4, 8, 8])], [valueInfo('y', [1, 4, 8, 8])], 13, 'test');
  const graph = new Graph(model.graph!);
  const quantized = graph.nodes.filter((n) => n.op_type !== 'Relu');
  const regions = slowRegions(profile([
    timing('add1', 'Add', 0.2, 0.1), timing('conv', 'Conv', 0.1, 0.3), timing('add2', 'Add', 0.05, 0.2),
  ]), graph, quantized, { minLossMs: 0.01 });
  assert.equal(regions.length, 1);
  assert.deepEqual(regions[0].nodes.sort(), ['add2', 'conv'], 'the Relu stays folded into add1');
});

/**
 * A layout's time under a cost model: every region in float saves (or, when negative, costs) its share of a 10 ms
 * model. The trials adopt a layout faster by 1 %, as the speed-aware choice's timing does beyond the noise.
 */
function costModel(savings: Record<string, number>) {
  const float = new Set<string>();
  const time = (regions: Iterable<string>) => 10 * (1 - [...regions].reduce((s, r) => s + savings[r], 0));
  const tried: string[] = [];
  const trials: RegionTrials = {
    float: async (rs) => {
      tried.push(`float ${rs.map((r) => r.nodes[0]).join('+')}`);
      const next = [...float, ...rs.map((r) => r.nodes[0])];
      if (time(next) >= 0.99 * time(float)) return false;
      for (const n of next) float.add(n);
      return true;
    },
    int8: async (r) => {
      tried.push(`int8 ${r.nodes[0]}`);
      const next = [...float].filter((n) => n !== r.nodes[0]);
      if (time(next) >= 0.99 * time(float)) return false;
      float.delete(r.nodes[0]);
      return true;
    },
    overBudget: () => false,
  };
  return { float, trials, tried };
}

const region = (name: string, predictedLossMs: number): SlowRegion => ({ nodes: [name], int8Ms: predictedLossMs, floatMs: 0 });

test('regions kept float together: one that loses time in float goes back to int8, the most promising never', async () => {
  // The profile ranks a (10 % faster in float) above b, which is 3 % slower in float: together they still pay.
  const { float, trials, tried } = costModel({ a: 0.1, b: -0.03, c: 0.02 });
  const changed = await tryRegions([region('a', 0.9), region('c', 0.3), region('b', 0.1)], trials, { singles: 3, jointRejected: false });
  assert.ok(changed);
  assert.deepEqual([...float].sort(), ['a', 'c']);
  assert.deepEqual(tried, ['float a+c+b', 'int8 b', 'int8 c'], 'least promising first, until one does not pay; never a');
});

test('regions that do not pay together are tried one at a time, most promising first', async () => {
  const { float, trials, tried } = costModel({ a: 0.03, b: -0.05, c: -0.04, d: 0.02 });
  const changed = await tryRegions([region('a', 0.9), region('b', 0.5), region('c', 0.3), region('d', 0.2)], trials, { singles: 3, jointRejected: false });
  assert.ok(changed);
  assert.deepEqual([...float], ['a']);
  assert.deepEqual(tried, ['float a+b+c+d', 'float a', 'float b', 'float c'], 'at most `singles` of them');
  const again = costModel({ a: 0.03, b: 0.03 });
  assert.ok(await tryRegions([region('a', 0.9), region('b', 0.5)], again.trials, { singles: 3, jointRejected: true }));
  assert.deepEqual(again.tried, ['float a', 'float b'], 'a set measured not to pay before is not timed again');
});
