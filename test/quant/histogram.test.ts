import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../../src/common/random';
import { TensorStats } from '../../src/quant/histogram';

function uniformValues(n: number, lo: number, hi: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) { out.set(p, offset); offset += p.length; }
  return out;
}

function statsOf(bins: number, ...batches: Float32Array[]): TensorStats {
  const stats = new TensorStats({ bins });
  for (const b of batches) stats.update(b);
  return stats;
}

function assertSameStats(actual: TensorStats, expected: TensorStats): void {
  assert.equal(actual.range, expected.range);
  assert.equal(actual.min, expected.min);
  assert.equal(actual.max, expected.max);
  assert.equal(actual.count, expected.count);
  assert.equal(actual.nonFinite, expected.nonFinite);
  assert.deepEqual(Array.from(actual.bins), Array.from(expected.bins));
}

test('a small batch lands in the bins computed by hand', () => {
  // max |x| = 3 → R = 4; 8 bins of width 1 over [-4, 4): -3 → bin 1, 0.5 → bin 4, 2 → bin 6.
  const stats = statsOf(8, Float32Array.of(-3, 0.5, 2));
  assert.equal(stats.range, 4);
  assert.equal(stats.binWidth, 1);
  assert.equal(stats.min, -3);
  assert.equal(stats.max, 2);
  assert.equal(stats.count, 3);
  assert.deepEqual(Array.from(stats.bins), [0, 1, 0, 0, 1, 0, 1, 0]);
  assert.equal(stats.binEdge(0), -4);
  assert.equal(stats.binEdge(3), -1);
  assert.equal(stats.binEdge(8), 4);
});

test('R is the smallest power of two at least max |x|, and +R itself counts in the last bin', () => {
  assert.equal(statsOf(8, Float32Array.of(0.3)).range, 0.5);
  assert.equal(statsOf(8, Float32Array.of(-4.5)).range, 8);
  const exact = statsOf(8, Float32Array.of(4, -4));
  assert.equal(exact.range, 4);
  assert.deepEqual(Array.from(exact.bins), [1, 0, 0, 0, 0, 0, 0, 1]);
  assert.equal(statsOf(8, Float32Array.of(1e-30)).range, 2 ** Math.ceil(Math.log2(Math.fround(1e-30))));
});

test('growing R keeps every count and equals a histogram built in one go', () => {
  const small = uniformValues(5000, -1, 1, 1);
  small[17] = 1; // exactly at the first R: must move up correctly when R doubles
  small[18] = -1;
  const medium = uniformValues(3000, -3, 2.5, 2); // R 1 → 4
  const large = uniformValues(2000, -40, 0, 3); // R 4 → 64
  const grown = statsOf(256, small, medium, large);
  const oneGo = statsOf(256, concat(small, medium, large));
  assertSameStats(grown, oneGo);
  assert.equal(grown.range, 64);
  assert.equal(grown.bins.reduce((a, b) => a + b, 0), 10000);
  const otherOrder = statsOf(256, large, small, medium);
  assertSameStats(otherOrder, oneGo);
});

test('a large batch (striped, in blocks, growing mid-batch) equals many small batches', () => {
  const values = uniformValues(70000, -0.5, 0.5, 4);
  for (let i = 0; i < values.length; i += 3) values[i] = 0; // long runs into one bin, as after a ReLU
  values[60000] = 7; // the range grows in a late block
  const inOne = statsOf(4096, values);
  const inPieces = new TensorStats({ bins: 4096 });
  for (let i = 0; i < values.length; i += 100) inPieces.update(values.subarray(i, i + 100));
  assertSameStats(inOne, inPieces);
  assert.equal(inOne.range, 8);
  assert.equal(inOne.count, 70000);
  // Zeros sit in the bin starting at 0.
  assert.ok(inOne.bins[2048] >= Math.ceil(70000 / 3));
});

test('merge equals streaming both inputs into one', () => {
  const a = uniformValues(4000, -0.7, 0.9, 5);
  const b = uniformValues(3000, -12, 3, 6);
  const single = statsOf(512, a, b);
  const left = statsOf(512, a);
  left.merge(statsOf(512, b)); // smaller range merges a larger one
  assertSameStats(left, single);
  const right = statsOf(512, b);
  right.merge(statsOf(512, a)); // larger range merges a smaller one
  assertSameStats(right, single);
  const empty = new TensorStats({ bins: 512 });
  empty.merge(single);
  assertSameStats(empty, single);
});

test('merge with a histogram of zeros only, and a histogram merged with itself', () => {
  const zeros = statsOf(64, new Float32Array(10));
  const values = uniformValues(500, -2, 2, 7);
  const merged = statsOf(64, values);
  merged.merge(zeros);
  assertSameStats(merged, statsOf(64, new Float32Array(10), values));
  const doubled = statsOf(64, values);
  doubled.merge(doubled);
  assertSameStats(doubled, statsOf(64, values, values));
});

test('NaN and ±Infinity are counted apart and left out of min, max and the histogram', () => {
  const stats = statsOf(16, Float32Array.of(1, NaN, -2, Infinity, -Infinity, 0.5));
  assert.equal(stats.nonFinite, 3);
  assert.equal(stats.count, 3);
  assert.equal(stats.min, -2);
  assert.equal(stats.max, 1);
  assert.equal(stats.range, 2);
  assert.deepEqual(Array.from(stats.bins), Array.from(statsOf(16, Float32Array.of(1, -2, 0.5)).bins));
  const onlyNaN = statsOf(16, Float32Array.of(NaN, NaN));
  assert.equal(onlyNaN.count, 0);
  assert.equal(onlyNaN.nonFinite, 2);
  assert.equal(onlyNaN.range, 0);
});

test('NaN in a large batch does not disturb the other values', () => {
  const values = uniformValues(40000, -1, 1, 8);
  const withNaN = values.slice();
  withNaN[123] = NaN;
  withNaN[30000] = Infinity;
  const clean = concat(values.subarray(0, 123), values.subarray(124, 30000), values.subarray(30001));
  const stats = statsOf(4096, withNaN);
  assert.equal(stats.nonFinite, 2);
  assert.equal(stats.count, 39998);
  assert.deepEqual(Array.from(stats.bins), Array.from(statsOf(4096, clean).bins));
});

test('all-zero batches keep R at 0 and their zeros stay in the zero bin once the range opens', () => {
  const stats = statsOf(8, new Float32Array(5), Float32Array.of(-0));
  assert.equal(stats.range, 0);
  assert.equal(stats.min, 0);
  assert.equal(stats.max, 0);
  assert.deepEqual(Array.from(stats.bins), [0, 0, 0, 0, 6, 0, 0, 0]);
  stats.update(Float32Array.of(-1.5));
  assert.equal(stats.range, 2);
  assert.deepEqual(Array.from(stats.bins), [0, 1, 0, 0, 6, 0, 0, 0]);
});

test('bin counts must be powers of two and merges must agree on them', () => {
  assert.throws(() => new TensorStats({ bins: 100 }), RangeError);
  assert.throws(() => new TensorStats({ bins: 2 }), RangeError);
  assert.equal(new TensorStats().binTotal, 4096);
  assert.throws(() => new TensorStats({ bins: 64 }).merge(new TensorStats({ bins: 128 })), RangeError);
});
