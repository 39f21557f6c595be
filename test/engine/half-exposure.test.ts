// Calibration exposes large tensors in half precision: min, max and R equal the float32 ones (the exact extent comes
// from ReduceMin/ReduceMax, in any opset), the count is that of every p-th value (sampleStride: 3 and 5 here); the
// histogram's cumulative shares stay within 1 % of the float32 one everywhere and it is not shifted by the rounding
// (its mean stays within a tenth of a bin of the float32 histogram's, plus the sampling error, where the values
// rounded to halves, as ONNX Runtime's Cast rounds them, sit higher); a tensor beyond ±65504 or with a tiny range is
// measured again in float32 (one more pass) and is exact. The counting stride is a prime dividing no length of the
// tensor, and the probe's walk runs on across the runs that fetch it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDataset, splitIndices } from '../../src/data/dataset';
import { describeInput } from '../../src/data/model-input';
import { collectStatistics, forEachBatch } from '../../src/engine/runtime/calibrate';
import { HALF_MIN_VALUES, HALF_SAMPLED_VALUES, PickWalks, sampleStride } from '../../src/engine/runtime/half-exposure';
import { openSampleSet } from '../../src/engine/runtime/sample-set';
import { intsAttribute, randomTensor } from '../../src/onnx/build';
import { intAttribute, makeNode } from '../../src/onnx/graph';
import type { ModelProto } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { rng } from '../../src/common/random';
import { halfToFloat } from '../../src/onnx/tensor';
import { TensorStats } from '../../src/quant/histogram';
import { toHalfBits } from '../fixtures/half';
import { buildModel, presetPreprocessing, tempDir, valueInfo, writeImageNpy } from '../fixtures/models';

/** [N,4,128,128] → Conv → Relu, and two tensors a half cannot hold: ×1e5 (beyond 65504) and ×1e-5 (tiny range). */
function wideModel(opset: number): ModelProto {
  const r = rng(5);
  return buildModel([
    makeNode('Conv', ['x', 'w', 'b'], ['c'], 'conv', [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1]), intAttribute('group', 1)]),
    makeNode('Relu', ['c'], ['r'], 'relu'),
    makeNode('Mul', ['r', 'big'], ['huge'], 'scale_up'),
    makeNode('Mul', ['r', 'small'], ['tiny'], 'scale_down'),
    makeNode('Add', ['huge', 'tiny'], ['out'], 'add'),
  ], [randomTensor('w', [8, 4, 3, 3], r, 0.3), randomTensor('b', [8], r, 0.1), makeTensor('big', [], Float32Array.of(1e5)),
    makeTensor('small', [], Float32Array.of(1e-5))],
  [valueInfo('x', ['N', 4, 128, 128])], [valueInfo('out', ['N', 8, 128, 128])], opset);
}

const DIMS: Record<string, number[]> = { x: [1, 4, 128, 128], c: [1, 8, 128, 128], r: [1, 8, 128, 128], huge: [1, 8, 128, 128], tiny: [1, 8, 128, 128] };

