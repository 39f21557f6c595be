// Accuracy-aware mode (--max-drop): when INT8 loses more than the user allows, try the other calibration methods
// (free: the statistics are kept), then return the layers that add the most error to FP32, a growing group at a time,
// until the bound holds, nothing is left, or the time budget is spent. Every trial is measured on the evaluation
// samples (drop, agreement, SQNR) and timed at batch 1 on one thread; the fastest trial that meets the bound wins.
import type { AccuracyResult, CalibrationMethod, LayerError, LayerSensitivity, TuningReport, TuningTrial } from '../../common/report';
import { benchmarkPair } from '../runtime/bench';
import { throwIfCancelled } from '../cancel';
import { Conversion, ConvertChoice } from '../../quant/convert';
import { BuildConversion } from './conversion-builder';
import type { Reference } from '../runtime/evaluate';
import { primaryAgreement } from '../../common/accuracy';
import { ModelInput } from '../../data/model-input';
import { checkSubset, measureSensitivity } from './sensitivity';
import { refineLayerMethods } from './layer-methods';
import { ruleFor, runsInt8Kernel } from '../../quant/registry';

/** Why the accuracy-aware search keeps a layer in float (the report's keptFloat). */
export const ACCURACY_REASON = 'accuracy: returned to FP32 by the accuracy-aware search (--max-drop)';

/** Evaluation samples on which layer sensitivity is measured. */
export const SENSITIVITY_SAMPLES = 16;
/** Share of the tuning budget layer sensitivity may use. */
const SENSITIVITY_BUDGET = 0.5;
/** Most sensitive layers whose tensors get other methods tried before any FP32 fallback, and the budget share by then. */
const LAYER_METHOD_LAYERS = 4;
const LAYER_METHOD_BUDGET = 0.75;

/**
 * Points of accuracy lost: top-1 drop with labels, else the share (in points) of what the model's agreement measure
 * counts that changed (top-1 class, pixel class, step class). Infinity when no output has an agreement measure.
 */
export function accuracyLoss(a: AccuracyResult): number {
  if (a.top1DropPoints !== null) return a.top1DropPoints;
  const agreement = primaryAgreement(a);
  return agreement ? (1 - agreement.value) * 100 : Infinity;
}

/**
 * Quantized nodes ranked by the error they add themselves (the per-layer table's ownSqnrDb: noise at their output
 * minus the worst at their inputs), most first. Data-movement ops add none and are not ranked.
 */
export function rankByOwnError(conversion: Conversion, layers: LayerError[]): { node: string; ownSqnrDb: number }[] {
  const ownOfNode = new Map(layers.map((l) => [l.node, l.ownSqnrDb ?? l.sqnrDb] as const));
  const ranked: { node: string; ownSqnrDb: number }[] = [];
  for (const node of conversion.plan.quantized) {
    if (!runsInt8Kernel(node)) continue;
    const own = ownOfNode.get(node.name ?? '');
    if (own !== undefined) ranked.push({ node: node.name ?? '', ownSqnrDb: own });
  }
  return ranked.sort((a, b) => a.ownSqnrDb - b.ownSqnrDb);
}

export interface TuneRequest {
  build: BuildConversion;
  /** Names errors after the INT8 model being written. */
  label: string;
  start: { choice: ConvertChoice; conversion: Conversion; accuracy: AccuracyResult; layers: LayerError[] };
  /** The evaluation samples with their FP32 outputs. */
  reference: Reference;
  fp32Model: string;
  input: ModelInput;
  benchSample: Float32Array | null;
  maxDrop: number;
  timeoutSeconds: number;
  signal?: AbortSignal;
  onTrial?: (trial: TuningTrial, index: number) => void;
}

function trialOf(changed: string, choice: ConvertChoice, accuracy: AccuracyResult, speedup: number | null, maxDrop: number): TuningTrial {
  return {
    changed, method: choice.method, excluded: [...choice.exclude].sort(), top1DropPoints: accuracy.top1DropPoints,
    agreement: primaryAgreement(accuracy)?.value ?? 0, outputSqnrDb: accuracy.outputSqnrDb, speedup, meetsBound: accuracyLoss(accuracy) <= maxDrop, kept: false,
  };
}

