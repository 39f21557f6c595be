// Paired timing: the median of per-round ratios and its distribution-free 95% interval decide which model is faster;
// the interval covers 1 when the two are the same, whatever the noise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alternateRounds, medianInterval, pairedSummary } from '../../src/engine/runtime/paired-timing';
import { rng } from '../../src/common/random';

test('the interval of the median comes from order statistics and narrows with more rounds', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
  const { low, high } = medianInterval(sorted);
  assert.ok(low >= 38 && low <= 42 && high >= 59 && high <= 62, `${low}..${high}`);
  const few = medianInterval([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.deepEqual(few, { low: 1, high: 10 }, 'ten rounds decide only when every ratio is on one side');
});

test('B twice as fast is decided through heavy noise; two equal models are not', () => {
  const r = rng(3);
  // Load adds delays (never speed-ups) of up to 4x a run to either model in any round.
  const noisy = (ms: number) => ms * (1 + (r() < 0.4 ? r() * 4 : r() * 0.05));
  const rounds = 120;
  const a = Array.from({ length: rounds }, () => noisy(10));
  const faster = pairedSummary(a, Array.from({ length: rounds }, () => noisy(5)));
  assert.ok(faster.high < 1 && faster.ratio < 0.7, JSON.stringify(faster));
  const same = pairedSummary(a, Array.from({ length: rounds }, () => noisy(10)));
  assert.ok(same.low < 1 && same.high > 1, JSON.stringify(same));
  assert.equal(same.rounds, rounds);
});

test('timing stops once the interval is clear of the line the answer is compared with, not of 1', async () => {
  const r = rng(5);
  // B is 0.5 % slower than A, each run ±1 %: clear of 0.99 from the first look, within reach of 1 for more rounds.
  const runOnce = async (m: 0 | 1) => (m === 0 ? 10 : 10.05) * (1 + (r() - 0.5) * 0.02);
  const options = { minRounds: 6, maxRounds: 320, budgetMs: 60_000 };
  const againstTrialLine = await alternateRounds(runOnce, { ...options, line: 0.99 });
  assert.ok(againstTrialLine.low > 0.99, JSON.stringify(againstTrialLine));
  const againstOne = await alternateRounds(runOnce, options);
  assert.ok(againstTrialLine.rounds < againstOne.rounds, `${againstTrialLine.rounds} rounds against 0.99, ${againstOne.rounds} against 1`);
  assert.ok(againstOne.low > 1, JSON.stringify(againstOne));
  // The interval is looked at only when the rounds double.
  for (const t of [againstTrialLine, againstOne]) assert.ok(Number.isInteger(Math.log2(t.rounds / options.minRounds)), `${t.rounds} rounds`);
});

test('a caller that acts only below the line can give up once the median is not below it', async () => {
  const r = rng(9);
  // B as fast as A, ±3 % per run: the interval straddles 0.99 for a long time.
  const runOnce = async (m: 0 | 1) => 10 * (1 + (r() - 0.5) * 0.06);
  const options = { minRounds: 6, maxRounds: 96, budgetMs: 60_000, line: 0.99 };
  const patient = await alternateRounds(runOnce, options);
  const givingUp = await alternateRounds(runOnce, { ...options, giveUpAfter: 24 });
  assert.ok(givingUp.ratio >= 0.99 && givingUp.rounds === 24, JSON.stringify(givingUp));
  assert.ok(patient.rounds > givingUp.rounds, JSON.stringify(patient));
  // B 10 % faster is decided below the line before the rule could apply.
  const faster = await alternateRounds(async (m) => (m === 0 ? 10 : 9) * (1 + (r() - 0.5) * 0.06), { ...options, giveUpAfter: 24 });
  assert.ok(faster.high < 0.99, JSON.stringify(faster));
});
