// Builds the INT8 conversions a run needs (the written model, the methods compared by --method auto, the technique
// candidates, the tuning trials): convert() from the kept calibration statistics — with weights rounded from
// calibration data and LayerNorm/Softmax pieces kept in float when the choice asks for it — then bias correction when
// the choice asks for it. Bias shifts and input moments are measured on demand and cached per layer (and input scale;
// rounded layers apart), so trials that only exclude layers or reuse a method measure nothing new, and a comparison
// can have the shifts of all its candidates measured in one pass (measureShifts). The last conversion is kept, so
// building it again with or without correction converts nothing new.
import { copyProto, Graph, opsetVersion } from '../../onnx/graph';
import { encodeModel, ModelProto } from '../../onnx/proto';
import { TensorStats } from '../../quant/histogram';
import { applyBiasShifts, BiasTarget, findBiasTargets, measureBiasShifts } from './bias-correction';
import { CalibrationOptions } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { Conversion, ConvertChoice, ConvertContext, convertModel, planFor } from '../../quant/convert';
import { ModelInput } from '../../data/model-input';
import { ConversionCache } from '../../quant/conversion-cache';
import { ruleFor } from '../../quant/registry';
import { normFloatNodes } from '../../quant/smooth-norms';
import { LayerRounding, RoundedWeights, RoundingJobs } from './layer-rounding';
import { correctSequentially } from './sequential-bias';
import { alignForKernels } from '../../quant/kernel-alignment';

export interface ConversionBuilderSetup {
  reference: ModelProto;
  stats: Map<string, TensorStats>;
  ctx: ConvertContext;
  /** Samples on which bias shifts are measured (a few dozen calibration samples). */
  biasSamples: SampleSet;
  input: ModelInput;
  options: CalibrationOptions;
  /** Layer-wise weight rounding (absent: weights are rounded to nearest). */
  rounding?: LayerRounding;
  /** Pad channels for ORT's fast int8 kernels (kernel-alignment.ts) in the models built. */
  alignKernels?: boolean;
  /**
   * Called when a bias pass's runs are done, with the conversion its shifts are for as built without them (when it
   * was): computing and applying the shifts is single-threaded work that leaves a core free for a while (the speed step
   * times that conversion there).
   */
  afterBiasRuns?: (uncorrected: Conversion) => void;
}

export type BuildConversion = (choice: ConvertChoice) => Promise<Conversion>;

export class ConversionBuilder {
  private readonly shifts = new Map<string, Float64Array>();
  /** Ranges and nearest weights shared by every conversion this builder makes. */
  private readonly cache = new ConversionCache();
  private readonly fp32Graph: Graph;
  /** FP32 per-channel means of layer outputs (sequential bias correction). */
  private readonly fp32Means = new Map<string, Float64Array>();
  private normNodes: Map<string, string> | null = null;

  constructor(readonly setup: ConversionBuilderSetup) {
    this.fp32Graph = new Graph(setup.reference.graph!);
    this.rounding = setup.rounding ?? null;
  }

  /** Seconds spent measuring bias shifts so far. */
  biasSeconds = 0;

  /** Layer-wise weight rounding (when the setup allows it). */
  readonly rounding: LayerRounding | null = null;

  /** How many samples bias shifts are measured on. */
  get biasSampleCount(): number { return this.setup.biasSamples.size; }

  /** Op type of a node of the reference graph ('' when unknown). */
  opTypeOf(node: string): string {
    return this.fp32Graph.nodes.find((n) => n.name === node)?.op_type ?? '';
  }

  /** Nodes kept in float so that no normalization reads a Q/DQ'd tensor (ConvertChoice.floatNorms), with why. */
  floatNormNodes(): ReadonlyMap<string, string> {
    const { ctx } = this.setup;
    this.normNodes ??= normFloatNodes(this.fp32Graph, ctx.opset, (t) => ctx.facts.get(t)?.dims.length);
    return this.normNodes;
  }

  /** Whether any quantized layer of `choice` is one weight rounding would change. */
  async roundsAny(choice: ConvertChoice): Promise<boolean> {
    if (!this.rounding) return false;
    const { plan } = planFor(this.setup.reference, this.setup.ctx, choice.exclude);
    return plan.quantized.some((n) => ruleFor(n)?.kind === 'weighted' && this.rounding!.inScope(n));
  }

  /**
   * The last conversion before bias correction, by its choice without biasCorrection: --bias-correction auto builds
   * the same choice with and without, and converting (ranges, weights) costs more than copying the result.
   */
  private plain: { key: string; conversion: Omit<Conversion, 'bytes'>; rounded: Map<string, RoundedWeights>; built?: Conversion } | null = null;

