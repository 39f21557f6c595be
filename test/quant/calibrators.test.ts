import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gaussian, rng } from '../../src/common/random';
import { TensorStats } from '../../src/quant/histogram';
import { chooseRange, type CalibrationMethod, type Range, type RangeRequest } from '../../src/quant/calibrators';
import { computeQParams, dequantizeValue, quantizeValue } from '../../src/quant/qparams';

function gaussianValues(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = gaussian(next);
  return out;
}

function laplaceValues(n: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = next() - 0.5;
    out[i] = -Math.sign(u) * Math.log(Math.max(1e-12, 1 - 2 * Math.abs(u)));
  }
  return out;
}

function uniformValues(n: number, lo: number, hi: number, seed: number): Float32Array {
  const next = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * next();
  return out;
}

function statsOf(values: Float32Array, bins?: number): TensorStats {
  const stats = new TensorStats(bins === undefined ? {} : { bins });
  stats.update(values);
  return stats;
}

function request(method: CalibrationMethod, extra: Partial<RangeRequest> = {}): RangeRequest {
  return { method, percentile: 99.99, symmetric: false, levels: 256, ...extra };
}

const METHODS: CalibrationMethod[] = ['minmax', 'entropy', 'percentile', 'mse'];

/** Mean squared error of really quantizing `values` into `range` (u8 asymmetric, or s8 symmetric). */
function quantizationMse(values: Float32Array, range: Range, symmetric: boolean): number {
  const type = symmetric ? 's8' : 'u8';
  const p = computeQParams(range, type, { symmetric, reduceRange: false });
  let sum = 0;
  for (const x of values) sum += (x - dequantizeValue(quantizeValue(x, p, type), p)) ** 2;
  return sum / values.length;
}

test('minmax returns the observed range, or ±max|x| when symmetric', () => {
  const stats = statsOf(Float32Array.of(-2, 0.5, 5, 1));
  assert.deepEqual(chooseRange(stats, request('minmax')), { min: -2, max: 5 });
  assert.deepEqual(chooseRange(stats, request('minmax', { symmetric: true })), { min: -5, max: 5 });
  const negative = statsOf(Float32Array.of(-7, -1));
  assert.deepEqual(chooseRange(negative, request('minmax', { symmetric: true })), { min: -7, max: 7 });
});

test('degenerate inputs: nothing seen, all zeros, one constant, a handful of samples', () => {
  for (const method of METHODS) {
    for (const symmetric of [false, true]) {
      const req = request(method, { symmetric });
      assert.deepEqual(chooseRange(new TensorStats(), req), { min: 0, max: 0 }, `${method} empty`);
      assert.deepEqual(chooseRange(statsOf(new Float32Array(100)), req), { min: 0, max: 0 }, `${method} zeros`);
      const constant = chooseRange(statsOf(new Float32Array(50).fill(3)), req);
      assert.deepEqual(constant, symmetric ? { min: -3, max: 3 } : { min: 3, max: 3 }, `${method} constant`);
      const few = chooseRange(statsOf(Float32Array.of(-1, 0.25, 2)), req);
      assert.ok(Number.isFinite(few.min) && Number.isFinite(few.max) && few.min <= few.max, `${method} few`);
      assert.ok(symmetric ? few.max <= 2 && few.min === -few.max : few.min >= -1 && few.max <= 2, `${method} few`);
    }
  }
});

