// The quantize pipeline: read → FP32 optimize → probe → plan → calibrate → choose ranges → QDQ rewrite → write
// (atomically) → evaluate FP32 vs INT8 → benchmark → Report. Used by the CLI and, through it, by the extension.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { OctetError } from '../../common/errors';
import {
  AccuracyResult, ActivationType, BiasCorrectionChoice, CalibrationMethod, LayerSensitivity, LayerError, Layout, MethodChoice, PreprocessPreset, Report,
  REPORT_SCHEMA_VERSION, TuningReport,
} from '../../common/report';
import { readModel, writeModel, writeFileAtomic } from '../../onnx/model-io';
import { encodeModel, ModelProto } from '../../onnx/proto';
import { prepareOpset } from '../../quant/opset';
import { WeightRange } from '../../quant/rewrite';
import { equalizePairs, findEqualizationPairs } from '../../quant/equalize';
import { benchmarkPair } from '../runtime/bench';
import { calibrationSamples, collectChannelMaxima, collectStatistics, firstSamples, samplesWindow } from '../runtime/calibrate';
import { AUTO_METHODS, CheckSet, outputSqnr, pickBiasCorrection, pickMethod } from '../accuracy/auto-choice';
import { chooseTensorMethods } from '../accuracy/tensor-methods';
import { computesInInt8, Conversion, ConvertChoice, ConvertContext, planFor } from '../../quant/convert';
import { ConversionBuilder } from '../accuracy/conversion-builder';
import { openDataset, splitIndices } from '../../data/dataset';
import { loadEvalSet, runOutputs, scoreOutputs } from '../runtime/evaluate';
import { EventSink, Stage } from '../events';
import { machineInfo } from '../runtime/machine';
import { describeInput, effectiveBatch } from '../../data/model-input';
import { modelInfo, opHistogram } from '../../onnx/model-info';
import { optimizeFp32, probeTensors } from '../runtime/prepare';
import { guessPreset } from '../../data/preprocess';
import { ortVersion, runtimeOpHistogram } from '../runtime/session';
import { diagnoseRuntime } from '../runtime/diagnose';
import { measureLayerErrors } from '../runtime/layer-error';
import { accuracyLoss, boundMetAtStart, rankByOwnError, SENSITIVITY_SAMPLES, tune } from '../accuracy/tune';
import { checkSubset, measureSensitivity } from '../accuracy/sensitivity';

export const OCTET_VERSION = '0.1.0';

/** Samples used to measure per-channel ranges for equalization. */
const EQUALIZATION_SAMPLES = 32;
/** Calibration samples on which bias shifts are measured. */
const BIAS_SAMPLES = 32;
/** Calibration samples on which per-tensor methods are scored (--method auto). */
const TENSOR_METHOD_SAMPLES = 16;
/** Calibration samples on which automatic choices (method, bias correction) are compared. */
const CHECK_SAMPLES = 32;

