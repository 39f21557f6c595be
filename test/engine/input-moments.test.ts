// The input moments weight rounding reads, gathered by ONNX Runtime (input-moments.ts's probe), equal the ones computed
// here in float64 from the same samples: Σ x xᵀ and Σ x of the im2col vectors of each layer's kept output positions,
// block by block, and their count — for a depthwise conv subsampled by a coarser stride, a dense strided 3×3, a 1×1
// subsampled, a 1×1 read whole, and a 3×3 with more inputs per block than positions per sample.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDataset, splitIndices } from '../../src/data/dataset';
import { describeInput } from '../../src/data/model-input';
import { collectInputMoments, DEFAULT_MOMENT_LIMITS, MomentTarget, planMoments } from '../../src/engine/accuracy/input-moments';
import { probeTensors } from '../../src/engine/runtime/prepare';
import { openSampleSet } from '../../src/engine/runtime/sample-set';
import { intsAttribute, randomTensor } from '../../src/onnx/build';
import { attrInt, attrInts, Graph, intAttribute, makeNode } from '../../src/onnx/graph';
import { rng } from '../../src/common/random';
import type { InputMoments } from '../../src/quant/weight-rounding';
import { buildModel, presetPreprocessing, tempDir, valueInfo, writeImageNpy } from '../fixtures/models';

const SAMPLES = 6;
const SIZE = 16;

function branchesModel() {
  const r = rng(11);
  const conv = (name: string, input: string, w: number[], attributes: ReturnType<typeof intAttribute>[]) =>
    makeNode('Conv', [input, `w_${name}`], [`y_${name}`], name, [intsAttribute('kernel_shape', w.slice(2)), ...attributes]);
  const weights: [string, number[]][] = [['dw', [4, 1, 3, 3]], ['dense', [8, 4, 3, 3]], ['pw', [6, 4, 1, 1]], ['direct', [5, 4, 1, 1]], ['wide', [3, 4, 3, 3]]];
  const dims = new Map(weights);
  const nodes = [
    conv('dw', 'x', dims.get('dw')!, [intAttribute('group', 4), intsAttribute('pads', [1, 1, 1, 1])]),
    conv('dense', 'x', dims.get('dense')!, [intsAttribute('strides', [2, 2]), intsAttribute('pads', [1, 1, 1, 1])]),
    conv('pw', 'x', dims.get('pw')!, []),
    makeNode('AveragePool', ['x'], ['pooled'], 'pool', [intsAttribute('kernel_shape', [4, 4]), intsAttribute('strides', [4, 4])]),
    conv('direct', 'pooled', dims.get('direct')!, []),
    conv('wide', 'pooled', dims.get('wide')!, [intsAttribute('pads', [1, 1, 1, 1])]),
  ];
  const outputs = weights.map(([name, w]) => valueInfo(`y_${name}`, ['N', w[0], name === 'dense' ? SIZE / 2 : name === 'direct' || name === 'wide' ? SIZE / 4 : SIZE, name === 'dense' ? SIZE / 2 : name === 'direct' || name === 'wide' ? SIZE / 4 : SIZE]));
  return buildModel(nodes, weights.map(([name, w]) => randomTensor(`w_${name}`, w, r, 0.3)), [valueInfo('x', ['N', 4, SIZE, SIZE])], outputs, 13, 'octet-test-fixture');
}

/** The layer's input for sample `s`: the model input, or its 4×4 average pool. */
function layerInput(x: Float32Array, s: number, pooled: boolean): { data: Float64Array; h: number; w: number } {
  const plane = SIZE * SIZE;
  const at = (c: number, y: number, xx: number) => x[s * 4 * plane + c * plane + y * SIZE + xx];
  if (!pooled) return { data: Float64Array.from({ length: 4 * plane }, (_, i) => at(Math.floor(i / plane), Math.floor((i % plane) / SIZE), i % SIZE)), h: SIZE, w: SIZE };
  const side = SIZE / 4;
  const data = new Float64Array(4 * side * side);
  for (let c = 0; c < 4; c++) for (let y = 0; y < side; y++) for (let xx = 0; xx < side; xx++) {
    let sum = 0;
    for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += at(c, y * 4 + dy, xx * 4 + dx);
    data[c * side * side + y * side + xx] = sum / 16;
  }
  return { data, h: side, w: side };
}

