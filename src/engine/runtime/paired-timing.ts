// Which of two models is faster, measured honestly on a busy machine: both sessions open side by side, warm-up, then
// rounds that run each model once in alternating order, so load changes hit both alike. Each round gives the ratio
// B/A of two neighbouring runs; the answer is the median ratio with a 95% distribution-free confidence interval on it
// (order statistics of the binomial), looked at each time the rounds double until it excludes the ratio the answer
// is compared with (1: which is faster; a speed-aware trial: 0.99, faster by 1 %), or the rounds or the time budget
// run out. Medians of each model's run times are reported beside it.
import * as ort from 'onnxruntime-node';
import { throwIfCancelled } from '../cancel';
import { median } from './profile';
import { openSession, SessionModel } from './session';
import { roundTo } from '../../common/numbers';

export interface PairedOptions {
  threads: number;
  /** Rounds measured before the first look at the interval; it is looked at again each time the rounds double. */
  minRounds: number;
  maxRounds: number;
  /** Stop after this many ms of measuring (`minRounds` are always measured). */
  budgetMs: number;
  warmup: number;
  /**
   * The ratio B/A the caller compares the answer with (default 1): measuring stops once the interval lies wholly on
   * one side of it. A trial kept only when 1 % faster needs no more rounds once its interval is above 0.99, however
   * near 1 it still is (MobileNet-V1: a trial at 1.03 ran 192 rounds, 1.3 s, to exclude 1).
   */
  line?: number;
  /**
   * For callers that act only on a ratio below `line` (a trial kept when faster): from this many rounds on, a look
   * whose median ratio is not below the line ends the timing too. The interval's upper end lies above its median by
   * about its half-width, which halves only with 4x the rounds: a median still at the line after 48 rounds does not get
   * its interval below it by 96 (MobileNet-V1's trials: ±0.03 at 96 rounds), and a trial at the line otherwise runs
   * to maxRounds.
   */
  giveUpAfter?: number;
  signal?: AbortSignal;
}

export interface PairedTiming {
  /** Median run time of each model (ms). */
  aMs: number;
  bMs: number;
  /** Median over rounds of B's time / A's time, with its 95% confidence interval. */
  ratio: number;
  low: number;
  high: number;
  rounds: number;
}

/** 6 rounds are the fewest whose interval (their extremes) still covers 95% (96.9%): a clear answer costs no more. */
export const DEFAULT_PAIRED: PairedOptions = { threads: 1, minRounds: 6, maxRounds: 320, budgetMs: 5000, warmup: 2 };

/** 95% confidence interval of the median of sorted values (ranks from the binomial's normal approximation). */
export function medianInterval(sorted: readonly number[]): { low: number; high: number } {
  const n = sorted.length;
  if (n === 0) return { low: NaN, high: NaN };
  const half = 0.98 * Math.sqrt(n);
  const lo = Math.max(0, Math.floor(n / 2 - half) - 1);
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half));
  return { low: sorted[lo], high: sorted[hi] };
}

/** Summary of paired run times (ms) of two models. */
export function pairedSummary(aMs: readonly number[], bMs: readonly number[]): PairedTiming {
  const ratios = aMs.map((a, i) => bMs[i] / a).sort((x, y) => x - y);
  const { low, high } = medianInterval(ratios);
  return { aMs: roundTo(median(aMs)), bMs: roundTo(median(bMs)), ratio: roundTo(median(ratios)), low: roundTo(low), high: roundTo(high), rounds: ratios.length };
}

/** Times models A and B in alternating rounds until it is clear on which side of `options.line` B/A is (or the
 *  budget is spent). */
export async function timePair(a: SessionModel, b: SessionModel, feeds: Record<string, ort.Tensor>, options: PairedOptions,
  labels: [string, string]): Promise<PairedTiming> {
  const sessions = [
    await openSession(a, { threads: options.threads, level: 'all' }, labels[0]),
    await openSession(b, { threads: options.threads, level: 'all' }, labels[1]),
  ];
  try {
    for (let w = 0; w < options.warmup; w++) for (const s of sessions) await s.run(feeds);
    return await alternateRounds(async (m) => {
      const t0 = performance.now();
      await sessions[m].run(feeds);
      return performance.now() - t0;
    }, options);
  } finally {
    for (const s of sessions) await s.release();
  }
}

/** The rounds of timePair: `runOnce(m)` runs model m (0: A, 1: B) once and returns its time in ms. */
export async function alternateRounds(runOnce: (model: 0 | 1) => Promise<number>, options: Omit<PairedOptions, 'threads' | 'warmup'>): Promise<PairedTiming> {
  const line = options.line ?? 1;
  const times: number[][] = [[], []];
  const started = performance.now();
  for (let r = 0; r < options.maxRounds; r++) {
    throwIfCancelled(options.signal);
    for (const m of r % 2 === 0 ? [0, 1] as const : [1, 0] as const) times[m].push(await runOnce(m));
    const rounds = r + 1;
    if (rounds < options.minRounds) continue;
    if (performance.now() - started > options.budgetMs) break;
    // Looks at the interval only when the rounds double (10, 20, 40, ...): few looks keep the 95% honest.
    if (!Number.isInteger(Math.log2(rounds / options.minRounds))) continue;
    const summary = pairedSummary(times[0], times[1]);
    if (summary.low > line || summary.high < line) break;
    if (options.giveUpAfter !== undefined && rounds >= options.giveUpAfter && summary.ratio >= line) break;
  }
  return pairedSummary(times[0], times[1]);
}
