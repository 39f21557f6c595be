import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../../src/common/random';
import {
  computeQParams, dequantizeValue, integerRange, quantizeBias, quantizeValue, quantizeWeights, roundHalfToEven,
} from '../../src/quant/qparams';

const f32 = Math.fround;
const asym = { symmetric: false, reduceRange: false };
const sym = { symmetric: true, reduceRange: false };

test('u8 asymmetric [-1, 3]: scale 4/255, zero point 64', () => {
  const p = computeQParams({ min: -1, max: 3 }, 'u8', asym);
  assert.equal(p.scale, f32(4 / 255));
  assert.equal(p.zeroPoint, 64); // 1 / (4/255) = 63.75
  assert.equal(quantizeValue(0, p, 'u8'), 64);
  assert.equal(dequantizeValue(quantizeValue(0, p, 'u8'), p), 0);
  assert.equal(quantizeValue(3, p, 'u8'), 255);
  assert.equal(quantizeValue(-1, p, 'u8'), 0);
});

test('ranges are extended to include zero', () => {
  const positive = computeQParams({ min: 2, max: 5 }, 'u8', asym); // as [0, 5]
  assert.equal(positive.scale, f32(5 / 255));
  assert.equal(positive.zeroPoint, 0);
  const negative = computeQParams({ min: -4, max: -1 }, 's8', asym); // as [-4, 0]: -128 + 255 = 127
  assert.equal(negative.scale, f32(4 / 255));
  assert.equal(negative.zeroPoint, 127);
  const signed = computeQParams({ min: -1, max: 3 }, 's8', asym); // -128 + 63.75 = -64.25
  assert.equal(signed.scale, f32(4 / 255));
  assert.equal(signed.zeroPoint, -64);
});

test('symmetric: zero point at the middle, ±max|x| on the outermost codes', () => {
  const s8 = computeQParams({ min: -0.5, max: 2 }, 's8', sym);
  assert.deepEqual(s8, { scale: f32(2 / 127), zeroPoint: 0 });
  assert.equal(quantizeValue(2, s8, 's8'), 127);
  assert.equal(quantizeValue(-2, s8, 's8'), -127);
  const u8 = computeQParams({ min: -3, max: 1 }, 'u8', sym);
  assert.deepEqual(u8, { scale: f32(3 / 127), zeroPoint: 127 });
  assert.equal(quantizeValue(-3, u8, 'u8'), 0);
  assert.equal(quantizeValue(3, u8, 'u8'), 254);
});

test('reduce range uses 7 bits', () => {
  assert.deepEqual(integerRange('u8', { symmetric: false, reduceRange: true }), { qmin: 0, qmax: 127 });
  assert.deepEqual(integerRange('s8', { symmetric: false, reduceRange: true }), { qmin: -64, qmax: 63 });
  assert.deepEqual(integerRange('s8', { symmetric: true, reduceRange: true }), { qmin: -63, qmax: 63 });
  assert.deepEqual(integerRange('s8', sym), { qmin: -127, qmax: 127 });
  const u8 = computeQParams({ min: -1, max: 3 }, 'u8', { symmetric: false, reduceRange: true });
  assert.equal(u8.scale, f32(4 / 127));
  assert.equal(u8.zeroPoint, 32); // 127 / 4 = 31.75
  const s8 = computeQParams({ min: -1, max: 3 }, 's8', { symmetric: true, reduceRange: true });
  assert.deepEqual(s8, { scale: f32(3 / 63), zeroPoint: 0 });
});

test('an all-zero range gets scale 1 and still represents zero exactly', () => {
  for (const type of ['u8', 's8'] as const) {
    const p = computeQParams({ min: 0, max: 0 }, type, asym);
    assert.equal(p.scale, 1);
    assert.equal(dequantizeValue(quantizeValue(0, p, type), p), 0);
  }
  assert.deepEqual(computeQParams({ min: 0, max: 0 }, 'u8', sym), { scale: 1, zeroPoint: 127 });
  assert.throws(() => computeQParams({ min: 1, max: 0 }, 'u8', asym), RangeError);
  assert.throws(() => computeQParams({ min: NaN, max: 0 }, 'u8', asym), RangeError);
});

