// What the conversions of one reference model have in common, computed once: the range (and scale/zero point) each
// calibration method chooses for a tensor, and each layer's weights quantized to nearest with their SQNR. A run builds
// many conversions of the same reference and statistics (technique candidates, speed trials, tuning), which differ
// only in what they exclude, round or correct; valid only while the reference's weights and the statistics stay as
// they are, so one cache belongs to one ConversionBuilder (SmoothQuant's new reference gets a new builder).
import type { QParams } from './qparams';

export interface ActivationChoice { range: { min: number; max: number }; params: QParams }

export interface NearestWeights {
  values: Int8Array;
  scales: Float32Array;
  zeroPoints: Int8Array;
  /** SQNR (dB) of these codes against the FP32 weights. */
  sqnrDb: number;
}

export class ConversionCache {
  private readonly activations = new Map<string, ActivationChoice>();
  private readonly weights = new Map<string, NearestWeights>();
  /** SQNR of codes another rounding chose, by the codes (the rounder returns the same array for the same layer). */
  private readonly roundedSqnr = new WeakMap<Int8Array, number>();

  activation(tensor: string, method: string, make: () => ActivationChoice): ActivationChoice {
    return once(this.activations, `${tensor}\n${method}`, make);
  }

  /** `key` names the weight, the layer reading it and everything its quantization depends on (axis, code range). */
  nearestWeights(key: string, make: () => NearestWeights): NearestWeights {
    return once(this.weights, key, make);
  }

  sqnrOf(codes: Int8Array, make: () => number): number {
    return once(this.roundedSqnr, codes, make);
  }
}

/** The value kept under `key`, made and kept the first time. */
function once<K extends object | string, V>(kept: { get(key: K): V | undefined; set(key: K, value: V): unknown }, key: K, make: () => V): V {
  let value = kept.get(key);
  if (value === undefined) kept.set(key, value = make());
  return value;
}
