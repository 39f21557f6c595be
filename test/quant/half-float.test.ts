// floatsToHalfBits rounds float32 values to half precision as the reference here does (the nearest of the sorted
// halves, ties to the even pattern; ±Infinity from 65520 on): every half itself, the midpoints between neighbours and
// the float32 values just either side of them, subnormal halves, ±0, the overflow edge and random values of every
// magnitude.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { floatsToHalfBits, halfValues } from '../../src/quant/half-float';
import { rng } from '../../src/common/random';
import { toHalfBits } from '../fixtures/half';

function check(values: Float32Array, what: string): void {
  const got = new Uint16Array(values.length);
  floatsToHalfBits(values.slice(), got);
  let wrong = 0;
  for (let i = 0; i < values.length; i++) {
    const want = toHalfBits(values[i]);
    if (got[i] !== want && wrong++ < 5) assert.fail(`${what}: ${values[i]} gave 0x${got[i].toString(16)}, expected 0x${want.toString(16)}`);
  }
}

test('every finite half, the midpoints between neighbours and the floats either side of them round as the reference does', () => {
  const halves = halfValues();
  const values: number[] = [];
  const below = (v: number) => new Float32Array(new Uint32Array([new Uint32Array(Float32Array.of(v).buffer)[0] - 1]).buffer)[0];
  const above = (v: number) => new Float32Array(new Uint32Array([new Uint32Array(Float32Array.of(v).buffer)[0] + 1]).buffer)[0];
  for (let bits = 0; bits < 0x7c00; bits++) {
    const v = halves[bits];
    values.push(v, -v);
    if (bits < 0x7bff) {
      const mid = (v + halves[bits + 1]) / 2; // exact in float32: halves have 11 significant bits
      values.push(mid, -mid);
      if (mid > 0) values.push(below(mid), above(mid), -below(mid), -above(mid));
    }
  }
  check(Float32Array.from(values), 'halves and midpoints');
});

test('zeros, subnormal halves, the overflow edge, infinities and random magnitudes round as the reference does', () => {
  const special = [0, -0, 2 ** -25, 2 ** -25 * 1.0000001, 2 ** -24, 3 * 2 ** -25, 2 ** -14, 2 ** -14 * (1 - 2 ** -11), 65504, 65519.99, 65520, 65536,
    1e9, Infinity, -Infinity, 6e-8, 1e-40];
  check(Float32Array.from(special), 'special values');
  const r = rng(3);
  check(Float32Array.from({ length: 200000 }, () => (r() < 0.5 ? -1 : 1) * 2 ** (r() * 60 - 40) * (r() < 0.3 ? 0 : 1)), 'random values');
  const nan = new Uint16Array(1);
  floatsToHalfBits(Float32Array.of(NaN), nan);
  assert.equal(nan[0] & 0x7c00, 0x7c00, 'NaN stays NaN (all exponent bits)');
  assert.notEqual(nan[0] & 0x3ff, 0, 'NaN stays NaN (a mantissa bit)');
});
