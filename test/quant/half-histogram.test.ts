// Half-precision histograms: float16 patterns decode to their values; counted values equal streaming every copy; an
// exact extent grows R as streaming the unrounded values would; a value spread over its rounding interval shares its
// count among the bins it overlaps; the reducing thread's half-histogram equals adding each pattern with its count and
// interval (striped tables, ReLU zeros, several batches); the extent reduction keeps min/max and NaN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../../src/common/random';
import { HALF_MAX, halfRoundingIntervals, halfValues } from '../../src/quant/half-float';
import { halfToFloat } from '../../src/onnx/tensor';
import { TensorStats } from '../../src/quant/histogram';
import { newReduction } from '../../src/quant/tensor-reductions';
import { toHalfBits } from '../fixtures/half';

function assertSameStats(actual: TensorStats, expected: TensorStats, label = ''): void {
  assert.equal(actual.range, expected.range, `${label} range`);
  assert.equal(actual.min, expected.min, `${label} min`);
  assert.equal(actual.max, expected.max, `${label} max`);
  assert.equal(actual.count, expected.count, `${label} count`);
  assert.equal(actual.nonFinite, expected.nonFinite, `${label} nonFinite`);
  assert.deepEqual(Array.from(actual.bins), Array.from(expected.bins), `${label} bins`);
}

test('float16 patterns decode to their values, ±Infinity and NaN included', () => {
  assert.equal(halfToFloat(0x3c00), 1);
  assert.equal(halfToFloat(0xc000), -2);
  assert.equal(halfToFloat(0x7bff), HALF_MAX);
  assert.equal(halfToFloat(0x0001), 2 ** -24);
  assert.equal(halfToFloat(0x0400), 2 ** -14);
  assert.equal(halfToFloat(0x3555), 0.333251953125);
  assert.equal(halfToFloat(0x8000), -0);
  assert.equal(halfToFloat(0x7c00), Infinity);
  assert.equal(halfToFloat(0xfc00), -Infinity);
  assert.ok(Number.isNaN(halfToFloat(0x7e00)));
  const values = halfValues();
  for (const bits of [0, 1, 0x3c00, 0x7bff, 0x7c00, 0xfbff, 0xfe01]) {
    assert.ok(Object.is(values[bits], halfToFloat(bits)) || (Number.isNaN(values[bits]) && Number.isNaN(halfToFloat(bits))), `pattern ${bits}`);
  }
});

test('values added with counts equal streaming every copy, across growing ranges and non-finite values', () => {
  const next = rng(3);
  const streamed = new TensorStats({ bins: 64 });
  const counted = new TensorStats({ bins: 64 });
  for (const scale of [0.3, 5, 2, 40]) {
    const values = new Float32Array(20).map(() => (next() - 0.5) * scale);
    values[3] = 0;
    values[7] = NaN;
    const counts = new Float64Array(20).map(() => 1 + Math.floor(next() * 4));
    counted.addCounted(values, counts, 18);
    const copies: number[] = [];
    for (let i = 0; i < 18; i++) for (let c = 0; c < counts[i]; c++) copies.push(values[i]);
    streamed.update(Float32Array.from(copies));
  }
  assertSameStats(counted, streamed);
  assert.ok(counted.nonFinite > 0);
});

test('an exact extent replaces the rounded one and grows R as the unrounded values would', () => {
  // 2.0001 rounds to 2 in float16: the rounded values give R = 2, the exact extent R = 4.
  const exact = Float32Array.of(-0.5, 1, 2.0001);
  const rounded = exact.map((v) => halfToFloat(toHalfBits(v)));
  assert.equal(rounded[2], 2);
  const stats = new TensorStats({ bins: 16 });
  stats.addCounted(rounded, Float64Array.of(1, 1, 1));
  assert.equal(stats.range, 2);
  stats.setExactExtent(-0.5, Math.fround(2.0001));
  const expected = new TensorStats({ bins: 16 });
  expected.update(rounded);
  expected.update(Float32Array.of(Math.fround(2.0001)));
  assert.equal(stats.range, 4);
  assert.equal(stats.max, Math.fround(2.0001));
  assert.equal(stats.min, -0.5);
  // Same bins as the rounded values streamed over R = 4 (the extra value only opened the range, so take it out).
  const bins = Array.from(expected.bins);
  bins[Math.floor(Math.fround(2.0001) * 2) + 8]--;
  assert.deepEqual(Array.from(stats.bins), bins);
  assert.throws(() => stats.setExactExtent(0, Infinity), /not a finite extent/);
});

