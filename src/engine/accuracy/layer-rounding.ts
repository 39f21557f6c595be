// Layer-wise weight rounding for the conversions of one run: gathers the input moments of the weighted layers in scope
// once (on demand, cached per layer), and hands the rewrite a WeightRounder that replaces round-to-nearest codes by
// codes chosen from those moments (src/quant/weight-rounding.ts). Results are cached per layer, code range and scales,
// so tuning trials and method comparisons reuse them; every layer's error before/after is kept for the report.
import type { WeightRoundingLayer } from '../../common/report';
import { Graph } from '../../onnx/graph';
import { ModelProto, NodeProto } from '../../onnx/proto';
import { WeightRounder } from '../../quant/rewrite';
import { DEFAULT_ROUNDING, InputMoments, LayerLimits, RoundedLayer, roundJob, RoundLayerJob, WeightRoundingOptions } from '../../quant/weight-rounding';
import { InternalError } from '../../common/errors';
import { defaultWorkerCount, WorkerPool, workerScript } from '../../common/workers';
import { roundTo, sqnrDbOf } from '../../common/numbers';
import type { TensorFacts } from '../../quant/convert';
import { CalibrationOptions } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { asideSettled } from '../runtime/session';
import { ModelInput } from '../../data/model-input';
import { collectInputMoments, DEFAULT_MOMENT_LIMITS, MomentLimits, momentsOfScaled, MomentTarget, planMoments, RoundingCost, roundingCost } from './input-moments';

/** Which layers are rounded: the cheapest ones within ROUNDING_BUDGET_SECONDS ('budget', --weight-rounding auto), or
 *  every one it can ('all', --weight-rounding on). */
export type RoundingScope = 'budget' | 'all';

/**
 * Seconds the 'budget' scope may spend, cheapest layers first, as estimated from roundingCost at the rates below
 * (2 cores): most layers of a mobile-size model (MobileNet-V1 0.75: 23 of 28, 0.9 s solving; all 28 took 1.9 s),
 * the small layers of a large one (ResNet-50: 18 of 54; all took 36 s solving, 34 s gathering), fewer at high
 * resolution (a YOLO-style detector at 640×640: 30 of 56).
 */
export const ROUNDING_BUDGET_SECONDS = 3;
/** Multiply-adds per second: the JavaScript solve (MobileNet-V1: 2.7e9 in 1.9 s; kept at that rate since the inner
 *  loops became WebAssembly kernels, ~1.7x faster, so that the budget picks the same layers) and ONNX Runtime
 *  gathering the moments — the slowest seen (a YOLO-style detector at 640×640: 5.5e11 in 29 s) so that large inputs
 *  stay bounded. */
export const SOLVE_RATE = 1.4e9;
export const GATHER_RATE = 2e10;

export interface LayerRoundingSetup {
  reference: ModelProto;
  facts: ReadonlyMap<string, TensorFacts>;
  /** Calibration samples the moments are gathered on. */
  samples: SampleSet;
  input: ModelInput;
  options: CalibrationOptions;
  label: string;
  scope: RoundingScope;
  limits?: MomentLimits;
  rounding?: WeightRoundingOptions;
}

/** One layer's rounding: its codes and its report line. */
export interface RoundedWeights { codes: Int8Array; layer: WeightRoundingLayer }

/** Layers still to round, by the key their result is kept under. */
export type RoundingJobs = Map<string, { name: string; job: RoundLayerJob }>;

export class LayerRounding {
  private readonly graph: Graph;
  private readonly moments = new Map<string, InputMoments>();
  private readonly targets = new Map<string, MomentTarget>();
  private readonly skipped = new Map<string, string>();
  private readonly rounded = new Map<string, RoundedWeights>();
  /** Seconds spent gathering input moments (ORT passes) and choosing codes (JS). */
  momentSeconds = 0;
  solveSeconds = 0;

  /** Names of the layers in scope. */
  private readonly scoped: ReadonlySet<string>;

