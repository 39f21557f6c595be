// Builds the INT8 conversions a run needs (the written model, the methods compared by --method auto, the tuning
// trials): convert() from the kept calibration statistics, then bias correction when the choice asks for it. Bias
// shifts are measured on demand and cached per layer and input scale, so trials that only exclude layers or reuse a
// method measure nothing new; the last conversion is kept, so building it again with or without correction converts
// nothing new.
import { Graph } from '../../onnx/graph';
import { encodeModel, ModelProto } from '../../onnx/proto';
import { TensorStats } from '../../quant/histogram';
import { applyBiasShifts, findBiasTargets, measureBiasShifts } from './bias-correction';
import { CalibrationOptions } from '../runtime/calibrate';
import type { SampleSet } from '../runtime/sample-set';
import { Conversion, ConvertChoice, ConvertContext, convertModel } from '../../quant/convert';
import { ModelInput } from '../../data/model-input';

export interface ConversionBuilderSetup {
  reference: ModelProto;
  stats: Map<string, TensorStats>;
  ctx: ConvertContext;
  /** Samples on which bias shifts are measured (a few dozen calibration samples). */
  biasSamples: SampleSet;
  input: ModelInput;
  options: CalibrationOptions;
}

export type BuildConversion = (choice: ConvertChoice) => Promise<Conversion>;

export class ConversionBuilder {
  private readonly shifts = new Map<string, Float64Array>();
  private readonly fp32Graph: Graph;

  constructor(private readonly setup: ConversionBuilderSetup) {
    this.fp32Graph = new Graph(setup.reference.graph!);
  }

  /** Seconds spent measuring bias shifts so far. */
  biasSeconds = 0;

  /**
   * The last conversion before bias correction, by its choice without biasCorrection: --bias-correction auto builds
   * the same choice with and without, and converting (ranges, weights) costs more than copying the result.
   */
  private plain: { key: string; conversion: Omit<Conversion, 'bytes'>; bytes?: Uint8Array } | null = null;

  readonly build: BuildConversion = async (choice) => {
    const { reference, stats, ctx } = this.setup;
    const key = choiceKey(choice);
    if (this.plain?.key !== key) this.plain = { key, conversion: convertModel(reference, stats, ctx, choice) };
    const plain = this.plain;
    if (!choice.biasCorrection) {
      plain.bytes ??= encodeModel(plain.conversion.model);
      return { ...plain.conversion, bytes: plain.bytes };
    }
    // Corrected on a copy: the cached conversion stays as converted.
    const conversion = { ...plain.conversion, model: structuredClone(plain.conversion.model) };
    const graph = new Graph(conversion.model.graph!);
    const targets = findBiasTargets(graph, this.fp32Graph);
    const missing = targets.filter((t) => !this.shifts.has(t.key));
    if (missing.length > 0) {
      const started = performance.now();
      const measured = await measureBiasShifts(reference, missing, this.setup.biasSamples, this.setup.input, this.setup.options, ctx.label);
      for (const [key, shift] of measured) this.shifts.set(key, shift);
      this.biasSeconds += (performance.now() - started) / 1000;
    }
    const corrected = applyBiasShifts(graph, targets, this.shifts);
    if (corrected > 0) graph.sortTopologically();
    return { ...conversion, bytes: encodeModel(conversion.model), biasCorrected: corrected };
  };
}

/** What convertModel's result depends on in a choice (bias correction is applied after it). */
function choiceKey(choice: ConvertChoice): string {
  return JSON.stringify([choice.method, [...choice.exclude].sort(), [...(choice.tensorMethods ?? [])].sort()]);
}