  private async convertPlain(choice: ConvertChoice): Promise<NonNullable<ConversionBuilder['plain']>> {
    const { reference, stats } = this.setup;
    let ctx: ConvertContext = { ...this.setup.ctx, cache: this.cache };
    const rounded = new Map<string, RoundedWeights>();
    const norms = choice.floatNorms ? this.floatNormNodes() : new Map<string, string>();
    const exclude = norms.size > 0 ? new Set([...choice.exclude, ...norms.keys()]) : choice.exclude;
    if (choice.weightRounding && this.rounding) {
      const { plan } = planFor(reference, ctx, exclude);
      await this.rounding.prepare(plan.quantized.filter((n) => ruleFor(n)?.kind === 'weighted'));
      // A first conversion lists the layers to round (it costs little: ranges and nearest weights are cached), they are
      // solved on every core, and the conversion below finds them solved.
      const jobs: RoundingJobs = new Map();
      convertModel(reference, stats, { ...ctx, roundWeights: this.rounding.collector(jobs) }, { ...choice, exclude });
      await this.rounding.solveAll(jobs);
      ctx = { ...ctx, roundWeights: this.rounding.rounder(rounded) };
    }
    const converted = convertModel(reference, stats, ctx, { ...choice, exclude });
    const kept = converted.kept.map((k) => (norms.has(k.node) && !choice.exclude.has(k.node) ? { ...k, reason: `kept in float: ${norms.get(k.node)}` } : k));
    const conversion = { ...converted, kept, ...(choice.weightRounding ? { roundedWeights: [...rounded.values()].map((r) => r.layer) } : {}) };
    return { key: choiceKey(choice), conversion, rounded };
  }

  /** The cached conversion of `choice` before bias correction (converted when it is not the cached one). */
  private async plainOf(choice: ConvertChoice): Promise<NonNullable<ConversionBuilder['plain']>> {
    if (this.plain?.key !== choiceKey(choice)) this.plain = await this.convertPlain(choice);
    return this.plain;
  }

  /** A target's key in the shift cache: rounded layers apart (their weights, hence their shift, differ). */
  private static shiftKey(target: BiasTarget, rounded: ReadonlyMap<string, unknown>): string {
    return rounded.has(target.node.name ?? '') ? `${target.key}|rounded` : target.key;
  }

  /**
   * Measures, in one pass over the bias samples, the shifts the given choices' conversions need and are not cached
   * (e.g. the nearest and the rounded weights a comparison will correct).
   */
  async measureShifts(choices: readonly ConvertChoice[]): Promise<void> {
    const missing = new Map<string, BiasTarget>();
    for (const choice of choices) {
      const plain = await this.plainOf(choice);
      for (const t of findBiasTargets(new Graph(plain.conversion.model.graph!), this.fp32Graph)) {
        const key = ConversionBuilder.shiftKey(t, plain.rounded);
        if (!this.shifts.has(key)) missing.set(key, { ...t, key });
      }
    }
    if (missing.size === 0) return;
    const started = performance.now();
    const { reference, biasSamples, input, options, ctx } = this.setup;
    const uncorrected = this.plain?.built;
    const afterRuns = uncorrected && this.setup.afterBiasRuns ? () => this.setup.afterBiasRuns!(uncorrected) : undefined;
    const measured = await measureBiasShifts(reference, [...missing.values()], biasSamples, input, { ...options, afterRuns }, ctx.label);
    for (const [key, shift] of measured) this.shifts.set(key, shift);
    this.biasSeconds += (performance.now() - started) / 1000;
  }

  readonly build: BuildConversion = async (choice) => {
    const { reference, ctx } = this.setup;
    if (choice.biasCorrection) await this.measureShifts([choice]);
    const plain = await this.plainOf(choice);
    if (!choice.biasCorrection) {
      plain.built ??= this.aligned(plain.conversion);
      return plain.built;
    }
    // Corrected on a copy: the cached conversion stays as converted.
    const conversion = { ...plain.conversion, model: copyProto(plain.conversion.model) };
    const graph = new Graph(conversion.model.graph!);
    const targets = findBiasTargets(graph, this.fp32Graph);
    const shifts = new Map<string, Float64Array>();
    for (const t of targets) {
      const shift = this.shifts.get(ConversionBuilder.shiftKey(t, plain.rounded));
      if (shift) shifts.set(t.key, shift);
    }
    let corrected = applyBiasShifts(graph, targets, shifts);
    if (corrected > 0) graph.sortTopologically();
    if (choice.biasCorrectionMode === 'sequential') {
      // What is left after each layer's own shift is corrected: the shift its (corrected) predecessors still pass on.
      const started = performance.now();
      corrected = await correctSequentially(conversion.model, { reference, samples: this.setup.biasSamples, input: this.setup.input,
        options: this.setup.options, label: ctx.label, fp32Means: this.fp32Means });
      this.biasSeconds += (performance.now() - started) / 1000;
    }
    return this.aligned({ ...conversion, biasCorrected: corrected });
  };

  /**
   * The conversion as written: channels padded for ORT's fast int8 kernels when the setup asks for it
   * (last: bias shifts are measured and applied on the unpadded layers), encoded.
   */
  private aligned(conversion: Omit<Conversion, 'bytes'>): Conversion {
    const { model, padded } = this.setup.alignKernels ? alignForKernels(conversion.model, opsetVersion(conversion.model))
      : { model: conversion.model, padded: [] };
    return { ...conversion, model, bytes: encodeModel(model), ...(padded.length > 0 ? { paddedInputs: padded } : {}) };
  }
}

/** What the conversion before bias correction depends on in a choice. */
function choiceKey(choice: ConvertChoice): string {
  return JSON.stringify([choice.method, [...choice.exclude].sort(), [...(choice.tensorMethods ?? [])].sort(), choice.weightRounding === true,
    choice.floatNorms === true]);
}
