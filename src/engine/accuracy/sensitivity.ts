// Layer sensitivity: each quantized layer's effect on the model output, measured rather than estimated — the output
// SQNR gained when that layer alone goes back to FP32 (everything else as in the base model), on a few evaluation
// samples. Local error is a poor guide to it: noise that global pooling averages away barely reaches the output,
// while an early layer's error travels through the whole network. Costs one conversion and a short run per layer,
// so it is used by accuracy-aware mode, in the order of a cheap proxy, until its time budget ends.
import type { LayerSensitivity } from '../../common/report';
import { throwIfCancelled } from '../cancel';
import { CheckSet, outputSqnr } from './auto-choice';
import { ConvertChoice } from '../../quant/convert';
import { BuildConversion } from './conversion-builder';
import type { Reference } from '../runtime/evaluate';
import { roundTo } from '../../common/numbers';

/** The first `count` samples of an evaluation set with their FP32 outputs, as a check set. */
export function checkSubset(reference: Reference, count: number, base: Omit<CheckSet, 'reference'>): CheckSet {
  return { ...base, reference: reference.subset(count) };
}

/** Measures candidates in the given order until `deadline` (performance.now() ms); most sensitive first. */
export async function measureSensitivity(build: BuildConversion, base: ConvertChoice, check: CheckSet, candidates: readonly string[],
  deadline: number): Promise<LayerSensitivity[]> {
  const baseline = await outputSqnr(check, await build(base));
  const measured: LayerSensitivity[] = [];
  for (const node of candidates) {
    if (performance.now() > deadline) break;
    throwIfCancelled(check.signal);
    const sqnr = await outputSqnr(check, await build({ ...base, exclude: new Set([...base.exclude, node]) }));
    measured.push({ node, outputSqnrGainDb: roundTo(sqnr - baseline) });
  }
  return measured.sort((a, b) => b.outputSqnrGainDb - a.outputSqnrGainDb);
}
