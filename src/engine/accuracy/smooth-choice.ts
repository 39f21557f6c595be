// SmoothQuant as a measured choice. It changes the FP32 reference (γ/β of LayerNorms, weights of the layers reading
// them), so it needs its own conversions: the smoothed reference reuses every calibration statistic except those of
// the tensors it changed, which one short pass recalibrates; a second ConversionBuilder builds from it. Tried last, on
// the combination of techniques already chosen; 'auto' keeps the smoothed builder only when its conversion beats the
// original's on the check set (see beats).
import type { Report, TechniqueChoice } from '../../common/report';
import { Conversion, ConvertChoice, planFor } from '../../quant/convert';
import { TensorStats } from '../../quant/histogram';
import { collectStatistics } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { beats, CheckScore, checkScore, CheckSet } from './auto-choice';
import { ConversionBuilder } from './conversion-builder';
import { smoothReference } from './smooth-pass';
import { roundTo } from '../../common/numbers';

export interface SmoothChoice {
  /** The builder the rest of the run uses (the smoothed one when SmoothQuant is kept) and its conversion of the choice. */
  builder: ConversionBuilder;
  conversion: Conversion;
  report: NonNullable<Report['calibration']['smoothQuant']> | null;
}

/**
 * Tries SmoothQuant on the builder's reference for the conversion chosen so far (`current`, with its check score when
 * it has one): activation maxima come from `measured` (the statistics pass's) or `samples` (the calibration samples),
 * the changed tensors' statistics from `samples`.
 */
export async function chooseSmoothQuant(builder: ConversionBuilder, current: { choice: ConvertChoice; conversion: Conversion; score: CheckScore | null },
  check: () => Promise<CheckSet>, request: TechniqueChoice, samples: SampleSet, measured?: ReadonlyMap<string, Float64Array>): Promise<SmoothChoice> {
  const unchanged = { builder, conversion: current.conversion, report: null };
  if (request === 'off') return unchanged;
  const { setup } = builder;
  const { reference, ctx, input, options } = setup;
  const { plan } = planFor(reference, ctx, current.choice.exclude);
  const quantized = new Set(plan.quantized.map((n) => n.name));
  const smoothed = await smoothReference(reference, { facts: ctx.facts, opset: ctx.opset, eligible: (n) => quantized.has(n.name) }, samples, input,
    options, ctx.label, measured);
  if (!smoothed || smoothed.layers.length === 0) return unchanged;
  const started = performance.now();
  const recalibrate = smoothed.changedTensors.filter((t) => setup.stats.has(t));
  // Optimized like the main statistics pass: exposed tensors stay graph outputs through ORT's optimizations.
  const fresh = recalibrate.length > 0
    ? (await collectStatistics(smoothed.model, recalibrate, samples, input, { ...options, level: 'all' }, ctx.label)).stats : new Map();
  const stats = new Map<string, TensorStats>([...setup.stats, ...fresh]);
  const smoothBuilder = new ConversionBuilder({ ...setup, reference: smoothed.model, stats,
    rounding: setup.rounding?.forReference(smoothed.model, smoothed.changedTensors, smoothed.factors) });
  const conversion = await smoothBuilder.build(current.choice);
  const seconds = roundTo(smoothed.seconds + (performance.now() - started) / 1000);
  if (request === 'on') return { builder: smoothBuilder, conversion, report: { applied: true, layers: smoothed.layers, seconds, outputSqnrDb: null } };
  const off = current.score ?? await checkScore(await check(), current.conversion);
  const on = await checkScore(await check(), conversion);
  const applied = beats(on, off);
  const report = { applied, layers: smoothed.layers, seconds, outputSqnrDb: { off: off.outputSqnrDb, on: on.outputSqnrDb } };
  return applied ? { builder: smoothBuilder, conversion, report } : { ...unchanged, report };
}