  constructor(private readonly setup: LayerRoundingSetup) {
    this.graph = new Graph(setup.reference.graph!);
    const secondsOf = (c: RoundingCost) => c.solve / SOLVE_RATE + (c.gatherPerSample * setup.samples.size) / GATHER_RATE;
    const costed = this.graph.nodes.map((n) => {
      const cost = roundingCost(n, this.graph, setup.facts);
      return { name: n.name ?? n.output[0], seconds: cost && secondsOf(cost) };
    }).filter((c): c is { name: string; seconds: number } => c.seconds !== null).sort((a, b) => a.seconds - b.seconds);
    let spent = 0;
    this.scoped = new Set(costed.filter((c) => setup.scope === 'all' || (spent += c.seconds) <= ROUNDING_BUDGET_SECONDS).map((c) => c.name));
  }

  get scope(): RoundingScope { return this.setup.scope; }

  /** Whether a node of the reference is in scope (has a weight rounding can change, within the budget for 'budget'). */
  inScope(node: NodeProto): boolean {
    return this.scoped.has(node.name ?? node.output[0]);
  }

  /**
   * How the moments of the given weighted nodes in scope that have none yet would be gathered (over the setup's
   * samples); the layers that cannot be are recorded as skipped.
   */
  planMissing(nodes: readonly NodeProto[]): MomentTarget[] {
    const byName = new Map(this.graph.nodes.map((n) => [n.name ?? n.output[0], n] as const));
    const missing = nodes.map((n) => byName.get(n.name ?? n.output[0])).filter((n): n is NodeProto => n !== undefined
      && this.inScope(n) && !this.targets.has(n.name ?? '') && !this.skipped.has(n.name ?? ''));
    if (missing.length === 0) return [];
    const plan = planMoments(this.graph, missing, this.setup.facts, this.setup.limits ?? DEFAULT_MOMENT_LIMITS, this.setup.samples.size);
    for (const s of plan.skipped) this.skipped.set(s.node, s.reason);
    return plan.targets;
  }

  /** Takes the moments gathered for `targets` (by collectInputMoments, or folded into another pass), and the seconds it took. */
  adopt(targets: readonly MomentTarget[], gathered: ReadonlyMap<string, InputMoments>, seconds: number): void {
    for (const t of targets) {
      const m = gathered.get(t.node);
      if (m) { this.targets.set(t.node, t); this.moments.set(t.node, m); } else this.skipped.set(t.node, 'no input vectors were seen');
    }
    this.momentSeconds += seconds;
  }

  /** Gathers the moments of the given weighted nodes in scope that have none yet (one pass over the samples). */
  async prepare(nodes: readonly NodeProto[]): Promise<void> {
    const targets = this.planMissing(nodes);
    if (targets.length === 0) return;
    const started = performance.now();
    const { samples, reference, input, options, label } = this.setup;
    const gathered = await collectInputMoments(reference, targets, samples, input, options, label);
    this.adopt(targets, gathered, (performance.now() - started) / 1000);
  }

  /**
   * The same rounding for a reference where SmoothQuant divided each channel j of `changedTensors` by s[j] (`factors`)
   * and multiplied the weights reading it by s[j]: the moments of a Gemm/MatMul reading such a tensor are those of x/s,
   * Σ (x/s)(x/s)ᵀ = D⁻¹ Σ x xᵀ D⁻¹ with D = diag(s), exact without another pass (ConvNeXt-T: the pass took 4 s of its
   * SmoothQuant trial); the other layers keep theirs; any other reader of a changed tensor is gathered again when needed.
   */
  forReference(reference: ModelProto, changedTensors: readonly string[], factors: ReadonlyMap<string, Float64Array> = new Map()): LayerRounding {
    const next = new LayerRounding({ ...this.setup, reference });
    const changed = new Set(changedTensors);
    for (const [name, target] of this.targets) {
      const node = next.graph.nodes.find((n) => n.name === name);
      if (!node) continue;
      const moments = this.moments.get(name)!;
      if (!changed.has(node.input[0])) next.adopt([target], new Map([[name, moments]]), 0);
      else {
        const s = factors.get(node.input[0]);
        const scaled = s ? momentsOfScaled(moments, target, s) : null;
        if (scaled) next.adopt([target], new Map([[name, scaled]]), 0);
      }
    }
    return next;
  }

  /** Layers in scope skipped, with why (e.g. a kernel larger than a block). */
  skippedLayers(): { node: string; reason: string }[] {
    return [...this.skipped].map(([node, reason]) => ({ node, reason }));
  }

