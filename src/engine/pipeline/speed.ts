// Step 5b: the speed-aware choice (--speed-aware auto) and the per-node time profile. ORT's profiler times every
// kernel of the FP32 and the INT8 model (batch 1, one thread; the FP32 one, and the first INT8 one when the bias
// shifts leave the graph as it was, on the profiling thread during single-threaded work before the step: see
// startFp32Timing); regions where int8 plus the Q/DQ at their borders lose time (speed-regions.ts) go back to float,
// the model is rebuilt and timed end to end against the current one (alternating runs, median ratio with its
// confidence interval), and kept only when it is faster beyond the noise and by at least 1 %; repeated on the new
// model's profile while it pays. The result is never slower than FP32 (the final layout timed against it, interleaved
// unless the profiles already show a wide margin): when no INT8 layout beats it, the written model keeps every layer
// in float and the Report says so (the profile of the INT8 layout before the choice shows why). Every decision and its
// measured effect goes into the Report's `speed`.
import { OctetError } from '../../common/errors';
import type { SpeedDecision, SpeedReport, TimeProfile } from '../../common/report';
import { Graph } from '../../onnx/graph';
import { encodeSplit, SplitModel } from '../../onnx/proto';
import { sameStructure } from '../../onnx/structure';
import { computesInInt8, Conversion, ConvertChoice } from '../../quant/convert';
import { ruleFor, runsInt8Kernel } from '../../quant/registry';
import { roundTo } from '../../common/numbers';
import { SlowRegion, slowRegions, tryRegions } from '../accuracy/speed-regions';
import { benchFeeds, Feeds } from '../runtime/bench';
import type { SessionModel } from '../runtime/session';
import { DEFAULT_PAIRED, PairedOptions, PairedTiming, timePair } from '../runtime/paired-timing';
import { int8KernelNodes, KernelProfile, median, profileKernels, ProfileOptions, timeProfile } from '../runtime/profile';
import { profileAside } from '../runtime/profile-aside';
import type { CalibrationData } from './calibration-data';
import type { Chosen } from './choose';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';

/**
 * Profiled runs per model after warm-up: 20 for fast models (up to 15 ms a run), fewer for slow ones (about 0.3 s
 * of profiling each, at least 5 runs), for per-kernel medians the end-to-end trials check anyway. ResNet-50's FP32
 * profile took 1.3 s of the run at a second's worth (11 runs); at half a second, 7 runs, its speed step still took
 * 1.7 s of an 18.5 s run.
 */
const PROFILE_RUNS = { min: 5, max: 20, warmup: 2, targetMs: 300 };
/** Rounds of profile → regions → trial. */
const MAX_ROUNDS = 3;
/** Regions tried one at a time (speed-regions.ts tryRegions): in float when keeping them all float together did not
 *  pay, back in int8 when it did. */
const SINGLE_TRIES = 3;
/** Time the search may take (s); the final check against FP32 always runs (see CLEARLY_FASTER for how). */
const SEARCH_BUDGET_S = 40;
/** A node counts as losing time in int8 only beyond this share of the INT8 model's kernel time (and 2 µs). */
const MIN_LOSS_SHARE = 0.004;
/**
 * A trial's float layout is kept only when it is faster by at least this share (the 95 % interval's upper end below
 * 1 − MIN_SPEED_GAIN). A smaller gain, though significant within one session, is within what timings of the same two
 * models differ by between sessions: ResNet-20 CIFAR kept one Add float for a ratio of 0.995 (95 % 0.986–0.998), and
 * the benchmark's own interleaved timing then found the model 4 % slower than ORT's tool's, where it had been 1.00x.
 */
