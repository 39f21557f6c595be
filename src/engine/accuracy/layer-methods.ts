// Per-layer calibration methods for accuracy-aware mode: before returning a sensitive layer to FP32 (which costs
// speed), try the other methods' ranges for the tensors it reads and writes. Greedy and measured: each candidate is
// a conversion scored by output SQNR on a few evaluation samples; an override is kept only if it raises the score.
import type { CalibrationMethod } from '../../common/report';
import { throwIfCancelled } from '../cancel';
import { CheckSet, outputSqnr } from './auto-choice';
import { ConvertChoice } from '../../quant/convert';
import { BuildConversion } from './conversion-builder';

export interface LayerMethodResult {
  /** Per-tensor overrides on top of the base choice's (empty when none helped). */
  tensorMethods: Map<string, CalibrationMethod>;
  baselineDb: number;
  bestDb: number;
}

/** `tensors`: for each sensitive layer, most sensitive first, the calibrated tensors whose range it depends on. */
export async function refineLayerMethods(build: BuildConversion, base: ConvertChoice, check: CheckSet, tensors: readonly string[][],
  methods: readonly CalibrationMethod[], deadline: number): Promise<LayerMethodResult> {
  const overrides = new Map(base.tensorMethods ?? []);
  const baselineDb = await outputSqnr(check, await build(base));
  let bestDb = baselineDb;
  for (const layer of tensors) {
    for (const tensor of layer) {
      const current = overrides.get(tensor) ?? base.method;
      for (const method of methods) {
        if (method === current) continue;
        if (performance.now() > deadline) return { tensorMethods: overrides, baselineDb, bestDb };
        throwIfCancelled(check.signal);
        const trial = new Map(overrides).set(tensor, method);
        const score = await outputSqnr(check, await build({ ...base, tensorMethods: trial }));
        if (score > bestDb) {
          bestDb = score;
          overrides.set(tensor, method);
        }
      }
    }
  }
  return { tensorMethods: overrides, baselineDb, bestDb };
}
