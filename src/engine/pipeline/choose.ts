// Step 5: the conversion to write, chosen by measurement where the request says 'auto': each candidate is built from
// the kept statistics (no recalibration) and compared with FP32 on a check set of calibration samples held out from
// the bias samples — the calibration method (--method auto, then per tensor), and whether bias correction helps.
import type { CalibrationMethod, Report } from '../../common/report';
import { encodeModel } from '../../onnx/proto';
import type { Conversion, ConvertChoice } from '../../quant/convert';
import { AUTO_METHODS, CheckSet, outputSqnr, pickBiasCorrection, pickMethod } from '../accuracy/auto-choice';
import { ConversionBuilder } from '../accuracy/conversion-builder';
import { chooseTensorMethods } from '../accuracy/tensor-methods';
import { Reference } from '../runtime/evaluate';
import { materialize } from '../runtime/sample-set';
import { BIAS_SAMPLES, Calibrated } from './calibrate';
import type { Planned } from './plan';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';

/** Calibration samples on which per-tensor methods are scored (--method auto). */
const TENSOR_METHOD_SAMPLES = 16;
/** Calibration samples on which automatic choices (method, bias correction) are compared. */
const CHECK_SAMPLES = 32;

export interface Chosen {
  builder: ConversionBuilder;
  choice: ConvertChoice;
  conversion: Conversion;
  methodScores: Partial<Record<CalibrationMethod, number>> | null;
  tensorMethods: Report['calibration']['tensorMethods'];
  biasScores: { off: number; on: number } | null;
}

export async function chooseConversion(run: Run, model: PreparedModel, planned: Planned, calibrated: Calibrated): Promise<Chosen> {
  const { request, paths } = run;
  const { input, reference } = model;
  const { samples } = calibrated;
  const builder = new ConversionBuilder({
    reference, stats: calibrated.stats, ctx: planned.ctx, biasSamples: samples.slice(0, BIAS_SAMPLES), input,
    options: { ...calibrated.options, onProgress: run.progressOf('convert', (d, t) => `bias shifts ${d}/${t}`) },
  });
  let check: CheckSet | null = null;
  const checkSet = async (): Promise<CheckSet> => {
    if (check) return check;
    // Held out from the samples bias shifts are measured on, when there are enough.
    const from = samples.size >= BIAS_SAMPLES + CHECK_SAMPLES ? BIAS_SAMPLES : 0;
    const set = await materialize(samples.slice(from, CHECK_SAMPLES), run.signal);
    check = { reference: await Reference.run(encodeModel(reference), set, input, paths.model, { signal: run.signal }), label: paths.out, signal: run.signal };
    return check;
  };

  const biasWanted = request.biasCorrection !== 'off';
  let method: CalibrationMethod;
  let methodScores: Chosen['methodScores'] = null;
  let tensorMethods: Chosen['tensorMethods'] = null;
  let overrides: ReadonlyMap<string, CalibrationMethod> | undefined;
  if (request.method === 'auto') {
    run.progress('convert', 0, 1, 'comparing calibration methods');
    const base = { exclude: planned.userExclude, biasCorrection: biasWanted };
    const picked = await pickMethod(builder.build, base, await checkSet());
    method = picked.method;
    methodScores = picked.scores;
    run.log(`method auto: ${method} (output SQNR on calibration samples: ${Object.entries(picked.scores).map(([m, v]) => `${m} ${v.toFixed(1)} dB`).join(', ')})`);
    run.progress('convert', 0, 1, 'comparing methods per tensor');
    const perTensor = await chooseTensorMethods(reference, calibrated.stats, planned.ctx, planned.plan, method, AUTO_METHODS,
      samples.slice(0, TENSOR_METHOD_SAMPLES), input, calibrated.options);
    if (perTensor.overrides.size > 0) {
      const score = await outputSqnr(await checkSet(), await builder.build({ ...base, method, tensorMethods: perTensor.overrides }));
      const kept = score > picked.scores[method];
      if (kept) overrides = perTensor.overrides;
      tensorMethods = { scored: perTensor.scored, overrides: Object.fromEntries(perTensor.overrides), kept,
        outputSqnrDb: { model: picked.scores[method], perTensor: score } };
      run.log(`method auto per tensor: ${perTensor.overrides.size} of ${perTensor.scored} tensors prefer another method; `
        + `output SQNR ${score.toFixed(2)} dB vs ${picked.scores[method].toFixed(2)} dB (${kept ? 'kept' : 'not kept'})`);
    }
  } else {
    method = request.method;
  }

  run.progress('convert', 0, 1, `choosing ranges (${method})`);
  let choice: ConvertChoice = { method, exclude: planned.userExclude, biasCorrection: request.biasCorrection === 'on', ...(overrides ? { tensorMethods: overrides } : {}) };
  let conversion: Conversion;
  let biasScores: Chosen['biasScores'] = null;
  if (request.biasCorrection === 'auto') {
    const picked = await pickBiasCorrection(builder.build, choice, await checkSet());
    choice = { ...choice, biasCorrection: picked.biasCorrection };
    conversion = picked.conversion;
    biasScores = picked.scores;
    run.log(`bias correction ${picked.biasCorrection ? 'kept' : 'not kept'}: output SQNR ${picked.scores.on.toFixed(2)} dB with, ${picked.scores.off.toFixed(2)} dB without`);
  } else {
    conversion = await builder.build(choice);
  }
  run.progress('convert', 1, 1, `${conversion.quantizedNodes.length} nodes quantized`);
  return { builder, choice, conversion, methodScores, tensorMethods, biasScores };
}