const MIN_SPEED_GAIN = 0.01;
/** The ratio (trial / current) a trial's interval must lie below to be kept; its timing stops once it is clear of it. */
const TRIAL_LINE = 1 - MIN_SPEED_GAIN;
/**
 * A trial's timing ends after this many rounds (or ms) undecided, or from 48 rounds on when its median ratio is not
 * below TRIAL_LINE, and the trial is not kept: one whose ratio sits at the line gains next to nothing either way.
 * MobileNet-V1: a one-node trial at 1.001 (95 % 0.981–1.049) ran 320 rounds, 2 s of a 6 s run; one at 1.017 still ran
 * 96. The final check against FP32 keeps DEFAULT_PAIRED's limits.
 */
const TRIAL_LIMITS = { maxRounds: 96, budgetMs: 3000, giveUpAfter: 48 };
/**
 * The final check against FP32 needs no interleaved timing when the profiled runs (ORT's own run times, medians)
 * already put the INT8 layout at most this share of FP32's time: a margin no load change between the two profiles
 * comes near (the VM varies ±10 %). ResNet-50: 0.30; the paired check cost it 0.9 s.
 */
const CLEARLY_FASTER = 0.8;

/** Whether a trial timed against the current layout is kept: faster by MIN_SPEED_GAIN or more, with 95 % confidence. */
export function fasterEnough(t: Pick<PairedTiming, 'high'>): boolean {
  return t.high < TRIAL_LINE;
}

/**
 * FP32 against INT8 from the profiles' run times (medians of ORT's own run durations) when they are decisive — INT8
 * at most CLEARLY_FASTER of FP32's time — else null (the pair is then timed interleaved). Rounds 0: not interleaved.
 */
export function profiledTiming(fp32RunMs: readonly number[], int8RunMs: readonly number[]): PairedTiming | null {
  const [fp32Ms, int8Ms] = [median(fp32RunMs), median(int8RunMs)];
  if (!(fp32Ms > 0 && int8Ms > 0) || int8Ms > CLEARLY_FASTER * fp32Ms) return null;
  const ratio = roundTo(int8Ms / fp32Ms);
  return { aMs: roundTo(fp32Ms), bMs: roundTo(int8Ms), ratio, low: ratio, high: ratio, rounds: 0 };
}

export const SPEED_REASON = 'slower in int8 (measured): the speed-aware choice kept it in float';

export interface SpeedTiming {
  profile: TimeProfile | null;
  speed: SpeedReport | null;
}

/** What the speed step hands on: the conversion to evaluate, and what the final timing needs. */
export interface Timed {
  chosen: Chosen;
  timing: SpeedTiming | null;
  /** Measures the profile of another conversion (the one --max-drop tuning kept), against the same FP32 profile. */
  reprofile: ((c: Conversion) => Promise<TimeProfile>) | null;
  /** Times the written model against FP32 (same settings as the search). */
  againstFp32: ((c: Conversion) => Promise<PairedTiming>) | null;
  /** The conversion `timing.profile` describes. */
  profiled: Conversion | null;
}

/**
 * Models whose FP32 weights are at most this many bytes are profiled on a thread of their own while the first
 * conversion is built (profile-aside.ts); larger ones after it, on this thread (the thread holds a copy of the model
 * and a session of its own while the conversion holds its own memory).
 */
const PROFILE_ASIDE_MAX_BYTES = 256 * 2 ** 20;

/** What the speed step times the INT8 layouts against: the FP32 model, the feeds, and the FP32 per-kernel profile. */
export interface Fp32Timing {
  model: SplitModel;
  feeds: Feeds;
  /** The profile (started when the timing was: see startFp32Timing). */
  profile: () => Promise<KernelProfile>;
  /**
   * Starts the INT8 profile of `conversion` on the profiling thread ahead of the step — once per run, when the FP32
   * profile was taken there and is done (else nothing).
   */
  profileAhead(conversion: Conversion): void;
  /** The profile taken ahead, when its conversion has the same structure as `conversion` (once), else null. */
  takeAhead(conversion: Conversion): Promise<KernelProfile> | null;
}