test('percentile interpolates inside the bin where the share is reached (computed by hand)', () => {
  // 16 bins over [-8, 8): width 1. Ten values in each of [0,1) … [6,7), ten in [7, 7.5] with max 7.5.
  const values: number[] = [];
  for (let k = 0; k < 7; k++) for (let j = 0; j < 10; j++) values.push(k + (j + 0.5) / 10);
  for (let j = 0; j < 10; j++) values.push(7 + j / 18);
  const stats = statsOf(Float32Array.from(values), 16);
  assert.equal(stats.max, 7.5);
  // 95 % of 80 = 76 values: 70 lie below 7, so 6 of the 10 in the last bin, which spans [7, 7.5] → 7 + 0.6 · 0.5.
  const range = chooseRange(stats, request('percentile', { percentile: 95 }));
  assert.equal(range.min, stats.min); // one-sided: the bottom is kept
  assert.ok(Math.abs(range.max - 7.3) < 1e-6, `got ${range.max}`);
  // 87.5 % = 70 values: exactly the end of bin [6, 7).
  assert.ok(Math.abs(chooseRange(stats, request('percentile', { percentile: 87.5 })).max - 7) < 1e-6);
  assert.equal(chooseRange(stats, request('percentile', { percentile: 100 })).max, 7.5);

  // The same magnitudes with alternating signs: symmetric percentile works on |x|.
  const mixed = Float32Array.from(values, (v, i) => (i % 2 === 1 && v !== 7.5 ? -v : v));
  const symmetric = chooseRange(statsOf(mixed, 16), request('percentile', { percentile: 95, symmetric: true }));
  assert.ok(Math.abs(symmetric.max - 7.3) < 1e-6 && symmetric.min === -symmetric.max, JSON.stringify(symmetric));
});

test('percentile on signed asymmetric data clips each tail', () => {
  // 10 000 evenly spaced values in (-1, 3): the 1 % and 99 % points are -0.96 and 2.96.
  const n = 10000;
  const values = Float32Array.from({ length: n }, (_, i) => -1 + (4 * (i + 0.5)) / n);
  const stats = statsOf(values);
  const range = chooseRange(stats, request('percentile', { percentile: 99 }));
  const binWidth = stats.binWidth;
  assert.ok(Math.abs(range.min - -0.96) <= binWidth, `min ${range.min}`);
  assert.ok(Math.abs(range.max - 2.96) <= binWidth, `max ${range.max}`);
});

test('one-sided data keeps its minimum and only clips the top, with every method', () => {
  const relu = gaussianValues(50000, 11).map((x) => Math.max(0, x));
  relu[7] = 40; // one outlier
  const stats = statsOf(relu);
  for (const method of METHODS) {
    const range = chooseRange(stats, request(method));
    assert.equal(range.min, 0, method);
    assert.ok(range.max <= 40 && range.max > 0, method);
    if (method !== 'minmax') assert.ok(range.max < 40, `${method} should clip the outlier, got ${range.max}`);
  }
});

test('entropy on a Gaussian with a few large outliers picks a threshold between 3σ and the outliers', () => {
  for (const outlier of [20, 1000]) {
    const values = gaussianValues(200000, 21);
    for (let i = 0; i < 5; i++) values[i * 1000] = i % 2 === 0 ? outlier : -outlier;
    const stats = statsOf(values);
    const symmetric = chooseRange(stats, request('entropy', { symmetric: true }));
    assert.equal(symmetric.min, -symmetric.max);
    assert.ok(symmetric.max > 3 && symmetric.max < outlier / 2, `outlier ${outlier}: T = ${symmetric.max}`);
    // Signed asymmetric data: the same threshold on |x|, cut to the observed range on each side.
    const signed = chooseRange(stats, request('entropy'));
    assert.ok(signed.max > 3 && signed.max < outlier / 2 && signed.min < -3 && signed.min > -outlier / 2,
      JSON.stringify(signed));
  }
  // With outliers at 20σ the histogram is fine enough to see the Gaussian: the threshold should be moderate.
  const values = gaussianValues(200000, 22);
  for (let i = 0; i < 5; i++) values[i * 1000] = 20;
  const t = chooseRange(statsOf(values), request('entropy', { symmetric: true })).max;
  assert.ok(t < 10, `T = ${t}`);
});