test('round half to even', () => {
  const cases: [number, number][] = [[0.5, 0], [1.5, 2], [2.5, 2], [-0.5, 0], [-1.5, -2], [-2.5, -2], [2.4999, 2],
    [-2.6, -3], [3, 3], [7.5, 8]];
  for (const [x, expected] of cases) assert.equal(roundHalfToEven(x) + 0, expected, `round(${x})`);
  // Against the definition (floor, then the fraction against one half), on ties, their neighbouring doubles, random
  // values of every magnitude and the non-finite ones.
  const byDefinition = (x: number): number => {
    const down = Math.floor(x);
    const fraction = x - down;
    return fraction > 0.5 ? down + 1 : fraction < 0.5 ? down : down % 2 === 0 ? down : down + 1;
  };
  const values: number[] = [0, -0, NaN, Infinity, -Infinity, 2 ** 52 + 1, -(2 ** 53), 1e300, Number.MIN_VALUE, -Number.MIN_VALUE];
  const next = rng(17);
  for (let k = -300; k <= 300; k++) {
    const tie = k + 0.5;
    values.push(tie, -tie, adjacent(tie, 1), adjacent(tie, -1), -adjacent(tie, 1), -adjacent(tie, -1));
  }
  for (let i = 0; i < 20000; i++) values.push((next() - 0.5) * 2 ** Math.floor(next() * 40 - 10), Math.fround((next() - 0.5) * 300));
  for (const x of values) assert.ok(Object.is(roundHalfToEven(x), byDefinition(x)) || (roundHalfToEven(x) === 0 && byDefinition(x) === 0), `round(${x})`);
});

/** The double next to x (finite, not 0) towards +Infinity (direction 1) or -Infinity (-1). */
function adjacent(x: number, direction: 1 | -1): number {
  const bits = new Float64Array([x]);
  const words = new BigInt64Array(bits.buffer);
  words[0] += BigInt(direction * Math.sign(x));
  return bits[0];
}

test('quantizeValue rounds half to even and saturates to the type', () => {
  const p = { scale: 0.5, zeroPoint: 0 };
  assert.equal(quantizeValue(1.25, p, 's8'), 2); // 2.5 → 2
  assert.equal(quantizeValue(1.75, p, 's8'), 4); // 3.5 → 4
  assert.equal(quantizeValue(100, p, 's8'), 127);
  assert.equal(quantizeValue(-100, p, 's8'), -128);
  assert.equal(quantizeValue(-100, { scale: 0.5, zeroPoint: 10 }, 'u8'), 0);
  assert.equal(quantizeValue(1000, { scale: 0.5, zeroPoint: 10 }, 'u8'), 255);
  const q = computeQParams({ min: -0.75, max: 2.25 }, 'u8', asym);
  for (let x = -0.75; x <= 2.25; x += 0.01) {
    assert.ok(Math.abs(dequantizeValue(quantizeValue(x, q, 'u8'), q) - x) <= q.scale / 2 + 1e-7, `x = ${x}`);
  }
});

test('per-channel weights: scale per output channel, round trip within half a step', () => {
  // dims [3, 2, 2], axis 0: channel c holds elements 4c..4c+3.
  const w = Float32Array.of(0.1, -0.4, 0.2, 0.3, /* c1 */ 2, -1, 0.5, -0.25, /* c2 */ 0, 0, 0, 0);
  const { values, scales, zeroPoints } = quantizeWeights(w, [3, 2, 2], 0, { reduceRange: false });
  assert.deepEqual(Array.from(scales), [f32(0.4 / 127), f32(2 / 127), 1]);
  assert.deepEqual(Array.from(zeroPoints), [0, 0, 0]);
  assert.equal(values[1], -127); // the channel's largest magnitude lands on the outermost code
  assert.equal(values[4], 127);
  assert.deepEqual(Array.from(values.subarray(8)), [0, 0, 0, 0]);
  for (let i = 0; i < w.length; i++) {
    const scale = scales[Math.floor(i / 4)];
    assert.ok(Math.abs(values[i] * scale - w[i]) <= scale / 2 + 1e-9, `element ${i}`);
  }
});