for (const opset of [13, 18]) {
  test(`large tensors leave ONNX Runtime in half precision with their exact extent; out-of-range ones are measured again in float32 (opset ${opset})`, async () => {
    assert.ok(4 * 128 * 128 >= HALF_MIN_VALUES, 'the input is large enough to be exposed in half precision');
    const model = wideModel(opset);
    const dir = tempDir();
    const modelPath = join(dir, 'wide.onnx');
    const input = describeInput(model, modelPath);
    const data = await openDataset(writeImageNpy(dir, 10, [4, 128, 128], 3), { input, preprocessing: presetPreprocessing('raw', null) });
    const samples = await openSampleSet(data, splitIndices(data.size, 10, 0), input, 4, { passes: 4 });
    const tensors = Object.keys(DIMS);
    const exact = await collectStatistics(model, tensors, samples, input, { threads: 1 }, modelPath);
    const half = await collectStatistics(model, tensors, samples, input, { threads: 1, tensorDims: (t) => DIMS[t] }, modelPath);
    assert.equal(exact.passes, 1);
    assert.equal(half.passes, 2, 'one pass in half precision, one more for the two tensors a half cannot hold');
    assert.equal(half.images, 10);

    // The values the half histogram picks (every stride-th of the batches' concatenation), rounded to halves here
    // (round to nearest even) and binned as points.
    const rounded = new Map<string, TensorStats>();
    const picks = new Map<string, TensorStats>();
    const seen = new Map<string, number>();
    await forEachBatch(model, ['x', 'c', 'r'], samples, input, { threads: 1 }, modelPath, (t, value) => {
      const stats = rounded.get(t) ?? new TensorStats();
      const stride = sampleStride(DIMS[t].reduce((a, b) => a * b, 1));
      const data = value.data as Float32Array;
      const offset = seen.get(t) ?? 0;
      const picked = data.filter((_, i) => (offset + i) % stride === 0);
      stats.update(Float32Array.from(picked, (v) => halfToFloat(toHalfBits(v))));
      rounded.set(t, stats);
      const exactPicks = picks.get(t) ?? new TensorStats();
      exactPicks.update(picked);
      picks.set(t, exactPicks);
      seen.set(t, offset + data.length);
    });
    const mean = (s: TensorStats): number => {
      const bins = s.bins;
      let sum = 0;
      for (let i = 0; i < bins.length; i++) sum += bins[i] * (s.binEdge(i) + s.binWidth / 2);
      return sum / s.count;
    };
    const deviation = (s: TensorStats, m: number): number => {
      const bins = s.bins;
      let sum = 0;
      for (let i = 0; i < bins.length; i++) sum += bins[i] * (s.binEdge(i) + s.binWidth / 2 - m) ** 2;
      return Math.sqrt(sum / s.count);
    };
    for (const t of ['x', 'c', 'r']) {
      const got = half.stats.get(t)!;
      const want = exact.stats.get(t)!;
      // x (65536 values per sample) is counted on every third value, c and r (131072) on every fifth, across the batches.
      const stride = sampleStride(DIMS[t].reduce((a, b) => a * b, 1));
      assert.equal(stride, t === 'x' ? 3 : 5);
      assert.equal(got.min, want.min, `${t}: exact min`);
      assert.equal(got.max, want.max, `${t}: exact max`);
      assert.equal(got.count, Math.ceil(want.count / stride), `${t}: count`);
      assert.equal(got.range, want.range, `${t}: R`);
      const a = got.bins;
      const b = want.bins;
      let cumA = 0;
      let cumB = 0;
      let worst = 0;
      for (let i = 0; i < a.length; i++) {
        cumA += a[i] / got.count;
        cumB += b[i] / want.count;
        worst = Math.max(worst, Math.abs(cumA - cumB));
      }
      assert.ok(worst <= 0.01, `${t}: cumulative shares within 1 % (${worst})`);
      // Rounding must not shift the histogram: within a tenth of a bin, plus 4 standard errors of a sampled mean.
      const allowed = 0.1 + (stride > 1 ? 4 * deviation(want, mean(want)) / Math.sqrt(got.count) / want.binWidth : 0);
      const shift = Math.abs(mean(got) - mean(want)) / want.binWidth;
      assert.ok(shift < allowed, `${t}: histogram mean within ${allowed.toFixed(2)} bins of float32's (${shift.toFixed(3)} bins)`);
      if (t === 'x') {
        // Against the float32 histogram of the same picks (no sampling error): spread, the halves stay within a tenth
        // of a bin of it; as points they sit higher.
        const same = picks.get(t)!;
        assert.equal(same.count, got.count, `${t}: the same picks`);
        const spreadShift = Math.abs(mean(got) - mean(same)) / want.binWidth;
        const pointShift = Math.abs(mean(rounded.get(t)!) - mean(same)) / want.binWidth;
        assert.ok(spreadShift < 0.1, `${t}: spread over their rounding intervals, within a tenth of a bin (${spreadShift.toFixed(3)})`);
        assert.ok(pointShift > 2 * spreadShift, `${t}: the rounded values as points sit higher (${pointShift.toFixed(3)} vs ${spreadShift.toFixed(3)} bins)`);
      }
    }
    for (const t of ['huge', 'tiny']) {
      assert.deepEqual(half.stats.get(t)!.state(), exact.stats.get(t)!.state(), `${t}: measured again in float32, exact`);
    }
  });
}

