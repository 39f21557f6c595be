// The measured accuracy techniques of one run, chosen on the check set (calibration samples bias shifts are not
// measured on), one technique at a time with the others as already chosen — each 'auto' kept only when it brings the
// outputs closer to FP32 (beats: top-1 agreement first for classifiers, then output SQNR), bias correction unless it
// measures worse beyond the check set's noise:
//   1. floatNorms: LayerNorm/Softmax inputs and pieces kept in float (models with normalization layers only);
//   2. weight rounding: 'auto' rounds the layers cheapest to round (within a fixed cost: every layer of a mobile-size
//      model); 'on' rounds every layer it can;
//   3. bias correction: off or fast on the weights as chosen (sequential only when asked for: it costs one ORT pass
//      per layer depth).
// The all-off baseline is always scored, so the report can state before/after; every candidate built is listed.
// SmoothQuant changes the FP32 reference itself: see smooth-choice.ts (tried after these, on what they chose).
import type { BiasCorrectionChoice, BiasCorrectionMode, Report, TechniqueCandidate, TechniqueChoice } from '../../common/report';
import { Conversion, ConvertChoice } from '../../quant/convert';
import { beats, CheckScore, checkScore, CheckSet, SQNR_NOISE_DB } from './auto-choice';
import { ConversionBuilder } from './conversion-builder';
import { roundTo } from '../../common/numbers';

/** What the user asked for (flags). */
export interface TechniqueRequest {
  weightRounding: TechniqueChoice;
  biasCorrection: BiasCorrectionChoice;
  floatNorms: TechniqueChoice;
}

type Bias = 'off' | BiasCorrectionMode;
interface Combination { weightRounding: boolean; biasCorrection: Bias; floatNorms: boolean }

export interface TechniqueOutcome {
  choice: ConvertChoice;
  conversion: Conversion;
  /** Every combination scored on the check set, the kept one marked. */
  candidates: TechniqueCandidate[];
  /** The kept combination's score (null when nothing was compared). */
  score: CheckScore | null;
  /** Output SQNR without and with bias correction when it was decided (null when it was not compared). */
  biasScores: { off: number; on: number } | null;
  seconds: number;
}

function choiceOf(base: ConvertChoice, c: Combination): ConvertChoice {
  return { ...base, weightRounding: c.weightRounding, floatNorms: c.floatNorms, biasCorrection: c.biasCorrection !== 'off',
    biasCorrectionMode: c.biasCorrection === 'off' ? undefined : c.biasCorrection };
}

const nameOf = (c: Combination) => `${c.weightRounding ? 'rounded' : 'nearest'}, bias ${c.biasCorrection}, norms ${c.floatNorms ? 'float' : 'int8'}`;

/**
 * Chooses the combination to write. `check` is asked for only when something is compared (nothing is when every
 * technique is forced or does not apply: that combination is built and returned unscored).
 */
