// Step 6: the chosen INT8 model against FP32 on evaluation samples (every output scored by its kind) with its
// per-layer error; then, when asked, the accuracy-aware search (--max-drop) and each layer's measured sensitivity.
import type { AccuracyResult, LayerError, LayerSensitivity, Report, TuningReport } from '../../common/report';
import { effectiveBatch } from '../../data/model-input';
import type { Conversion, ConvertChoice } from '../../quant/convert';
import { checkSubset, measureSensitivity } from '../accuracy/sensitivity';
import { accuracyLoss, boundMetAtStart, rankByOwnError, SENSITIVITY_SAMPLES, tune } from '../accuracy/tune';
import { Reference } from '../runtime/evaluate';
import { measureLayerErrors } from '../runtime/layer-error';
import { openSampleSet, SampleSet } from '../runtime/sample-set';
import { CalibrationData, openEvaluationData } from './calibration-data';
import type { Chosen } from './choose';
import type { Planned } from './plan';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';

/** Evaluation samples the per-layer error is measured on. */
const LAYER_ERROR_SAMPLES = 16;

export interface Evaluated {
  choice: ConvertChoice;
  conversion: Conversion;
  accuracy: AccuracyResult | null;
  evaluation: Report['evaluation'];
  layers: LayerError[];
  tuning: TuningReport | null;
  sensitivity: LayerSensitivity[] | null;
}

export async function evaluateRun(run: Run, model: PreparedModel, data: CalibrationData, planned: Planned, chosen: Chosen): Promise<Evaluated> {
  const { request, paths } = run;
  const { input } = model;
  let { choice, conversion } = chosen;
  const skipped: Evaluated = { choice, conversion, accuracy: null, evaluation: null, layers: [], tuning: null, sensitivity: null };
  if (!request.evaluate && request.maxDrop === null) return skipped;
  const evalData = await openEvaluationData(run, data);
  if (evalData.indices.length === 0) {
    run.warn('No evaluation samples left after the calibration samples; pass --eval-data or a larger data set.');
    return skipped;
  }
  run.progress('evaluate', 0, evalData.indices.length * 2, 'decoding evaluation samples');
  const samples = await openSampleSet(evalData.set, evalData.indices, input, effectiveBatch(input, 8, evalData.set.sampleShape), { signal: run.lifetime });
  const fp32 = await Reference.run(paths.model, samples, input, paths.model, { signal: run.signal,
    onProgress: run.progressOf('evaluate', (d, t) => `FP32 ${d}/${t}`, 2) });
  const score = (c: Conversion) => scoreConversion(run, model, planned, samples, fp32, c);
  let scored = await score(conversion);
  let tuning: TuningReport | null = null;
  let sensitivity: LayerSensitivity[] | null = null;
  if (request.maxDrop !== null && accuracyLoss(scored.accuracy) > request.maxDrop) {
    run.progress('evaluate', 0, 1, `drop ${accuracyLoss(scored.accuracy).toFixed(2)} > ${request.maxDrop}: tuning`);
    const tuned = await tune({
      build: chosen.builder.build, label: paths.out, start: { choice, conversion, accuracy: scored.accuracy, layers: scored.layers }, reference: fp32,
      fp32Model: paths.model, input, benchSample: data.firstSample, maxDrop: request.maxDrop, timeoutSeconds: request.tuneTimeout, signal: run.signal,
      onTrial: (t, i) => run.log(`trial ${i}: ${t.changed} → loss ${(t.top1DropPoints ?? (1 - t.agreement) * 100).toFixed(2)} points, ${t.speedup?.toFixed(2)}x`),
    });
    tuning = tuned.report;
    sensitivity = tuned.sensitivity;
    if (tuned.conversion !== conversion) {
      ({ conversion, choice } = tuned);
      scored = await score(conversion);
    }
    if (!tuning.boundMet && tuning.note) run.warn(tuning.note);
  } else if (request.maxDrop !== null) {
    tuning = boundMetAtStart(request.maxDrop, choice, scored.accuracy);
  }
  if (request.sensitivity && !sensitivity) {
    run.progress('evaluate', 0, 1, 'measuring each layer\'s effect on the output');
    const order = rankByOwnError(conversion, scored.layers).map((r) => r.node);
    const check = checkSubset(fp32, SENSITIVITY_SAMPLES, { label: paths.out, signal: run.signal });
    sensitivity = await measureSensitivity(chosen.builder.build, choice, check, order, performance.now() + request.tuneTimeout * 1000);
  }
  return { choice, conversion, accuracy: scored.accuracy, layers: scored.layers, tuning, sensitivity,
    evaluation: { dataset: evalData.set.info, skip: evalData.skip, limit: request.evalCount } };
}

/** Accuracy of a conversion against FP32, and its per-layer error on the first evaluation samples. */
async function scoreConversion(run: Run, model: PreparedModel, planned: Planned, samples: SampleSet, fp32: Reference,
  c: Conversion): Promise<{ accuracy: AccuracyResult; layers: LayerError[] }> {
  const { paths, request } = run;
  const accuracy = await fp32.compare(c.bytes, paths.out, { signal: run.signal,
    onProgress: (d, t) => run.progress('evaluate', t + d, t * 2, `INT8 ${d}/${t}`) });
  const [qmin, qmax] = request.activations === 'u8' ? [0, 255] : [-128, 127];
  const layers = await measureLayerErrors(model.reference, c.model, samples, model.input, {
    params: c.activationParams, samples: LAYER_ERROR_SAMPLES,
    methodOf: (t) => {
      const source = c.plan.sharedParams.get(t) ?? t;
      return c.tensorStats.find((s) => s.tensor === source)?.method ?? c.method;
    },
    weightSqnrOf: (node) => c.weights.find((w) => w.node === node)?.sqnrDb,
    activationRange: (p) => ({ lo: (qmin - p.zeroPoint) * p.scale, hi: (qmax - p.zeroPoint) * p.scale }),
    shapes: new Map([...planned.ctx.facts].map(([name, f]) => [name, f.dims])),
  }, [paths.model, paths.out]);
  return { accuracy, layers };
}