/**
 * KL(P‖Q) for every candidate, straight from the definition, bin by bin: P = the first `cut` magnitude bins with
 * the rest folded into the last; Q = those bins (without the rest) merged into `targetBins` even groups (bin k in
 * group floor(k·targetBins/cut)) and spread over the bins where P > 0 (1e-4 where the group is empty); the zero
 * bin's count is replaced by the next bin's. Returned by number of bins kept.
 */
function divergencesByDefinition(stats: TensorStats, targetBins: number): Map<number, number> {
  const all = stats.bins;
  const half = all.length / 2;
  const h = Array.from({ length: half }, (_, k) => all[half + k] + all[half - 1 - k]);
  let used = h.length;
  while (h[used - 1] === 0) used--;
  h[0] = h[1];
  const out = new Map<number, number>();
  for (let cut = targetBins; cut <= used; cut++) {
    const p = h.slice(0, cut);
    for (let k = cut; k < used; k++) p[cut - 1] += h[k];
    const q = new Array<number>(cut).fill(0);
    for (let g = 0; g < targetBins; g++) {
      const members = p.map((_, k) => k).filter((k) => Math.floor((k * targetBins) / cut) === g);
      const mass = members.reduce((a, k) => a + h[k], 0);
      const live = members.filter((k) => p[k] > 0);
      for (const k of live) q[k] = mass > 0 ? mass / live.length : 1e-4;
    }
    const pTotal = p.reduce((a, b) => a + b, 0);
    const qTotal = q.reduce((a, b) => a + b, 0);
    let kl = 0;
    for (let k = 0; k < cut; k++) if (p[k] > 0) kl += (p[k] / pTotal) * Math.log((p[k] / pTotal) / (q[k] / qTotal));
    out.set(cut, kl);
  }
  return out;
}

test('entropy picks the threshold whose KL divergence, computed from the definition, is smallest', () => {
  const values = gaussianValues(20000, 24);
  for (let i = 0; i < 4; i++) values[i * 100] = i % 2 === 0 ? 9 : -7;
  const stats = statsOf(values, 1024);
  const targetBins = 16;
  const t = chooseRange(stats, request('entropy', { symmetric: true, levels: 2 * targetBins })).max;
  const divergences = divergencesByDefinition(stats, targetBins);
  const chosen = divergences.get(Math.round(t / stats.binWidth));
  assert.ok(chosen !== undefined, `T = ${t} is not a bin edge`);
  const smallest = Math.min(...divergences.values());
  assert.ok(chosen <= smallest + 1e-9, `T = ${t}: KL ${chosen} but the minimum is ${smallest}`);
  assert.ok(t < 7, `T = ${t}`);
});

test('entropy is not dragged down by the spike of zeros after a ReLU', () => {
  // ReLU of N(0, 1): half the values are exactly 0, the rest a half-Gaussian with max ≈ 4.4.
  const stats = statsOf(gaussianValues(200000, 23).map((x) => Math.max(0, x)));
  for (const symmetric of [false, true]) {
    const range = chooseRange(stats, request('entropy', { symmetric }));
    assert.ok(range.max > 3, `symmetric=${symmetric}: T = ${range.max} of max ${stats.max}`);
  }
});

test('entropy keeps (nearly) the full range of uniform data', () => {
  const stats = statsOf(uniformValues(100000, 0, 1, 31));
  const range = chooseRange(stats, request('entropy'));
  assert.equal(range.min, stats.min);
  assert.ok(range.max > 0.95 * stats.max, `max ${range.max}`);
});

test('entropy on signed asymmetric data returns [max(min, -T), min(max, T)]', () => {
  // Mostly positive, a short negative tail, a far positive outlier.
  const values = gaussianValues(100000, 41).map((x) => 2 + x * 0.5);
  values[0] = -0.25;
  values[1] = 30;
  const stats = statsOf(values);
  const range = chooseRange(stats, request('entropy'));
  assert.equal(range.min, stats.min); // -T is below the small negative tail: keep the observed min
  assert.ok(range.max < 30 && range.max > 3, `max ${range.max}`);
});

