// Output kinds and the agreement measure that fits each: classification (same top-1), maps (same class per pixel, or
// same side of the threshold for one-class masks), sequences (same class per step), other (no agreement). Scored
// batch by batch; the result must not depend on how samples were batched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyOutput, OutputScorer } from '../../src/engine/runtime/output-scores';
import { primaryAgreement } from '../../src/common/accuracy';

test('output kinds follow the shape (and the layout for rank-4 maps)', () => {
  assert.equal(classifyOutput([4, 1000], 'NCHW').kind, 'classification');
  assert.equal(classifyOutput([4, 10, 1, 1], 'NCHW').kind, 'classification');
  assert.equal(classifyOutput([4, 1, 1, 10], 'NHWC').kind, 'classification');
  assert.deepEqual(classifyOutput([2, 21, 8, 6], 'NCHW'), { kind: 'map', classes: 21, positions: 48, classStride: 48 });
  assert.deepEqual(classifyOutput([2, 8, 6, 21], 'NHWC'), { kind: 'map', classes: 21, positions: 48, classStride: 1 });
  assert.deepEqual(classifyOutput([1, 1, 64, 64], 'NCHW'), { kind: 'map', classes: 1, positions: 4096, classStride: 4096 });
  assert.deepEqual(classifyOutput([2, 40, 6625], 'NCHW'), { kind: 'sequence', classes: 6625, positions: 40, classStride: 1 });
  assert.equal(classifyOutput([1, 6300, 85], 'NCHW').kind, 'other', 'many rows of few mixed attributes: a detection head');
  assert.equal(classifyOutput([3, 1], 'NCHW').kind, 'other', 'one value per sample');
  assert.equal(classifyOutput([3, 2, 2, 2, 2], 'NCHW').kind, 'other');
});

function tensor(dims: number[], fill: (i: number) => number) {
  const n = dims.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, (_, i) => fill(i)), dims };
}

test('map agreement counts pixels whose argmax over classes matches (NCHW planes)', () => {
  // 2 classes × 2×2 pixels, one sample. FP32 picks class 1 at every pixel; INT8 flips pixel 3 to class 0.
  const fp32 = tensor([1, 2, 2, 2], (i) => (i < 4 ? 0 : 1));
  const int8 = tensor([1, 2, 2, 2], (i) => (i < 4 ? (i === 3 ? 2 : 0) : 1));
  const scorer = new OutputScorer(['out'], 'NCHW');
  scorer.add({ out: fp32 }, { out: int8 }, [null], 1);
  const result = scorer.result();
  const out = result.outputs![0];
  assert.equal(out.kind, 'map');
  assert.equal(out.agreement, 0.75);
  assert.equal(out.agreementMeasure, 'pixels with the same class');
  assert.equal(result.agreement, null, 'top-level agreement is for classifiers only');
  assert.equal(result.labelled, false, 'labels do not apply to a map');
  assert.deepEqual(primaryAgreement(result), { value: 0.75, measure: 'pixels with the same class', output: 'out' });
});

test('one-class masks compare against 0.5 when the output is a probability, 0 when it is a logit', () => {
  const probs = new OutputScorer(['mask'], 'NCHW');
  probs.add({ mask: tensor([1, 1, 1, 4], (i) => [0.1, 0.4, 0.6, 0.9][i]) }, { mask: tensor([1, 1, 1, 4], (i) => [0.1, 0.55, 0.6, 0.9][i]) }, [null], 1);
  const p = probs.result().outputs![0];
  assert.equal(p.threshold, 0.5);
  assert.equal(p.agreement, 0.75);
  const logits = new OutputScorer(['mask'], 'NCHW');
  logits.add({ mask: tensor([1, 1, 1, 4], (i) => [-2, -0.1, 3, 4][i]) }, { mask: tensor([1, 1, 1, 4], (i) => [-2, 0.1, 3, 4][i]) }, [null], 1);
  const l = logits.result().outputs![0];
  assert.equal(l.threshold, 0);
  assert.equal(l.agreement, 0.75);
});

test('sequence agreement counts steps with the same class; other outputs get none; batching does not matter', () => {
  // 2 samples × 3 steps × 4 classes; INT8 changes step 2 of sample 1.
  const fp32 = tensor([2, 3, 4], (i) => (i % 4 === Math.floor(i / 4) % 4 ? 1 : 0));
  const changed = Float32Array.from(fp32.data);
  changed[12 + 8 + 3] = 5;
  const int8 = { data: changed, dims: [2, 3, 4] };
  const head = tensor([2, 10, 5], (i) => i);
  const headQ = tensor([2, 10, 5], (i) => i + 0.5);
  const whole = new OutputScorer(['seq', 'head'], 'NCHW');
  whole.add({ seq: fp32, head }, { seq: int8, head: headQ }, [1, 2], 2);
  const split = new OutputScorer(['seq', 'head'], 'NCHW');
  const half = (t: { data: Float32Array; dims: number[] }, s: number) => ({ data: t.data.subarray(s * t.data.length / 2, (s + 1) * t.data.length / 2), dims: [1, ...t.dims.slice(1)] });
  for (const s of [0, 1]) split.add({ seq: half(fp32, s), head: half(head, s) }, { seq: half(int8, s), head: half(headQ, s) }, [s + 1], 1);
  for (const result of [whole.result(), split.result()]) {
    const [seq, other] = result.outputs!;
    assert.equal(seq.kind, 'sequence');
    assert.equal(seq.agreement, 0.833333);
    assert.equal(other.kind, 'other');
    assert.equal(other.agreement, null);
    assert.equal(other.maxAbsError, 0.5);
    assert.equal(result.agreement, null);
  }
  assert.deepEqual(whole.result(), split.result());
});

test('classifiers keep top-1/top-5 against labels and top-level agreement', () => {
  const scorer = new OutputScorer(['logits'], 'NCHW');
  // 3 samples, 6 classes: FP32 argmax = sample index; INT8 flips sample 2 to class 5.
  const fp32 = tensor([3, 6], (i) => (i % 6 === Math.floor(i / 6) ? 10 : i % 6));
  const int8 = Float32Array.from(fp32.data);
  int8[2 * 6 + 5] = 20;
  scorer.add({ logits: fp32 }, { logits: { data: int8, dims: [3, 6] } }, [0, 1, 2], 3);
  const r = scorer.result();
  assert.equal(r.labelled, true);
  assert.equal(r.fp32!.top1, 1);
  assert.equal(Math.round(r.int8!.top1 * 1e6) / 1e6, 0.666667);
  assert.equal(r.top1DropPoints, 33.333333);
  assert.equal(r.agreement, 0.666667);
  assert.equal(r.outputs![0].kind, 'classification');
  assert.equal(r.outputs![0].agreementMeasure, 'top-1 class');
});