test('per-channel on a middle or last axis, negative axes, per-tensor', () => {
  // MatMul weight [K=2, N=3], axis 1: column absmax 31.75, 63.5, 15.875 → scales 0.25, 0.5, 0.125 (exact).
  const w = Float32Array.of(1, -63.5, 15.875, -31.75, 1.25, 0.0625);
  const byColumn = quantizeWeights(w, [2, 3], 1, { reduceRange: false });
  assert.deepEqual(Array.from(byColumn.scales), [0.25, 0.5, 0.125]);
  assert.deepEqual(Array.from(byColumn.values), [4, -127, 127, -127, 2, 0]); // 2.5 → 2, 0.5 → 0
  assert.deepEqual(quantizeWeights(w, [2, 3], -1, { reduceRange: false }), byColumn);
  const perTensor = quantizeWeights(w, [2, 3], null, { reduceRange: false });
  assert.deepEqual(Array.from(perTensor.scales), [0.5]);
  assert.deepEqual(Array.from(perTensor.values), [2, -127, 32, -64, 2, 0]); // 31.75 → 32, -63.5 → -64
  const reduced = quantizeWeights(w, [2, 3], null, { reduceRange: true });
  assert.deepEqual(Array.from(reduced.scales), [f32(63.5 / 63)]);
  assert.equal(Math.min(...reduced.values), -63);
});

test('weights: half to even on exact ties, and bad input is refused', () => {
  // absmax 127 → scale exactly 1, so x.5 values are true ties.
  const { values } = quantizeWeights(Float32Array.of(127, 0.5, 1.5, 2.5, -0.5, -3.5), [6], null,
    { reduceRange: false });
  assert.deepEqual(Array.from(values), [127, 0, 2, 2, 0, -4]);
  assert.throws(() => quantizeWeights(new Float32Array(5), [2, 3], 0, { reduceRange: false }), RangeError);
  assert.throws(() => quantizeWeights(new Float32Array(6), [2, 3], 2, { reduceRange: false }), RangeError);
  assert.throws(() => quantizeWeights(Float32Array.of(1, NaN), [2], 0, { reduceRange: false }), RangeError);
});

test('bias: int32 with scale inputScale × weightScale, rounded half to even and clamped', () => {
  const perChannel = quantizeBias(Float32Array.of(1, -1, 0.3125), 0.5, Float32Array.of(0.25, 0.125, 0.125));
  assert.deepEqual(Array.from(perChannel.scales), [0.125, 0.0625, 0.0625]);
  assert.deepEqual(Array.from(perChannel.values), [8, -16, 5]);
  const perTensor = quantizeBias(Float32Array.of(0.1875, 0.3125, -0.0625), 0.5, Float32Array.of(0.25));
  assert.deepEqual(Array.from(perTensor.scales), [0.125]);
  assert.deepEqual(Array.from(perTensor.values), [2, 2, 0]); // 1.5 → 2, 2.5 → 2, -0.5 → 0
  const huge = quantizeBias(Float32Array.of(1e12, -1e12), 1e-3, Float32Array.of(1e-3));
  assert.deepEqual(Array.from(huge.values), [2147483647, -2147483648]);
  // The stored scale is the float32 product.
  const odd = quantizeBias(Float32Array.of(1), f32(0.1), Float32Array.of(f32(0.3)));
  assert.equal(odd.scales[0], f32(f32(0.1) * f32(0.3)));
  assert.equal(odd.values[0], Math.round(1 / f32(f32(0.1) * f32(0.3))));
  assert.throws(() => quantizeBias(Float32Array.of(1, 2), 0.5, Float32Array.of(1, 2, 3)), RangeError);
  assert.throws(() => quantizeBias(Float32Array.of(1), 0, Float32Array.of(1)), RangeError);
});