test('mse keeps about the full range of uniform data', () => {
  const oneSided = statsOf(uniformValues(100000, 0, 1, 51));
  const range = chooseRange(oneSided, request('mse'));
  assert.equal(range.min, oneSided.min);
  assert.ok(range.max > 0.98 * oneSided.max, `max ${range.max}`);
  const signed = statsOf(uniformValues(100000, -1, 1, 52));
  const symmetric = chooseRange(signed, request('mse', { symmetric: true }));
  assert.ok(symmetric.max > 0.98 * Math.max(-signed.min, signed.max), `T ${symmetric.max}`);
});

test('mse clips Laplacian data near the known optimum, and really lowers the quantization error', () => {
  const values = laplaceValues(200000, 61); // scale b = 1, max |x| ≈ 12
  const stats = statsOf(values);
  const maxAbs = Math.max(-stats.min, stats.max);
  // Known optima for a Laplace(b) source with a uniform symmetric quantizer: ≈ 9.9 b at 8 bits, ≈ 5 b at 4 bits.
  const eightBit = chooseRange(stats, request('mse', { symmetric: true }));
  assert.ok(eightBit.max < maxAbs && eightBit.max > 7 && eightBit.max < 12, `8-bit T ${eightBit.max} of ${maxAbs}`);
  const fourBit = chooseRange(stats, request('mse', { symmetric: true, levels: 16 }));
  assert.ok(fourBit.max > 4 && fourBit.max < 6.2, `4-bit T ${fourBit.max}`);
  const chosenError = quantizationMse(values, eightBit, true);
  const fullError = quantizationMse(values, { min: -maxAbs, max: maxAbs }, true);
  assert.ok(chosenError < fullError, `chosen ${chosenError} vs full ${fullError}`);

  // Signed asymmetric: a common shrink of [min, max].
  const shifted = chooseRange(stats, request('mse'));
  assert.ok(shifted.max < stats.max && shifted.min > stats.min, JSON.stringify(shifted));
  assert.ok(Math.abs(shifted.min / shifted.max - stats.min / stats.max) < 1e-9);
  assert.ok(quantizationMse(values, shifted, false) < quantizationMse(values, stats, false));
});

test('every method stays inside the observed range and is deterministic', () => {
  const datasets = [
    gaussianValues(20000, 71),
    laplaceValues(20000, 72).map((x) => x + 3),
    uniformValues(5000, -0.01, 5, 73),
    gaussianValues(30000, 74).map((x) => -Math.abs(x)),
  ];
  for (const values of datasets) {
    const stats = statsOf(values);
    const maxAbs = Math.max(-stats.min, stats.max);
    for (const method of METHODS) {
      for (const symmetric of [false, true]) {
        for (const levels of [256, 128]) {
          const req = request(method, { symmetric, levels, percentile: 99.9 });
          const range = chooseRange(stats, req);
          const label = `${method} symmetric=${symmetric} levels=${levels}: ${JSON.stringify(range)}`;
          assert.deepEqual(chooseRange(stats, req), range, label);
          assert.ok(range.min <= range.max, label);
          if (symmetric) {
            assert.ok(range.min === -range.max && range.max <= maxAbs && range.max > 0, label);
          } else {
            assert.ok(range.min >= stats.min && range.max <= stats.max, label);
            if (stats.min >= 0) assert.equal(range.min, stats.min, label);
            if (stats.max <= 0) assert.equal(range.max, stats.max, label);
          }
        }
      }
    }
  }
});

test('requests are validated', () => {
  const stats = statsOf(Float32Array.of(1, 2));
  assert.throws(() => chooseRange(stats, request('percentile', { percentile: 120 })), RangeError);
  assert.throws(() => chooseRange(stats, request('percentile', { percentile: 10 })), RangeError);
  assert.throws(() => chooseRange(stats, request('mse', { levels: 2 })), RangeError);
});