function metricOf(accuracy: AccuracyResult): TuningReport['metric'] {
  return accuracy.labelled ? 'top1-drop-points' : 'agreement-loss-points';
}

/** The tuning section when the first model already meets the bound: one trial, nothing searched. */
export function boundMetAtStart(maxDrop: number, choice: ConvertChoice, accuracy: AccuracyResult): TuningReport {
  return {
    maxDrop, metric: metricOf(accuracy), trials: [{ ...trialOf('starting point', choice, accuracy, null, maxDrop), kept: true }],
    stoppedBy: 'bound-met', boundMet: true, seconds: 0, note: 'The first INT8 model met the bound; no layer was returned to FP32.',
  };
}

/** The calibrated tensors whose ranges a quantized node depends on: its activation inputs and its output. */
function rangesOf(conversion: Conversion, layers: readonly LayerError[], node: string): string[] {
  const { plan } = conversion;
  const calibrated = new Set(plan.calibrationTensors);
  const found = plan.quantized.find((n) => n.name === node);
  const rule = found ? ruleFor(found) : undefined;
  const inputs = found && rule ? rule.activationInputs(found).map((i) => found.input[i]) : [];
  const output = layers.find((l) => l.node === node)?.tensor;
  const tensors = [...inputs, ...(output ? [output] : [])].map((t) => plan.sharedParams.get(t) ?? t);
  return [...new Set(tensors.filter((t) => calibrated.has(t)))];
}

export interface TuneOutcome {
  report: TuningReport;
  conversion: Conversion;
  accuracy: AccuracyResult;
  choice: ConvertChoice;
  /** Measured when the search got that far. */
  sensitivity: LayerSensitivity[] | null;
}

async function measure(request: TuneRequest, conversion: Conversion): Promise<{ accuracy: AccuracyResult; speedup: number }> {
  const accuracy = await request.reference.compare(conversion.bytes, request.label, { signal: request.signal });
  const bench = await benchmarkPair(request.fp32Model, conversion.bytes, request.input.name, request.input.shape, request.benchSample,
    { threads: 1, batch: request.input.fixedBatch ?? 1, runs: 9, warmup: 2, signal: request.signal }, [request.fp32Model, request.label]);
  return { accuracy, speedup: bench.speedup };
}