function profileOptions(run: Run): ProfileOptions {
  return { runs: PROFILE_RUNS.min, maxRuns: PROFILE_RUNS.max, targetMs: PROFILE_RUNS.targetMs, warmup: PROFILE_RUNS.warmup, threads: 1, signal: run.signal };
}

/**
 * The FP32 side of the speed step (null when the run has no speed step), its profile started at once on a thread of its
 * own when the model is small enough — call it once the reference's weights are final (the statistics pass's runs are
 * done: the equalization has rescaled them), before the conversions are built.
 */
export function startFp32Timing(run: Run, model: PreparedModel, data: CalibrationData): Fp32Timing | null {
  if (run.request.speedAware !== 'auto' && !run.request.benchmark) return null;
  const fp32Model = encodeSplit(model.reference);
  const feeds = benchFeeds(model.input.name, model.input.shape, model.input.fixedBatch ?? 1, data.firstSample);
  const weightBytes = fp32Model.external.reduce((n, e) => n + e.data.byteLength, 0);
  if (weightBytes > PROFILE_ASIDE_MAX_BYTES) {
    return { model: fp32Model, feeds, profile: () => profileKernels(fp32Model, feeds, profileOptions(run), run.workDir, run.paths.model),
      profileAhead: () => undefined, takeAhead: () => null };
  }
  // Stopped when the run ends, however it ends (the run's folder goes once the thread has stopped).
  const aside = (model: SplitModel, label: string): Promise<KernelProfile> => {
    const profile = profileAside(model, feeds, { ...profileOptions(run), signal: run.lifetime }, run.workDir, label);
    // Awaited by the speed step; a run that fails before it must not see the rejection reported as unhandled.
    profile.catch(() => undefined);
    return profile;
  };
  const started = aside(fp32Model, run.paths.model);
  let fp32Done = false;
  void started.then(() => { fp32Done = true; }, () => undefined);
  // The INT8 profile taken ahead: of a conversion before its bias shifts, while they are computed and applied on this
  // thread (they change values, not the graph, so it stands for the corrected one: the speed step's first profile is
  // then ready, or nearly).
  let ahead: { conversion: Conversion; profile: Promise<KernelProfile> } | null = null;
  let aheadStarted = false;
  return {
    model: fp32Model, feeds, profile: () => started,
    profileAhead: (conversion) => {
      // Never beside the FP32 profile: two profiles on one free core would time each other.
      if (aheadStarted || !fp32Done) return;
      aheadStarted = true;
      ahead = { conversion, profile: aside({ graph: conversion.bytes, external: [] }, run.paths.out) };
    },
    takeAhead: (conversion) => {
      const taken = ahead;
      ahead = null;
      return taken && sameStructure(taken.conversion.model, conversion.model) ? taken.profile : null;
    },
  };
}