export interface QuantizeRequest {
  model: string;
  calib: string;
  labels?: string | null;
  calibCount: number;
  calibBatch: number;
  method: MethodChoice;
  percentile: number;
  perChannel: boolean;
  activations: ActivationType;
  /** Weight code range; 'auto' = 'pair-safe' on CPUs without VNNI (U8S8 saturation), else 'full'. */
  weightRange: WeightRange | 'auto';
  /** Equalize activation channel ranges across consecutive convolutions (needs per-channel weights). */
  equalize: boolean;
  /** 0..1: how far small channels are scaled up towards the tensor maximum. */
  equalizeStrength: number;
  /** Correct the output mean shift of quantized Conv/Gemm layers; 'auto' keeps it only when it reduces output error. */
  biasCorrection: BiasCorrectionChoice;
  preprocess: PreprocessPreset | 'auto';
  resize?: number | null;
  crop?: number | null;
  layout?: Layout | null;
  opTypes?: string[] | null;
  exclude?: string[];
  out?: string | null;
  report?: string | null;
  /** Evaluation data (default: the calibration data, skipping the calibration samples). */
  evalData?: string | null;
  evalLabels?: string | null;
  evalCount: number;
  evaluate: boolean;
  benchmark: boolean;
  benchRuns: number;
  threads: number;
  /** Accuracy-aware mode: largest acceptable loss in points (top-1 drop with labels, agreement loss without). */
  maxDrop: number | null;
  /** Seconds the accuracy-aware search may spend. */
  tuneTimeout: number;
  /** Measure each layer's effect on the output (output SQNR gained with it alone in FP32) even without --max-drop. */
  sensitivity?: boolean;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

export interface QuantizeOutcome { modelPath: string; reportPath: string; report: Report }

export function defaultOutputPath(model: string): string {
  const ext = extname(model);
  return join(dirname(model), `${basename(model, ext)}.int8${ext || '.onnx'}`);
}

export function defaultReportPath(out: string): string {
  const ext = extname(out);
  return join(dirname(out), `${basename(out, ext)}.report.json`);
}

export async function quantizeModel(request: QuantizeRequest): Promise<QuantizeOutcome> {
  const emit = request.onEvent ?? (() => undefined);
  const progress = (stage: Stage, done: number, total: number, message: string) => emit({ type: 'progress', stage, done, total, message });
  const log = (message: string) => emit({ type: 'log', message });
  const warnings: string[] = [];
  const modelPath = resolve(request.model);
  const outPath = resolve(request.out ?? defaultOutputPath(modelPath));
  const reportPath = resolve(request.report ?? defaultReportPath(outPath));
  if (outPath === modelPath) throw new OctetError(outPath, 'the output would overwrite the input model; choose another --out');
  if (reportPath === modelPath || reportPath === outPath) throw new OctetError(reportPath, 'the report path must differ from the models');

  const workDir = mkdtempSync(join(tmpdir(), 'octet-'));
  try {
    progress('optimize', 0, 1, `reading ${basename(modelPath)}`);
    const loaded = readModel(modelPath);
    const input = describeInput(loaded.model, modelPath, { layout: request.layout, crop: request.crop });
    // Opset 13 first, so ORT optimizes the graph Octet will rewrite (per-channel QDQ needs 13).
    const opset = prepareOpset(loaded.model, modelPath);
    if (opset.note) log(opset.note);
    const optimized = await optimizeFp32(opset.model, modelPath, workDir);
    // Unnamed nodes are named after their first output, so reports, --exclude and the graph viewer agree on names.
    for (const node of optimized.graph!.node) if (!node.name) node.name = node.output[0];
    progress('optimize', 1, 1, 'FP32 graph optimized (BatchNorm folded)');

    const hints = {
      producer: loaded.model.producer_name, inputName: input.name,
      metadata: Object.fromEntries(loaded.model.metadata_props.map((e) => [e.key ?? '', e.value ?? ''])),
    };
    let preprocess: PreprocessPreset;
    if (request.preprocess === 'auto') {
      const guess = guessPreset(input, hints);
      preprocess = guess.preset;
      log(`preprocessing: ${guess.preset} (${guess.reason}); pass --preprocess to choose`);
      warnings.push(`Preprocessing '${guess.preset}' was guessed (${guess.reason}); wrong preprocessing ruins calibration — pass --preprocess if it differs from training.`);
    } else {
      preprocess = request.preprocess;
    }
    const datasetOptions = { input, preprocess, resize: request.resize ?? null, crop: request.crop ?? null };
    const calibSet = await openDataset(resolve(request.calib), { ...datasetOptions, labels: request.labels ?? undefined });
    warnings.push(...(calibSet.warnings ?? []));
    const calibIndices = splitIndices(calibSet.size, request.calibCount, 0);
    if (calibIndices.length < request.calibCount) {
      warnings.push(`Only ${calibIndices.length} calibration samples available (asked for ${request.calibCount}).`);
    }
    const batch = effectiveBatch(input, request.calibBatch);

    // Probe element types and shapes of every tensor with one batch.
    const probeSample = await calibSet.read(calibIndices[0]);
    const probeShape = [1, ...input.shape.slice(1)];
    const facts = await probeTensors(optimized, input.name, probeSample.data, input.fixedBatch && input.fixedBatch > 1 ? input.shape : probeShape, modelPath);

    const machine = machineInfo(ortVersion());
    const weightRange: WeightRange = request.weightRange === 'auto' ? (machine.vnni ? 'full' : 'pair-safe') : request.weightRange;
    if (!machine.vnni) {
      warnings.push(`This CPU has no VNNI: ONNX Runtime's U8S8 kernels add pairs of int8 products in saturating 16-bit sums here. `
        + (weightRange === 'full' ? 'Weights use the full int8 range, so some layers may saturate; --weight-range pair-safe avoids it.'
          : `Weights were quantized '${weightRange}' to rule saturation out; on a VNNI CPU, --weight-range full keeps one more bit where it matters.`));
    }
    progress('convert', 0, 1, 'planning');
    const reference: ModelProto = structuredClone(optimized);
    const perChannel = request.perChannel;
    const ctx: ConvertContext = {
      label: outPath, opset: opset.to, perChannel, weightRange, activations: request.activations, percentile: request.percentile,
      opTypes: request.opTypes ? new Set(request.opTypes) : null, facts, producer: { name: 'octet', version: OCTET_VERSION },
    };
    const userExclude = new Set(request.exclude ?? []);
    const { graph, plan } = planFor(reference, ctx, userExclude);
    if (!computesInInt8(plan)) {
      const types = Object.keys(opHistogram(optimized)).join(', ');
      throw new OctetError(modelPath, `no quantizable op found (the model has ${types}; Octet quantizes Conv, Gemm, MatMul, Add, Concat, pooling)`);
    }

    const calibrationOptions = { batch, threads: request.threads, signal: request.signal };
    const quantizedNodes = new Set(plan.quantized);
    const pairs = request.equalize && perChannel ? findEqualizationPairs(graph, opset.to, (n) => quantizedNodes.has(n)) : [];
    const biasWanted = request.biasCorrection !== 'off';
    const passes = 1 + (pairs.length > 0 ? 1 : 0) + (biasWanted ? 1 : 0);
    const samples = await calibrationSamples(calibSet, calibIndices, input, batch, passes);
    const started = performance.now();
    if (pairs.length > 0) {
      // Channel ranges only steer the equalization; a few dozen samples are enough.
      const subset = firstSamples(samples, EQUALIZATION_SAMPLES, batch);
      progress('calibrate', 0, calibIndices.length, `measuring channel ranges of ${pairs.length} conv pairs`);
      const maxima = await collectChannelMaxima(reference, pairs.map((p) => p.tensor), subset, input,
        { ...calibrationOptions, onProgress: (d, t) => progress('calibrate', d, t * 2, `channel ranges ${d}/${t}`) }, modelPath);
      const equalized = equalizePairs(graph, pairs, maxima, { strength: request.equalizeStrength, deadRatio: 1e-3 }).size;
      log(`equalized channel ranges of ${equalized} tensors`);
    }

    // Every Q/DQ'd tensor, shared-scale ones too: returning a layer to FP32 (tuning) can leave a data-movement op's
    // output needing its own range.
    progress('calibrate', 0, calibIndices.length, `calibrating ${plan.calibrationTensors.length} tensors`);
    const calibration = await collectStatistics(reference, plan.qdqTensors, samples, input,
      { ...calibrationOptions, onProgress: (d, t) => progress('calibrate', d, t, `${d}/${t} samples`) }, modelPath);
    calibration.seconds = (performance.now() - started) / 1000;
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

    const converter = new ConversionBuilder({
      reference, stats: calibration.stats, ctx, biasSamples: firstSamples(samples, BIAS_SAMPLES, batch), input,
      options: { ...calibrationOptions, onProgress: (d, t) => progress('convert', d, t, `bias shifts ${d}/${t}`) },
    });
    let check: CheckSet | null = null;
    const checkSet = async (): Promise<CheckSet> => {
      if (check) return check;
      // Held out from the samples bias shifts are measured on, when there are enough.
      const from = calibIndices.length >= BIAS_SAMPLES + CHECK_SAMPLES ? BIAS_SAMPLES : 0;
      const set = await samplesWindow(samples, from, CHECK_SAMPLES, input, effectiveBatch(input, 8));
      const fp32 = await runOutputs(encodeModel(reference), set, input, modelPath, { signal: request.signal });
      check = { set, fp32, input, label: outPath, signal: request.signal };
      return check;
    };

    let method: CalibrationMethod;
    let methodScores: Partial<Record<CalibrationMethod, number>> | null = null;
    let tensorMethods: Report['calibration']['tensorMethods'] = null;
    let overrides: ReadonlyMap<string, CalibrationMethod> | undefined;
    if (request.method === 'auto') {
      progress('convert', 0, 1, 'comparing calibration methods');
      const base = { exclude: userExclude, biasCorrection: biasWanted };
      const picked = await pickMethod(converter.build, base, await checkSet());
      method = picked.method;
      methodScores = picked.scores;
      log(`method auto: ${method} (output SQNR on calibration samples: ${Object.entries(picked.scores).map(([m, v]) => `${m} ${v.toFixed(1)} dB`).join(', ')})`);
      progress('convert', 0, 1, 'comparing methods per tensor');
      const perTensor = await chooseTensorMethods(reference, calibration.stats, ctx, plan, method, AUTO_METHODS,
        firstSamples(samples, TENSOR_METHOD_SAMPLES, batch), input, calibrationOptions);
      if (perTensor.overrides.size > 0) {
        const score = await outputSqnr(await checkSet(), await converter.build({ ...base, method, tensorMethods: perTensor.overrides }));
        const kept = score > picked.scores[method];
        if (kept) overrides = perTensor.overrides;
        tensorMethods = { scored: perTensor.scored, overrides: Object.fromEntries(perTensor.overrides), kept,
          outputSqnrDb: { model: picked.scores[method], perTensor: score } };
        log(`method auto per tensor: ${perTensor.overrides.size} of ${perTensor.scored} tensors prefer another method; `
          + `output SQNR ${score.toFixed(2)} dB vs ${picked.scores[method].toFixed(2)} dB (${kept ? 'kept' : 'not kept'})`);
      }
    } else {
      method = request.method;
    }
    progress('convert', 0, 1, `choosing ranges (${method})`);
    let choice: ConvertChoice = { method, exclude: userExclude, biasCorrection: request.biasCorrection === 'on', ...(overrides ? { tensorMethods: overrides } : {}) };
    let conversion: Conversion;
    let biasScores: { off: number; on: number } | null = null;
    if (request.biasCorrection === 'auto') {
      const picked = await pickBiasCorrection(converter.build, choice, await checkSet());
      choice = { ...choice, biasCorrection: picked.biasCorrection };
      conversion = picked.conversion;
      biasScores = picked.scores;
      log(`bias correction ${picked.biasCorrection ? 'kept' : 'not kept'}: output SQNR ${picked.scores.on.toFixed(2)} dB with, ${picked.scores.off.toFixed(2)} dB without`);
    } else {
      conversion = await converter.build(choice);
    }
    progress('convert', 1, 1, `${conversion.quantizedNodes.length} nodes quantized`);

    let accuracy: AccuracyResult | null = null;
    let evaluation: Report['evaluation'] = null;
    let layers: LayerError[] = [];
    let tuning: TuningReport | null = null;
    let sensitivity: LayerSensitivity[] | null = null;
    if (request.evaluate || request.maxDrop !== null) {
      const sameData = !request.evalData || resolve(request.evalData) === resolve(request.calib);
      const evalSet = sameData ? calibSet : await openDataset(resolve(request.evalData!), { ...datasetOptions, labels: request.evalLabels ?? undefined });
      const skip = sameData ? calibIndices.length : 0;
      const evalIndices = splitIndices(evalSet.size, request.evalCount, skip);
      if (evalIndices.length === 0) {
        warnings.push('No evaluation samples left after the calibration samples; pass --eval-data or a larger data set.');
      } else {
        progress('evaluate', 0, evalIndices.length * 2, 'decoding evaluation samples');
        const samples = await loadEvalSet(evalSet, evalIndices, input, effectiveBatch(input, 8));
        const fp32Out = await runOutputs(modelPath, samples, input, modelPath, { signal: request.signal,
          onProgress: (d, t) => progress('evaluate', d, t * 2, `FP32 ${d}/${t}`) });
        const evaluateConversion = async (c: Conversion) => {
          const int8Out = await runOutputs(c.bytes, samples, input, outPath, { signal: request.signal,
            onProgress: (d, t) => progress('evaluate', t + d, t * 2, `INT8 ${d}/${t}`) });
          const [qmin, qmax] = request.activations === 'u8' ? [0, 255] : [-128, 127];
          const perLayer = await measureLayerErrors(reference, c.model, samples, input, {
            params: c.activationParams, samples: 16,
            methodOf: (t) => {
              const source = c.plan.sharedParams.get(t) ?? t;
              return c.tensorStats.find((s) => s.tensor === source)?.method ?? c.method;
            },
            weightSqnrOf: (node) => c.weights.find((w) => w.node === node)?.sqnrDb,
            activationRange: (p) => ({ lo: (qmin - p.zeroPoint) * p.scale, hi: (qmax - p.zeroPoint) * p.scale }),
            shapes: new Map([...facts].map(([name, f]) => [name, f.dims])),
          }, [modelPath, outPath]);
          return { accuracy: scoreOutputs(fp32Out, int8Out, samples.labels), layers: perLayer };
        };
        ({ accuracy, layers } = await evaluateConversion(conversion));
        evaluation = { dataset: evalSet.info, skip, limit: request.evalCount };
        if (request.maxDrop !== null && accuracyLoss(accuracy) > request.maxDrop) {
          progress('evaluate', 0, 1, `drop ${accuracyLoss(accuracy).toFixed(2)} > ${request.maxDrop}: tuning`);
          const tuned = await tune({
            build: converter.build, label: outPath, start: { choice, conversion, accuracy, layers }, evalSet: samples,
            fp32Outputs: fp32Out, fp32Model: modelPath, input, benchSample: probeSample.data, maxDrop: request.maxDrop,
            timeoutSeconds: request.tuneTimeout, signal: request.signal,
            onTrial: (t, i) => log(`trial ${i}: ${t.changed} → loss ${(t.top1DropPoints ?? (1 - t.agreement) * 100).toFixed(2)} points, ${t.speedup?.toFixed(2)}x`),
          });
          tuning = tuned.report;
          sensitivity = tuned.sensitivity;
          if (tuned.conversion !== conversion) {
            ({ conversion, choice } = tuned);
            ({ accuracy, layers } = await evaluateConversion(conversion));
          }
          if (!tuning.boundMet && tuning.note) warnings.push(tuning.note);
        } else if (request.maxDrop !== null) {
          tuning = boundMetAtStart(request.maxDrop, choice, accuracy);
        }
        if (request.sensitivity && !sensitivity) {
          progress('evaluate', 0, 1, 'measuring each layer\'s effect on the output');
          const order = rankByOwnError(conversion, layers).map((r) => r.node);
          const check = checkSubset(samples, fp32Out, SENSITIVITY_SAMPLES, { input, label: outPath, signal: request.signal });
          sensitivity = await measureSensitivity(converter.build, choice, check, order, performance.now() + request.tuneTimeout * 1000);
        }
      }
    }

    progress('write', 0, 1, outPath);
    mkdirSync(dirname(outPath), { recursive: true });
    writeModel(outPath, conversion.model);
    progress('write', 1, 1, outPath);
    const int8Bytes = conversion.bytes;
    const int8RuntimeOps = await runtimeOpHistogram(int8Bytes, workDir, outPath);
    warnings.push(...diagnoseRuntime(int8RuntimeOps));

    const report: Report = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      octetVersion: OCTET_VERSION,
      createdAt: new Date().toISOString(),
      fp32Model: modelInfo(loaded.model, modelPath, loaded.fileBytes),
      int8Model: modelInfo(conversion.model, outPath, int8Bytes.byteLength),
      optimizedFp32Ops: opHistogram(optimized),
      settings: {
        method: choice.method, methodRequested: request.method, percentile: request.percentile, perChannel,
        activations: request.activations, weightRange, equalize: request.equalize && perChannel, biasCorrection: choice.biasCorrection,
        biasCorrectionRequested: request.biasCorrection, calibCount: calibIndices.length,
        calibBatch: batch, opTypes: request.opTypes ?? [], exclude: [...choice.exclude], preprocess, resize: request.resize ?? null,
        crop: request.crop ?? null, layout: input.layout, maxDrop: request.maxDrop,
      },
      calibration: { dataset: calibSet.info, images: calibration.images, seconds: round3(calibration.seconds), peakRssMb,
        tensors: conversion.tensorStats, methodScores, tensorMethods,
        biasCorrection: biasWanted ? { layers: conversion.biasCorrected, samples: Math.min(BIAS_SAMPLES, calibIndices.length),
          seconds: round3(converter.biasSeconds), outputSqnrDb: biasScores } : null },
      quantizedNodes: conversion.quantizedNodes,
      keptFloat: conversion.kept,
      int8RuntimeOps,
      accuracy,
      evaluation,
      bench: [],
      layers,
      sensitivity,
      tuning,
      warnings,
      machine,
    };

    if (request.benchmark) {
      const sample = (await calibSet.read(calibIndices[0])).data;
      const threadCounts = [...new Set([1, cpus().length])];
      // Latency at batch 1 (or the model's fixed batch): the headline numbers.
      const latencyBatch = input.fixedBatch ?? 1;
      for (const threads of threadCounts) {
        progress('benchmark', 0, request.benchRuns, `batch ${latencyBatch}, ${threads} thread(s)`);
        report.bench.push(await benchmarkPair(modelPath, int8Bytes, input.name, input.shape, sample,
          { threads, batch: latencyBatch, runs: request.benchRuns, warmup: 3, signal: request.signal,
            onProgress: (d, t) => progress('benchmark', d, t, `batch ${latencyBatch}, ${threads} thread(s): ${d}/${t}`) },
          [modelPath, outPath]));
      }
      // Throughput at batch 8 with all cores, when the model takes any batch size; fewer runs (each is 8 samples).
      const throughputBatch = 8;
      if (input.fixedBatch === null || input.fixedBatch === undefined) {
        const threads = cpus().length;
        const runs = Math.min(request.benchRuns, Math.max(5, Math.ceil(request.benchRuns / 4)));
        progress('benchmark', 0, runs, `batch ${throughputBatch}, ${threads} thread(s)`);
        report.bench.push(await benchmarkPair(modelPath, int8Bytes, input.name, input.shape, sample,
          { threads, batch: throughputBatch, runs, warmup: 2, signal: request.signal,
            onProgress: (d, t) => progress('benchmark', d, t, `batch ${throughputBatch}, ${threads} thread(s): ${d}/${t}`) },
          [modelPath, outPath]));
      } else {
        log(`throughput at batch ${throughputBatch} not measured: the model's input batch is fixed at ${input.fixedBatch}`);
      }
      const single = report.bench.find((b) => b.batch === latencyBatch && b.threads === 1);
      if (single && single.speedup < 1) {
        warnings.push(`INT8 is not faster than FP32 here (${single.speedup.toFixed(2)}x at 1 thread); ops left in float at run time: ${floatRuntimeOps(int8RuntimeOps) || 'none'}.`);
      }
    }

    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileAtomic(reportPath, [Buffer.from(JSON.stringify(report, null, 2) + '\n')]);
    emit({ type: 'result', model: outPath, report: reportPath });
    return { modelPath: outPath, reportPath, report };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

function floatRuntimeOps(ops: Record<string, number>): string {
  return ['Conv', 'Gemm', 'MatMul', 'Add', 'FusedConv', 'FusedGemm'].filter((op) => ops[op]).map((op) => `${ops[op]} ${op}`).join(', ');
}