export async function chooseTechniques(builder: ConversionBuilder, base: ConvertChoice, check: () => Promise<CheckSet>, request: TechniqueRequest,
  log: (message: string) => void = () => undefined): Promise<TechniqueOutcome> {
  const started = performance.now();
  const scored = new Map<string, { combination: Combination; score: CheckScore; conversion: Conversion }>();
  const score = async (c: Combination) => {
    const name = nameOf(c);
    let entry = scored.get(name);
    if (!entry) {
      const conversion = await builder.build(choiceOf(base, c));
      entry = { combination: c, score: await checkScore(await check(), conversion), conversion };
      scored.set(name, entry);
    }
    return entry;
  };
  const forced: Bias = request.biasCorrection === 'on' ? 'fast' : request.biasCorrection === 'sequential' ? 'sequential' : 'off';
  const normsExist = builder.floatNormNodes().size > 0;
  const roundable = request.weightRounding !== 'off' && await builder.roundsAny(base);
  const baseline: Combination = { weightRounding: false, biasCorrection: 'off', floatNorms: false };
  let current: Combination = { weightRounding: request.weightRounding === 'on' && roundable, biasCorrection: forced,
    floatNorms: request.floatNorms === 'on' && normsExist };
  const compares = (request.floatNorms === 'auto' && normsExist) || request.biasCorrection === 'auto'
    || (request.weightRounding === 'auto' && roundable);
  if (!compares) {
    const conversion = await builder.build(choiceOf(base, current));
    return { choice: choiceOf(base, current), conversion, candidates: [], score: null, biasScores: null, seconds: (performance.now() - started) / 1000 };
  }
  await score(baseline);
  let best = await score(current);
  /**
   * Tries `alternatives` of one technique with the others as chosen so far; keeps the best. A `favoured` alternative
   * is kept unless the current choice beats it beyond the check set's noise.
   */
  const decide = async (alternatives: Combination[], favoured = false) => {
    for (const c of alternatives) {
      const entry = await score(c);
      if (favoured ? !beats(best.score, entry.score, SQNR_NOISE_DB) : beats(entry.score, best.score)) best = entry;
    }
    current = best.combination;
  };
  if (request.floatNorms === 'auto' && normsExist) await decide([{ ...current, floatNorms: true }]);
  // Rounding before bias correction: rounding changes the weights, bias correction then removes the mean shift the
  // chosen weights leave — one pass over the bias samples measures it (deciding bias first measured it for nearest
  // and again for rounded weights). On MobileNet-V1 rounding on top of bias correction gained 1 dB and 0.5 points of
  // agreement on 400 evaluation images.
  if (request.weightRounding === 'auto' && roundable) await decide([{ ...current, weightRounding: true }]);
  let biasScores: TechniqueOutcome['biasScores'] = null;
  if (request.biasCorrection === 'auto') {
    // Favoured: removing a measured mean shift rarely hurts, and its gain can hide in the check set's noise (rounded
    // MobileNet-V1: 0.2 dB below without it on 64 check samples, 1.5 dB above on 400 evaluation images; ResNet-50:
    // even on both).
    await decide([{ ...current, biasCorrection: 'fast' }], true);
    biasScores = { off: (await score({ ...current, biasCorrection: 'off' })).score.outputSqnrDb,
      on: (await score({ ...current, biasCorrection: 'fast' })).score.outputSqnrDb };
  }
  const candidates = [...scored.values()].map(({ combination, score: s }) => ({ ...combination, outputSqnrDb: s.outputSqnrDb,
    agreement: s.agreement, kept: combination === best.combination }));
  for (const c of candidates) {
    log(`${nameOf(c)}: output SQNR ${c.outputSqnrDb.toFixed(2)} dB${c.agreement !== null ? `, agreement ${(c.agreement * 100).toFixed(1)} %` : ''}${c.kept ? ' (kept)' : ''}`);
  }
  return { choice: choiceOf(base, best.combination), conversion: best.conversion, candidates, score: best.score, biasScores,
    seconds: (performance.now() - started) / 1000 };
}

/**
 * The report sections of these techniques (Report.calibration fields) for the conversion that was written (`choice`
 * may differ from outcome.choice after tuning).
 */
export function techniqueReport(builder: ConversionBuilder, outcome: TechniqueOutcome, written: Conversion, choice: ConvertChoice,
  request: TechniqueRequest, checkSamples: number): Pick<Report['calibration'], 'weightRounding' | 'floatNorms' | 'biasCorrection' | 'techniques'> {
  const { rounding } = builder;
  const norms = builder.floatNormNodes();
  return {
    biasCorrection: request.biasCorrection === 'off' ? null : {
      layers: written.biasCorrected, samples: builder.biasSampleCount, seconds: roundTo(builder.biasSeconds),
      mode: choice.biasCorrectionMode ?? 'fast', outputSqnrDb: outcome.biasScores,
    },
    weightRounding: rounding && request.weightRounding !== 'off' ? {
      applied: (written.roundedWeights?.length ?? 0) > 0, scope: rounding.scope, layers: written.roundedWeights ?? [],
      skipped: rounding.skippedLayers(), seconds: { moments: roundTo(rounding.momentSeconds), solve: roundTo(rounding.solveSeconds) },
    } : null,
    floatNorms: request.floatNorms !== 'off' && norms.size > 0 ? {
      applied: choice.floatNorms === true, nodes: [...norms].map(([node, reason]) => ({ node, opType: builder.opTypeOf(node), reason })),
    } : null,
    techniques: outcome.candidates.length > 1 ? { candidates: outcome.candidates, checkSamples, seconds: roundTo(outcome.seconds) } : null,
  };
}