  /** The job of rounding `node`'s weight from its nearest codes, with the key its result is cached by (null: out of scope). */
  private jobOf(node: NodeProto, weights: Float32Array, dims: readonly number[], nearest: { values: Int8Array; scales: Float32Array },
    limits: LayerLimits): { key: string; name: string; job: RoundLayerJob } | null {
    const name = node.name ?? node.output[0];
    const target = this.targets.get(name);
    const moments = this.moments.get(name);
    if (!target || !moments) return null;
    // A view into a larger buffer would be copied whole to a rounding thread: the job owns its values.
    const owned = weights.byteOffset === 0 && weights.byteLength === weights.buffer.byteLength ? weights : weights.slice();
    return { key: `${name}|${limits.qmax}|${limits.pairSafe}|${nearest.scales.join(',')}`, name, job: {
      weights: owned, dims: [...dims], layout: target.layout, scales: nearest.scales, nearest: nearest.values, moments, limits,
      options: this.setup.rounding ?? DEFAULT_ROUNDING,
    } };
  }

  private keep(key: string, name: string, r: RoundedLayer, seconds: number): RoundedWeights {
    const target = this.targets.get(name)!;
    const result = {
      codes: r.codes,
      layer: {
        node: name, inputs: target.inputs, blockSize: target.size, samples: this.moments.get(name)!.count,
        nearestSqnrDb: sqnrDbOf(r.signal, r.nearestError), sqnrDb: sqnrDbOf(r.signal, r.error), rowsChanged: r.rowsChanged, seconds: roundTo(seconds),
      },
    };
    this.rounded.set(key, result);
    return result;
  }

  /**
   * A rounder that rounds nothing: it lists the layers a conversion would have `rounder` solve (not solved yet), so
   * that solveAll can solve them at once before the conversion is made again.
   */
  collector(jobs: RoundingJobs): WeightRounder {
    return (node, weights, dims, nearest, limits) => {
      const job = this.jobOf(node, weights, dims, nearest, limits);
      if (job && !this.rounded.has(job.key)) jobs.set(job.key, job);
      return undefined;
    };
  }

  /** Solves the collected layers on rounding threads, one per core, largest first; each result is kept for `rounder`. */
  async solveAll(jobs: RoundingJobs): Promise<void> {
    if (jobs.size === 0) return;
    // The solve takes every core: a profile timed on another thread finishes first (as ORT sessions wait for it).
    await asideSettled();
    const started = performance.now();
    const size = (j: RoundLayerJob) => j.weights.length * j.moments.size;
    const ordered = [...jobs].sort(([, a], [, b]) => size(b.job) - size(a.job));
    try {
      await Promise.all(ordered.map(async ([key, { name, job }]) => {
        const r = await roundingPool().run(job);
        this.keep(key, name, r, r.seconds);
      }));
    } finally {
      // The threads go with their heaps (copies of the moments and weights they were sent): a run solves once or twice.
      await closeRoundingPool();
    }
    this.solveSeconds += (performance.now() - started) / 1000;
  }

  /** A rounder that records the layers it rounded into `used` (solving here those solveAll did not). */
  rounder(used: Map<string, RoundedWeights>): WeightRounder {
    return (node, weights, dims, nearest, limits) => {
      const found = this.jobOf(node, weights, dims, nearest, limits);
      if (!found) return undefined;
      const { key, name, job } = found;
      let result = this.rounded.get(key);
      if (!result) {
        const started = performance.now();
        const r = roundJob(job);
        const seconds = (performance.now() - started) / 1000;
        this.solveSeconds += seconds;
        result = this.keep(key, name, r, seconds);
      }
      if (result.layer.rowsChanged === 0) return undefined;
      used.set(name, result);
      return result.codes;
    };
  }
}

/** The script esbuild.mjs bundles from src/quant/round-worker.ts. */
export const ROUND_WORKER = 'round-worker';

let pool: WorkerPool<RoundLayerJob, RoundedLayer & { seconds: number }> | null = null;

/** The rounding threads, one per core, started when layers are to be solved and closed when they are. */
function roundingPool(): WorkerPool<RoundLayerJob, RoundedLayer & { seconds: number }> {
  pool ??= new WorkerPool({
    script: workerScript(ROUND_WORKER), size: defaultWorkerCount(),
    crashError: (_job, cause) => new InternalError(`a weight-rounding thread died (${cause})`),
  });
  return pool;
}

async function closeRoundingPool(): Promise<void> {
  const closing = pool;
  pool = null;
  await closing?.close();
}