export async function chooseForSpeed(run: Run, model: PreparedModel, fp32: Fp32Timing | null, chosen: Chosen): Promise<Timed> {
  const { request, paths } = run;
  const auto = request.speedAware === 'auto';
  if (!fp32) return { chosen, timing: null, reprofile: null, againstFp32: null, profiled: null };
  const started = performance.now();
  const graph = new Graph(model.reference.graph!);
  const { model: fp32Model, feeds } = fp32;
  const batch = model.input.fixedBatch ?? 1;
  const profileOf = (runnable: SessionModel, label: string): Promise<KernelProfile> => profileKernels(runnable, feeds, profileOptions(run), run.workDir, label);
  run.progress('convert', 0, 1, 'timing every layer of the FP32 model');
  const fp32Profile = await fp32.profile();
  /** The last profiled conversion and its profiled run times. */
  let lastProfiled: { conversion: Conversion; runMs: readonly number[] } | null = null;
  const reprofile = async (c: Conversion): Promise<TimeProfile> => {
    run.progress('convert', 0, 1, 'timing every layer of the INT8 model');
    const ahead = fp32.takeAhead(c);
    if (ahead) run.log('speed-aware: the INT8 model was profiled while its bias shifts were computed (the same graph)');
    const int8Profile = await (ahead ?? profileOf(c.bytes, paths.out));
    lastProfiled = { conversion: c, runMs: int8Profile.runMs };
    return timeProfile(graph, fp32Profile, c.model, int8Profile, 1, batch);
  };
  const clearlyFaster = (c: Conversion): PairedTiming | null =>
    (lastProfiled?.conversion === c ? profiledTiming(fp32Profile.runMs, lastProfiled.runMs) : null);
  const pair = (a: SessionModel, b: SessionModel, labels: [string, string], limits: Partial<PairedOptions>) =>
    timePair(a, b, feeds, { ...DEFAULT_PAIRED, ...limits, signal: run.signal }, labels);
  const againstFp32 = (c: Conversion) => pair(fp32Model, c.bytes, [paths.model, paths.out], { line: 1 });

  let { choice, conversion } = chosen;
  let profile = await reprofile(conversion);
  if (!auto) return { chosen, timing: { profile, speed: null }, reprofile, againstFp32, profiled: conversion };

  const decisions: SpeedDecision[] = [];
  // What the report shows when no INT8 layout beats FP32: the profile of the layout before the speed-aware choice.
  const planned = { conversion, profile };
  // The last layout that computes in int8 (timed against FP32 when the search leaves nothing in int8).
  let int8Layout = conversion;
  const overBudget = () => (performance.now() - started) / 1000 > SEARCH_BUDGET_S;
  const floatChoice = (nodes: string[]): ConvertChoice => {
    const reasons = new Map(choice.floatReasons ?? []);
    for (const n of nodes) reasons.set(n, SPEED_REASON);
    return { ...choice, exclude: new Set([...choice.exclude, ...nodes]), floatReasons: reasons };
  };
  /** The trial's conversion; null for a layout the calibration did not prepare for (a range it never observed). */
  const buildTrial = async (c: ConvertChoice): Promise<Conversion | null> => {
    try {
      return await chosen.builder.build(c);
    } catch (err) {
      if (!(err instanceof OctetError) || !/was not calibrated/.test(err.message)) throw err;
      run.log(`speed-aware: skipped a trial: ${err.message}`);
      return null;
    }
  };
  const tryFloat = async (regions: SlowRegion[], reason: string): Promise<boolean> => {
    let nodes = regions.flatMap((r) => r.nodes);
    let trialChoice = floatChoice(nodes);
    let trial = await buildTrial(trialChoice);
    if (!trial) return false;
    // Nodes ORT fuses into int8 kernels anyway (an op between a DequantizeLinear and a QuantizeLinear it has a QDQ rule
    // for) cannot be kept float: leave them out, so that the report never calls a node float that runs in int8.
    for (let pass = 0; pass < 3; pass++) {
      const stillInt8 = await int8KernelNodes(trial.bytes, run.workDir, `${paths.out} (trial)`);
      const fused = nodes.filter((n) => stillInt8.has(n));
      if (fused.length === 0) break;
      run.log(`speed-aware: ONNX Runtime runs ${fused.length} of ${nodes.length} node(s) in int8 even when kept float: ${fused.slice(0, 3).join(', ')}${fused.length > 3 ? ', …' : ''}`);
      nodes = nodes.filter((n) => !stillInt8.has(n));
      const int8Now = new Set(conversion.plan.quantized.filter((n) => runsInt8Kernel(n, graph)).map((n) => n.name ?? ''));
      if (!nodes.some((n) => int8Now.has(n))) return false;
      trialChoice = floatChoice(nodes);
      trial = await buildTrial(trialChoice);
      if (!trial) return false;
    }
    const kept = await timeTrial(trialChoice, trial, nodes, 'keep-float', reason);
    if (!kept) rejected.add(regionKey(regions));
    return kept;
  };
  /** Times `trial` against the current layout, records the decision, and adopts the trial when it is faster enough. */
  const timeTrial = async (trialChoice: ConvertChoice, trial: Conversion, nodes: string[], action: SpeedDecision['action'],
    reason: string): Promise<boolean> => {
    const what = `${nodes.length} node(s) ${action === 'keep-float' ? 'in float' : 'back in int8'}`;
    run.progress('convert', 0, 1, `speed-aware: timing ${what}`);
    const t = await pair(conversion.bytes, trial.bytes, [paths.out, `${paths.out} (trial)`], { ...TRIAL_LIMITS, line: TRIAL_LINE });
    const kept = fasterEnough(t);
    const measured = `measured time ratio ${t.ratio.toFixed(3)} (95% ${t.low.toFixed(3)}–${t.high.toFixed(3)}, ${t.rounds} rounds)`;
    decisions.push({ nodes, action, beforeMs: t.aMs, afterMs: t.bMs, kept, reason: `${reason}; ${measured}` });
    run.log(`speed-aware: ${what}: ${t.aMs.toFixed(3)} → ${t.bMs.toFixed(3)} ms, ${measured}: ${kept ? 'kept' : 'not kept'}`);
    if (kept) { choice = trialChoice; conversion = trial; }
    return kept;
  };
  /**
   * Returns `region` to int8 (see tryRegions for when), kept when faster by MIN_SPEED_GAIN. Only nodes this step put in
   * float go back (not those already excluded in `before`, the choice before the trial that kept them float).
   */
  const tryInt8 = async (region: SlowRegion, before: ConvertChoice, reason: string): Promise<boolean> => {
    const back = new Set(region.nodes.filter((n) => choice.exclude.has(n) && !before.exclude.has(n)));
    if (back.size === 0) return false;
    const trialChoice: ConvertChoice = { ...choice, exclude: new Set([...choice.exclude].filter((n) => !back.has(n))),
      floatReasons: new Map([...(choice.floatReasons ?? [])].filter(([n]) => !back.has(n))) };
    const trial = await buildTrial(trialChoice);
    if (!trial) return false;
    const kept = await timeTrial(trialChoice, trial, [...back], 'int8', reason);
    // Measured to lose in float: not tried again in later rounds.
    if (kept) rejected.add(regionKey([region]));
    return kept;
  };
  // Region sets measured not to pay: not tried again in later rounds.
  const rejected = new Set<string>();
  const regionKey = (regions: SlowRegion[]) => regions.flatMap((r) => r.nodes).sort().join('\n');

  for (let round = 0; round < MAX_ROUNDS && !overBudget() && computesInInt8(conversion.plan); round++) {
    const minLossMs = Math.max(0.002, profile.int8TotalMs * MIN_LOSS_SHARE);
    const regions = slowRegions(profile, graph, conversion.plan.quantized, { minLossMs }).filter((r) => !rejected.has(regionKey([r])));
    if (regions.length === 0) break;
    const describe = (rs: SlowRegion[]) => {
      const int8 = rs.reduce((s, r) => s + r.int8Ms, 0);
      const float = rs.reduce((s, r) => s + r.floatMs, 0);
      return `${rs.length > 1 ? `${rs.length} regions: ` : ''}int8 + Q/DQ ${int8.toFixed(3)} ms vs float ${float.toFixed(3)} ms in the profile`;
    };
    const before = choice;
    const changed = await tryRegions(regions, {
      float: (rs) => tryFloat(rs, describe(rs)),
      int8: (r) => tryInt8(r, before, `one of ${regions.length} regions kept float together, back in int8: ${describe([r])}`),
      overBudget,
    }, { singles: SINGLE_TRIES, jointRejected: rejected.has(regionKey(regions)) });
    if (!changed || !computesInInt8(conversion.plan)) break;
    profile = await reprofile(conversion);
    int8Layout = conversion;
  }

  // Never slower than FP32: the final layout against the FP32 model. When the regions left nothing in int8, or what is
  // left is slower beyond the noise, every layer stays float and the report shows the fastest INT8 layout's profile.
  run.progress('convert', 0, 1, 'speed-aware: INT8 against FP32');
  const finalLayout = computesInInt8(conversion.plan) ? conversion : int8Layout;
  const final = clearlyFaster(finalLayout) ?? await againstFp32(finalLayout);
  const int8Ms = final.bMs;
  let fasterThanFp32 = final.ratio < 1 && computesInInt8(conversion.plan);
  if (!computesInInt8(conversion.plan) || final.low > 1) {
    const all = graph.nodes.map((n) => n.name ?? '');
    const reasons = new Map(all.map((n) => [n, choice.floatReasons?.get(n) ?? 'no INT8 layout beat FP32 on this machine (speed-aware choice)'] as const));
    if (computesInInt8(conversion.plan)) {
      decisions.push({ nodes: conversion.quantizedNodes.map((q) => q.node), action: 'keep-float',
        reason: `the fastest INT8 layout took ${final.bMs.toFixed(3)} ms against FP32's ${final.aMs.toFixed(3)} ms `
          + `(time ratio ${final.ratio.toFixed(3)}, 95% ${final.low.toFixed(3)}–${final.high.toFixed(3)}, ${final.rounds} rounds)`,
        beforeMs: final.bMs, afterMs: final.aMs, kept: true });
      choice = { ...choice, exclude: new Set(all), floatReasons: reasons };
      conversion = await chosen.builder.build(choice);
    }
    fasterThanFp32 = false;
    run.warn(`No INT8 layout was faster than FP32 on this CPU (batch 1, one thread: fastest INT8 ${int8Ms.toFixed(2)} ms, FP32 `
      + `${final.aMs.toFixed(2)} ms), so the written model keeps every layer in FP32. The time profile in the report shows where int8 lost.`);
  }
  const shown = computesInInt8(conversion.plan) ? { conversion, profile } : planned;
  const speed: SpeedReport = {
    mode: 'auto', decisions, fp32Ms: final.aMs, int8Ms, fasterThanFp32, seconds: Math.round((performance.now() - started) / 100) / 10,
  };
  return { chosen: { ...chosen, choice, conversion }, timing: { profile: shown.profile, speed }, reprofile, againstFp32, profiled: shown.conversion };
}