/** Σ x xᵀ, Σ x and the count of the im2col vectors the target keeps, in float64. */
function expectedMoments(graph: Graph, target: MomentTarget, x: Float32Array): InputMoments {
  const node = graph.nodes.find((n) => n.name === target.node)!;
  const [, perGroup, kh, kw] = graph.initializers.get(node.input[1])!.dims.map(Number);
  const [sy, sx] = (attrInts(node, 'strides') ?? [1, 1]).map((v) => v * target.step);
  const [pt, pl, pb, pr] = attrInts(node, 'pads') ?? [0, 0, 0, 0];
  const groups = attrInt(node, 'group', 1);
  const blocks = groups * target.blocksPerGroup;
  const channelsPerBlock = perGroup / target.blocksPerGroup;
  const secondMoments = new Float64Array(blocks * target.size * target.size);
  const sums = new Float64Array(blocks * target.size);
  let count = 0;
  for (let s = 0; s < SAMPLES; s++) {
    const { data, h, w } = layerInput(x, s, node.input[0] === 'pooled');
    const outH = Math.floor((h + pt + pb - kh) / sy) + 1;
    const outW = Math.floor((w + pl + pr - kw) / sx) + 1;
    for (let oy = 0; oy < outH; oy++) for (let ox = 0; ox < outW; ox++) {
      count++;
      for (let b = 0; b < blocks; b++) {
        const firstChannel = Math.floor(b / target.blocksPerGroup) * perGroup + (b % target.blocksPerGroup) * channelsPerBlock;
        const v = new Float64Array(target.size);
        for (let c = 0; c < channelsPerBlock; c++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) {
          const [iy, ix] = [oy * sy - pt + ky, ox * sx - pl + kx];
          v[(c * kh + ky) * kw + kx] = iy >= 0 && iy < h && ix >= 0 && ix < w ? data[((firstChannel + c) * h + iy) * w + ix] : 0;
        }
        for (let i = 0; i < target.size; i++) {
          sums[b * target.size + i] += v[i];
          for (let j = 0; j < target.size; j++) secondMoments[(b * target.size + i) * target.size + j] += v[i] * v[j];
        }
      }
    }
  }
  return { groups, blocksPerGroup: target.blocksPerGroup, size: target.size, secondMoments, sums, count };
}

test('input moments from ONNX Runtime equal the im2col vectors’ Σ x xᵀ and Σ x computed directly', async () => {
  const model = branchesModel();
  const dir = tempDir();
  const modelPath = join(dir, 'branches.onnx');
  const input = describeInput(model, modelPath);
  const npy = writeImageNpy(dir, SAMPLES, [4, SIZE, SIZE], 5);
  const data = await openDataset(npy, { input, preprocessing: presetPreprocessing('raw', null) });
  const samples = await openSampleSet(data, splitIndices(data.size, SAMPLES, 0), input, 4);
  const parts: Float32Array[] = [];
  for await (const batch of samples.batches()) parts.push(batch.data.slice());
  const x = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => { x.set(p, at); return at + p.length; }, 0);
  const graph = new Graph(model.graph!);
  const facts = await probeTensors(model, 'x', x.subarray(0, 4 * SIZE * SIZE), [1, 4, SIZE, SIZE], modelPath);
  const plan = planMoments(graph, graph.nodes.filter((n) => n.op_type === 'Conv'), facts, DEFAULT_MOMENT_LIMITS, SAMPLES);
  assert.deepEqual(plan.skipped, []);
  const byNode = new Map(plan.targets.map((t) => [t.node, t]));
  assert.ok(byNode.get('dw')!.step > 1 && byNode.get('pw')!.step > 1, 'the full-size layers are subsampled');
  assert.equal(byNode.get('direct')!.step, 1);
  const gathered = await collectInputMoments(model, plan.targets, samples, input, { threads: 1 }, modelPath);
  for (const target of plan.targets) {
    const got = gathered.get(target.node)!;
    const want = expectedMoments(graph, target, x);
    assert.equal(got.count, want.count, `${target.node}: vectors`);
    assert.deepEqual([got.groups, got.blocksPerGroup, got.size], [want.groups, want.blocksPerGroup, want.size], target.node);
    for (const [what, a, b] of [['Σ x xᵀ', got.secondMoments, want.secondMoments], ['Σ x', got.sums, want.sums]] as const) {
      assert.equal(a.length, b.length, `${target.node} ${what}`);
      const scale = Math.max(...b.map(Math.abs));
      for (let i = 0; i < b.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * scale, `${target.node} ${what}[${i}]: ${a[i]} vs ${b[i]}`);
    }
  }
});
