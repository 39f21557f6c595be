// Step 5: the conversion to write, chosen by measurement where the request says 'auto': each candidate is built from
// the kept statistics (no recalibration) and compared with FP32 on a check set of calibration samples held out from
// the samples bias shifts are measured on — the calibration method (--method auto, then per tensor), the accuracy
// techniques (techniques.ts: float norms, bias correction, weight rounding), then SmoothQuant (models with a LayerNorm
// feeding a MatMul/Gemm only).
import type { CalibrationMethod, Report } from '../../common/report';
import { encodeSplit } from '../../onnx/proto';
import type { Conversion, ConvertChoice } from '../../quant/convert';
import { AUTO_METHODS, CheckSet, outputSqnr, pickMethod } from '../accuracy/auto-choice';
import { ConversionBuilder } from '../accuracy/conversion-builder';
import { chooseSmoothQuant } from '../accuracy/smooth-choice';
import { chooseTechniques, TechniqueOutcome, TechniqueRequest } from '../accuracy/techniques';
import { chooseTensorMethods } from '../accuracy/tensor-methods';
import { alignmentPays } from '../../quant/kernel-alignment';
import { Reference } from '../runtime/evaluate';
import { materialize, sampleBytes } from '../runtime/sample-set';
import type { Calibrated } from './calibrate';
import { BIAS_SAMPLES, checkSetRange } from './check-set';
import type { Planned } from './plan';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';
import type { Fp32Timing } from './speed';

/** Calibration samples on which per-tensor methods are scored (--method auto). */
const TENSOR_METHOD_SAMPLES = 16;

export interface Chosen {
  builder: ConversionBuilder;
  choice: ConvertChoice;
  conversion: Conversion;
  methodScores: Partial<Record<CalibrationMethod, number>> | null;
  tensorMethods: Report['calibration']['tensorMethods'];
  techniqueRequest: TechniqueRequest;
  techniques: TechniqueOutcome;
  smoothQuant: Report['calibration']['smoothQuant'];
  /** Samples in the check set. */
  checkSamples: number;
}

/** `fp32Timing`: the speed step's FP32 side (null without one), which may time a conversion ahead of the step. */
export async function chooseConversion(run: Run, model: PreparedModel, planned: Planned, calibrated: Calibrated,
  fp32Timing: Fp32Timing | null): Promise<Chosen> {
  const { request, paths } = run;
  const { input, reference } = model;
  const { samples } = calibrated;
  const checkRange = checkSetRange(samples.size, sampleBytes(input));
  let builder = new ConversionBuilder({
    reference, stats: calibrated.stats, ctx: planned.ctx, biasSamples: samples.slice(0, BIAS_SAMPLES), input,
    options: { ...calibrated.options, onProgress: run.progressOf('convert', (d, t) => `bias shifts ${d}/${t}`) },
    rounding: calibrated.rounding ?? undefined, alignKernels: alignmentPays(model.machine),
    ...(fp32Timing ? { afterBiasRuns: (c: Conversion) => fp32Timing.profileAhead(c) } : {}),
  });
  let check: CheckSet | null = null;
  const checkSet = async (): Promise<CheckSet> => {
    if (check) return check;
    const set = await materialize(samples.slice(checkRange.from, checkRange.count), run.signal);
    const fp32 = () => encodeSplit(reference);
    const kept = await calibrated.checkOutputs?.reference(fp32, set, input, paths.model, run.signal);
    check = { reference: kept ?? await Reference.run(fp32, set, input, paths.model, { signal: run.signal }), label: paths.out, signal: run.signal };
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

  const base: ConvertChoice = { method, exclude: planned.userExclude, biasCorrection: false, ...(overrides ? { tensorMethods: overrides } : {}) };
  run.progress('convert', 0, 1, `choosing ranges (${method}) and accuracy techniques`);
  const techniqueRequest: TechniqueRequest = { weightRounding: request.weightRounding, biasCorrection: request.biasCorrection, floatNorms: request.floatNorms };
  const techniques = await chooseTechniques(builder, base, checkSet, techniqueRequest, (m) => run.log(`techniques: ${m}`));
  const { choice } = techniques;
  const smooth = await chooseSmoothQuant(builder, techniques, checkSet, request.smoothQuant, samples, calibrated.smoothMaxima);
  const { conversion } = smooth;
  builder = smooth.builder;
  const smoothQuant = smooth.report;
  if (smoothQuant) {
    run.log(`SmoothQuant on ${smoothQuant.layers.length} LayerNorm outputs: ${smoothQuant.applied ? 'kept' : 'not kept'}`
      + (smoothQuant.outputSqnrDb ? ` (output SQNR ${smoothQuant.outputSqnrDb.on.toFixed(2)} dB with, ${smoothQuant.outputSqnrDb.off.toFixed(2)} dB without)` : ''));
  }
  run.progress('convert', 1, 1, `${conversion.quantizedNodes.length} nodes quantized`);
  return { builder, choice, conversion, methodScores, tensorMethods, techniqueRequest, techniques, smoothQuant,
    checkSamples: checkRange.count };
}