/** The profile and speed figures of the model actually written (re-measured when --max-drop tuning changed it). */
export async function finalTiming(run: Run, timed: Timed, written: Conversion): Promise<SpeedTiming> {
  const { timing, reprofile, againstFp32 } = timed;
  if (!timing || !reprofile || !againstFp32 || written === timed.chosen.conversion || !computesInInt8(written.plan)) {
    return timing ?? { profile: null, speed: null };
  }
  const profile = await reprofile(written);
  if (!timing.speed) return { profile, speed: null };
  const t = await againstFp32(written);
  if (t.low > 1) {
    run.warn(`The INT8 model --max-drop kept is slower than FP32 here (batch 1, one thread: ${t.bMs.toFixed(2)} ms vs ${t.aMs.toFixed(2)} ms).`);
  }
  return { profile, speed: { ...timing.speed, fp32Ms: t.aMs, int8Ms: t.bMs, fasterThanFp32: t.ratio < 1 } };
}

/** Layers with weights the written model keeps in float on purpose (--exclude, --max-drop, speed-aware choice). */
export function keptFloatOnPurpose(conversion: Conversion, reference: Graph): number {
  const kinds = new Map(reference.nodes.map((n) => [n.name ?? '', n] as const));
  return conversion.kept.filter((k) => {
    const node = kinds.get(k.node);
    return node !== undefined && ruleFor(node, reference)?.kind === 'weighted' && !/^no int8 kernel|non-float|not quantized/.test(k.reason);
  }).length;
}