export async function tune(request: TuneRequest): Promise<TuneOutcome> {
  const started = performance.now();
  const trials: TuningTrial[] = [];
  const candidates: { trial: TuningTrial; conversion: Conversion; accuracy: AccuracyResult; choice: ConvertChoice }[] = [];
  const overBudget = () => (performance.now() - started) / 1000 > request.timeoutSeconds;
  const record = async (changed: string, choice: ConvertChoice, conversion: Conversion, measured?: { accuracy: AccuracyResult; speedup: number }) => {
    const m = measured ?? await measure(request, conversion);
    const trial = trialOf(changed, choice, m.accuracy, m.speedup, request.maxDrop);
    trials.push(trial);
    candidates.push({ trial, conversion, accuracy: m.accuracy, choice });
    request.onTrial?.(trial, trials.length - 1);
    return trial;
  };

  let stoppedBy: TuningReport['stoppedBy'] = 'exhausted';
  let best = await record('starting point', request.start.choice, request.start.conversion);
  if (best.meetsBound) stoppedBy = 'bound-met';

  // 1. Other calibration methods: same speed, maybe less error.
  let base = candidates[0];
  const methods: CalibrationMethod[] = ['mse', 'percentile', 'entropy', 'minmax'];
  for (const method of methods) {
    if (stoppedBy === 'bound-met' || method === request.start.choice.method) continue;
    if (overBudget()) { stoppedBy = 'timeout'; break; }
    throwIfCancelled(request.signal);
    const choice = { ...request.start.choice, method };
    const trial = await record(`method ${method}`, choice, await request.build(choice));
    const current = candidates[candidates.length - 1];
    if (accuracyLoss(current.accuracy) < accuracyLoss(base.accuracy)) base = current;
    if (trial.meetsBound) stoppedBy = 'bound-met';
  }

  // 2. Measure which layers matter most to the output (proxy order, within budget).
  let sensitivity: LayerSensitivity[] | null = null;
  let ranking: string[] = [];
  const check = checkSubset(request.reference, SENSITIVITY_SAMPLES, { label: request.label, signal: request.signal });
  if (stoppedBy === 'exhausted') {
    const proxy = rankByOwnError(request.start.conversion, request.start.layers).map((r) => r.node);
    sensitivity = await measureSensitivity(request.build, base.choice, check, proxy, started + request.timeoutSeconds * 1000 * SENSITIVITY_BUDGET);
    const measured = new Set(sensitivity.map((s) => s.node));
    ranking = [...sensitivity.map((s) => s.node), ...proxy.filter((n) => !measured.has(n))];
  }

  // 3. Other methods for the ranges the most sensitive layers read and write: keeps them in int8.
  const sensitive = (sensitivity ?? []).filter((s) => s.outputSqnrGainDb > 0).slice(0, LAYER_METHOD_LAYERS);
  if (stoppedBy === 'exhausted' && sensitive.length > 0 && !overBudget()) {
    const tensors = sensitive.map((s) => rangesOf(request.start.conversion, request.start.layers, s.node));
    const refined = await refineLayerMethods(request.build, base.choice, check, tensors, methods,
      started + request.timeoutSeconds * 1000 * LAYER_METHOD_BUDGET);
    const changed = [...refined.tensorMethods].filter(([t, m]) => base.choice.tensorMethods?.get(t) !== m);
    if (changed.length > 0) {
      const choice = { ...base.choice, tensorMethods: refined.tensorMethods };
      const trial = await record(`methods per layer: ${changed.map(([t, m]) => `${t} ${m}`).join(', ')}`, choice, await request.build(choice));
      const current = candidates[candidates.length - 1];
      if (accuracyLoss(current.accuracy) <= accuracyLoss(base.accuracy)) base = current;
      if (trial.meetsBound) stoppedBy = 'bound-met';
    }
  }

  // 4. Fall back to FP32 the layers that matter most, in growing groups (1, 2, 4, ...).
  if (stoppedBy === 'exhausted') {
    for (let count = 1, previous = 0; previous < ranking.length; previous = count, count = Math.min(ranking.length, count * 2)) {
      if (overBudget()) { stoppedBy = 'timeout'; break; }
      throwIfCancelled(request.signal);
      const group = ranking.slice(previous, count);
      const exclude = new Set([...base.choice.exclude, ...ranking.slice(0, count)]);
      const floatReasons = new Map(base.choice.floatReasons ?? []);
      for (const node of ranking.slice(0, count)) if (!floatReasons.has(node)) floatReasons.set(node, ACCURACY_REASON);
      const choice = { ...base.choice, exclude, floatReasons };
      const trial = await record(`FP32: ${group.join(', ')}`, choice, await request.build(choice));
      if (trial.meetsBound) { stoppedBy = 'bound-met'; break; }
    }
  }

  const meeting = candidates.filter((c) => c.trial.meetsBound);
  const chosen = meeting.length > 0
    ? meeting.reduce((a, b) => ((b.trial.speedup ?? 0) > (a.trial.speedup ?? 0) ? b : a))
    : candidates.reduce((a, b) => (accuracyLoss(b.accuracy) < accuracyLoss(a.accuracy) ? b : a));
  chosen.trial.kept = true;
  best = chosen.trial;
  return {
    report: {
      maxDrop: request.maxDrop, metric: metricOf(request.start.accuracy),
      trials, stoppedBy, seconds: Math.round((performance.now() - started) / 100) / 10,
      boundMet: best.meetsBound,
      note: best.meetsBound ? null : `No trial met the bound of ${request.maxDrop} points; kept the most accurate (${accuracyLoss(chosen.accuracy).toFixed(2)} points).`,
    },
    conversion: chosen.conversion, accuracy: chosen.accuracy, choice: chosen.choice, sensitivity,
  };
}