test('a value spread over an interval shares its count among the bins it overlaps; a point interval stays a point', () => {
  // 8 bins over [-4, 4): bin width 1, bin 4 = [0, 1), bin 5 = [1, 2).
  const stats = new TensorStats({ bins: 8 });
  stats.addCounted(Float32Array.of(1, 3, 0), Float64Array.of(4, 2, 5), 3,
    { lows: Float32Array.of(0.75, 3, 0), highs: Float32Array.of(1.25, 3, 0) });
  assert.equal(stats.range, 4);
  assert.equal(stats.count, 11);
  assert.deepEqual(Array.from(stats.bins), [0, 0, 0, 0, 5 + 2, 2, 0, 2]);
  // Clipped to [-R, R]: an interval reaching past +R keeps its whole count inside.
  const edge = new TensorStats({ bins: 8 });
  edge.addCounted(Float32Array.of(4), Float64Array.of(3), 1, { lows: Float32Array.of(3.5), highs: Float32Array.of(4.5) });
  assert.deepEqual(Array.from(edge.bins), [0, 0, 0, 0, 0, 0, 0, 3]);
});

test('every float32 value lies in the rounding interval of the float16 pattern it rounds to', () => {
  const { lows, highs } = halfRoundingIntervals();
  const next = rng(5);
  for (let i = 0; i < 20000; i++) {
    const x = Math.fround((next() - 0.5) * 2 ** (Math.floor(next() * 40) - 24));
    const bits = toHalfBits(x);
    if (!Number.isFinite(halfToFloat(bits)) || (bits & 0x7fff) === 0) continue;
    assert.ok(lows[bits] <= x && x <= highs[bits], `${x} in [${lows[bits]}, ${highs[bits]}] of pattern ${bits}`);
  }
  assert.equal(highs[0x7bff], 65520);
  assert.equal(lows[0], 0);
  assert.equal(highs[0], 0);
});

test('the half-histogram reduction equals adding each pattern once with its count over all batches and its interval: striped batches, ReLU zeros, NaN, a growing range', () => {
  const next = rng(11);
  const reduction = newReduction('half-histogram');
  const { lows, highs } = halfRoundingIntervals();
  const addPatterns = (stats: TensorStats, seen: Map<number, number>): void => {
    const patterns = [...seen.keys()].sort((a, b) => a - b);
    stats.addCounted(Float32Array.from(patterns, (p) => halfToFloat(p)), Float64Array.from(patterns, (p) => seen.get(p)!), patterns.length,
      { lows: Float32Array.from(patterns, (p) => lows[p]), highs: Float32Array.from(patterns, (p) => highs[p]) });
  };
  const total = new Map<number, number>();
  // What adding every batch's patterns as they come gives: the same histogram up to rounding (a bin of a smaller R
  // is merged into a bin of the final one).
  const batchByBatch = new TensorStats();
  for (const [n, scale] of [[70001, 3], [4096, 0.01], [3, 100], [131071, 6]] as const) {
    const values = new Float32Array(n).map(() => Math.max(0, (next() - 0.3) * scale));
    values[1] = NaN;
    const bits = Uint16Array.from(values, (v) => toHalfBits(v));
    reduction.update(bits, [n]);
    const seen = new Map<number, number>();
    for (const b of bits) seen.set(b, (seen.get(b) ?? 0) + 1);
    for (const [b, c] of seen) total.set(b, (total.get(b) ?? 0) + c);
    addPatterns(batchByBatch, seen);
  }
  const expected = new TensorStats();
  addPatterns(expected, total);
  const result = reduction.result();
  assert.equal(result.kind, 'half-histogram');
  if (result.kind !== 'half-histogram') return;
  const got = TensorStats.fromState(result.stats);
  assertSameStats(got, expected);
  assert.ok(got.nonFinite === 4, 'the NaN of each batch');
  assert.equal(batchByBatch.range, got.range);
  assert.equal(batchByBatch.count, got.count);
  const [a, b] = [batchByBatch.bins, got.bins];
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-9 * got.count, `bin ${i}: ${a[i]} batch by batch, ${b[i]} at the end`);
  assert.throws(() => reduction.update(new Float32Array(4), [4]), /float16 bit patterns/);
  assert.throws(() => newReduction('histogram').update(new Uint16Array(4), [4]), /float32 values/);
});

test('the extent reduction keeps the smallest min and the largest max, and NaN when one was NaN', () => {
  const extent = newReduction('extent');
  extent.update(Float32Array.of(-1, 3), [2]);
  extent.update(Float32Array.of(-4, 2), [2]);
  assert.deepEqual(extent.result(), { kind: 'extent', min: -4, max: 3 });
  extent.update(Float32Array.of(NaN, 1), [2]);
  const r = extent.result();
  assert.ok(r.kind === 'extent' && Number.isNaN(r.min));
  assert.throws(() => extent.update(Float32Array.of(1, 2, 3), [3]), /expected \[min, max\]/);
});
