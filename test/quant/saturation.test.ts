// Pair-safe weights: no neighbouring same-sign pair of int8 codes may exceed 128 (u8 x s8 pairs then fit int16 with
// activations up to 255), while channels without such pairs keep the full −127..127 range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quantizeWeights } from '../../src/quant/qparams';
import { pairSafeMinScales } from '../../src/quant/saturation';
import { rng, gaussian } from '../../src/common/random';

function worstPair(codes: Int8Array, orders: number[][]): number {
  let worst = 0;
  for (const order of orders) {
    for (let i = 0; i + 1 < order.length; i++) {
      const a = codes[order[i]];
      const b = codes[order[i + 1]];
      if (Math.sign(a) === Math.sign(b) && a !== 0) worst = Math.max(worst, Math.abs(a) + Math.abs(b));
    }
  }
  return worst;
}

test('rows layout: a channel with a large same-sign pair is coarsened just enough; others keep full range', () => {
  // channel 0: pair (1.0, 0.9) same sign; channel 1: large values alternate in sign (no risky pair).
  const w = Float32Array.of(1.0, 0.9, 0.1, -0.2, /* ch1 */ 1.0, -0.9, 0.8, -0.7);
  const min = pairSafeMinScales(w, [2, 4], 'rows', false);
  assert.ok(Math.abs(min[0] - 1.9 / 127.5) < 1e-7);
  const q = quantizeWeights(w, [2, 4], 0, { reduceRange: false, minScales: min });
  assert.ok(Math.abs(q.scales[0] - 1.9 / 127.5) < 1e-6, `scale ${q.scales[0]}`);
  assert.ok(Math.abs(q.scales[1] - 1 / 127) < 1e-6, 'channel 1 keeps the full range');
  assert.ok(worstPair(q.values.subarray(0, 4), [[0, 1, 2, 3]]) <= 128);
});

test('conv layout: random weights never produce a saturating pair in NCHW or NHWC K order', () => {
  const r = rng(3);
  const [o, i, kh, kw] = [16, 6, 3, 3];
  const w = Float32Array.from({ length: o * i * kh * kw }, () => gaussian(r) * (r() < 0.05 ? 4 : 1));
  const q = quantizeWeights(w, [o, i, kh, kw], 0, { reduceRange: false, minScales: pairSafeMinScales(w, [o, i, kh, kw], 'conv', false) });
  const k = i * kh * kw;
  let fullRange = 0;
  for (let c = 0; c < o; c++) {
    const codes = q.values.subarray(c * k, (c + 1) * k);
    const nchw = Array.from({ length: k }, (_, n) => n);
    const nhwc: number[] = [];
    for (let s = 0; s < kh * kw; s++) for (let ch = 0; ch < i; ch++) nhwc.push(ch * kh * kw + s);
    assert.ok(worstPair(codes, [nchw, nhwc]) <= 128, `channel ${c}`);
    if (codes.some((v) => Math.abs(v) === 127)) fullRange++;
  }
  assert.ok(fullRange > 0, 'some channels still use the full range');
});

test('columns layout (MatMul/Gemm transB=0) checks pairs down each column', () => {
  const w = Float32Array.of(/* K0 */ 1, 1, /* K1 */ 1, -1);
  const min = pairSafeMinScales(w, [2, 2], 'columns', false);
  assert.ok(Math.abs(min[0] - 2 / 127.5) < 1e-7, 'column 0 has (1, 1)');
  assert.equal(min[1], 0, 'column 1 has opposite signs');
  assert.equal(pairSafeMinScales(w, [2, 2], 'columns', true).length, 1);
});
