// dividedForReduction: the values of rescaled tensors divided by their channel's factor where they are folded — whole
// [N, C, inner] runs, or picks every `stride` values from an offset, their channels walked across samples — and
// rounded to float16 patterns for a half-histogram.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dividedForReduction } from '../../src/quant/channel-division';
import { floatsToHalfBits } from '../../src/quant/half-float';

const CHANNELS = 3;
const INNER = 5;
const FACTORS = Float32Array.of(2, 0.5, 4);
/** Value v at position p of a sample's [C, inner] values, over 3 samples. */
const values = Float32Array.from({ length: 3 * CHANNELS * INNER }, (_, p) => 1 + p);
const channelOf = (position: number) => Math.floor((position % (CHANNELS * INNER)) / INNER);

test('whole runs: every value divided by its channel\'s factor; float32 kept for a histogram', () => {
  const out = dividedForReduction(values.slice(), { factors: FACTORS, channels: CHANNELS, inner: INNER }, 'histogram');
  assert.ok(out instanceof Float32Array);
  assert.deepEqual([...out], [...values].map((v, p) => Math.fround(v / FACTORS[channelOf(p)])));
});

test('picks: each divided by the channel of its position, the walk crossing channels and samples; float16 for a half-histogram', () => {
  const [offset, stride] = [7, 4];
  const positions = Array.from({ length: 9 }, (_, i) => offset + i * stride);
  const picks = Float32Array.from(positions, (p) => values[p]);
  const expected = Float32Array.from(positions, (p) => values[p] / FACTORS[channelOf(p)]);
  const floats = dividedForReduction(picks.slice(), { factors: FACTORS, channels: CHANNELS, inner: INNER, picks: { offset, stride } }, 'sum');
  assert.deepEqual([...floats], [...expected]);
  const halves = dividedForReduction(picks.slice(), { factors: FACTORS, channels: CHANNELS, inner: INNER, picks: { offset, stride } }, 'half-histogram');
  const patterns = new Uint16Array(expected.length);
  floatsToHalfBits(expected, patterns);
  assert.ok(halves instanceof Uint16Array);
  assert.deepEqual([...halves], [...patterns]);
});

test('values to divide must be float32 (float16 patterns are what a division makes, not what it takes)', () => {
  assert.throws(() => dividedForReduction(new Uint16Array(15), { factors: FACTORS, channels: CHANNELS, inner: INNER }, 'half-histogram'),
    /a division per channel takes float32 values, got Uint16Array/);
});