test('the counting stride of a large tensor is a prime of at least values / budget that divides no length of it', () => {
  assert.equal(sampleStride(2 * HALF_SAMPLED_VALUES - 1), 1, 'below twice the budget: every value');
  for (const dims of [[64, 112, 112], [256, 56, 56], [1024, 14, 14], [2048, 7, 7], [3, 640, 640], [96, 160, 160], [131072], [1, 2, 3, 5, 7, 11, 13]]) {
    const values = dims.reduce((a, b) => a * b, 1);
    const p = sampleStride(values);
    if (values < 2 * HALF_SAMPLED_VALUES) {
      assert.equal(p, 1, `[${dims}]`);
      continue;
    }
    assert.ok(p >= Math.floor(values / HALF_SAMPLED_VALUES), `[${dims}]: stride ${p} keeps about the budget`);
    for (let d = 2; d * d <= p; d++) assert.notEqual(p % d, 0, `[${dims}]: stride ${p} is prime`);
    for (let k = 1; k <= dims.length; k++) {
      const inner = dims.slice(dims.length - k).reduce((a, b) => a * b, 1);
      assert.notEqual(inner % p, 0, `[${dims}]: stride ${p} divides no row, plane or channel length (${inner})`);
    }
  }
});

test('the half probe picks every p-th value of a large tensor, the walk running on across the runs that fetch it, and sees every phase of a 2×2 pattern', () => {
  // [2, 8, 128, 128]: 131072 values per sample, stride 5; the value depends on (row, column) mod 2, as after a
  // stride-2 transposed convolution. Three runs (2, 1, 2 samples): the picks are global positions 0, 5, 10, … of their
  // concatenation; a run that does not fetch the tensor neither counts nor moves its walk.
  const perSample = 8 * 128 * 128;
  const stride = sampleStride(perSample);
  assert.equal(stride, 5);
  const walks = new PickWalks(new Map([['t', { values: 't_half', extent: 't_extent', walk: { start: 't_pick_start', stride, perSample } }]]));
  const phaseValue = [0.5, 1, 2, 4];
  const valueAt = (i: number) => phaseValue[((i >> 7) & 1) * 2 + (i & 1)];
  const picked: number[] = [];
  const shares = new Map<number, number>();
  let offset = 0;
  for (const [samples, fetched] of [[2, true], [1, false], [1, true], [2, true]] as const) {
    const feeds = walks.feeds(samples, new Set(fetched ? ['t_half'] : ['other']));
    const start = Number(feeds.t_pick_start.data[0]);
    if (!fetched) {
      assert.equal(start, 0, 'a run that does not fetch the tensor starts at 0');
      continue;
    }
    const length = samples * perSample;
    for (let i = start; i < length; i += stride) {
      picked.push(offset + i);
      const v = valueAt(i % perSample);
      shares.set(v, (shares.get(v) ?? 0) + 1);
    }
    offset += length;
  }
  assert.equal(picked.length, Math.ceil(offset / stride));
  picked.forEach((g, k) => assert.equal(g, k * stride, `pick ${k} at global position ${k * stride}`));
  for (const v of phaseValue) assert.ok(Math.abs(shares.get(v)! / picked.length - 0.25) < 0.01, `phase value ${v}: ${shares.get(v)} picks`);
});
