// The quantize pipeline: read → FP32 optimize → probe → plan → calibrate → choose ranges → QDQ rewrite → write
// (atomically) → evaluate FP32 vs INT8 → benchmark → Report. Used by the CLI and, through it, by the extension.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { OctetError } from '../common/errors';
import {
  ActivationType, CalibrationMethod, CalibrationTensorStats, Layout, PreprocessPreset, Report, REPORT_SCHEMA_VERSION,
} from '../common/report';
import { Graph } from '../onnx/graph';
import { readModel, writeModel, writeFileAtomic } from '../onnx/model-io';
import { encodeModel, ModelProto } from '../onnx/proto';
import { chooseRange } from '../quant/calibrators';
import { prepareOpset } from '../quant/opset';
import { planQuantization } from '../quant/plan';
import { computeQParams, QParams } from '../quant/qparams';
import { applyPlan, WeightRange } from '../quant/rewrite';
import { equalizePairs, findEqualizationPairs } from '../quant/equalize';
import { benchmarkPair } from './bench';
import { collectChannelMaxima, collectStatistics } from './calibrate';
import { openDataset, splitIndices } from './dataset';
import { loadEvalSet, runOutputs, scoreOutputs } from './evaluate';
import { EventSink, Stage } from './events';
import { machineInfo } from './machine';
import { describeInput, effectiveBatch } from './model-input';
import { modelInfo, opHistogram } from './model-info';
import { optimizeFp32, probeTensors } from './prepare';
import { guessPreset } from './preprocess';
import { ortVersion, runtimeOpHistogram } from './runtime';
import { diagnoseRuntime } from './diagnose';
import { measureLayerErrors } from './layer-error';

export const OCTET_VERSION = '0.1.0';

export interface QuantizeRequest {
  model: string;
  calib: string;
  labels?: string | null;
  calibCount: number;
  calibBatch: number;
  method: CalibrationMethod;
  percentile: number;
  perChannel: boolean;
  activations: ActivationType;
  /** Weight code range; 'auto' = 'pair-safe' on CPUs without VNNI (U8S8 saturation), else 'full'. */
  weightRange: WeightRange | 'auto';
  /** Equalize activation channel ranges across consecutive convolutions (needs per-channel weights). */
  equalize: boolean;
  /** 0..1: how far small channels are scaled up towards the tensor maximum. */
  equalizeStrength: number;
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
    const optimized = await optimizeFp32(loaded.model, modelPath, workDir);
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
    const quantModel: ModelProto = structuredClone(optimized);
    const opset = prepareOpset(quantModel);
    if (opset.note) log(opset.note);
    const perChannel = request.perChannel && opset.perChannelAllowed;
    if (request.perChannel && !opset.perChannelAllowed && opset.note) warnings.push(opset.note);
    const graph = new Graph(quantModel.graph!);
    const plan = planQuantization(graph, {
      opTypes: request.opTypes ? new Set(request.opTypes) : null,
      exclude: new Set(request.exclude ?? []),
      isFloat: (t) => (facts.get(t)?.type ?? (graph.graphInputs.has(t) ? 'float32' : '')) === 'float32',
      opset: opset.to,
    });
    if (plan.quantized.filter((n) => !['Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'MaxPool'].includes(n.op_type ?? '')).length === 0) {
      const types = Object.keys(opHistogram(optimized)).join(', ');
      throw new OctetError(modelPath, `no quantizable op found (the model has ${types}; Octet quantizes Conv, Gemm, MatMul, Add, Concat, pooling)`);
    }

    const calibrationOptions = { batch, threads: request.threads, signal: request.signal };
    let equalizedTensors = 0;
    if (request.equalize && perChannel) {
      const quantizedNodes = new Set(plan.quantized);
      const pairs = findEqualizationPairs(graph, opset.to, (n) => quantizedNodes.has(n));
      if (pairs.length > 0) {
        progress('calibrate', 0, calibIndices.length, `measuring channel ranges of ${pairs.length} conv pairs`);
        const maxima = await collectChannelMaxima(quantModel, pairs.map((p) => p.tensor), calibSet, calibIndices, input,
          { ...calibrationOptions, onProgress: (d, t) => progress('calibrate', d, t * 2, `channel ranges ${d}/${t}`) }, modelPath);
        equalizedTensors = equalizePairs(graph, pairs, maxima, { strength: request.equalizeStrength, deadRatio: Number(process.env.OCTET_DEAD ?? 1e-3) }).size;
        log(`equalized channel ranges of ${equalizedTensors} tensors`);
      }
    }
    const referenceFp32: ModelProto = equalizedTensors > 0 ? structuredClone(quantModel) : optimized;

    progress('calibrate', 0, calibIndices.length, `calibrating ${plan.calibrationTensors.length} tensors`);
    const calibration = await collectStatistics(referenceFp32, plan.calibrationTensors, calibSet, calibIndices, input,
      { batch, threads: request.threads, signal: request.signal, onProgress: (d, t) => progress('calibrate', d, t, `${d}/${t} samples`) }, modelPath);
    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);

    progress('convert', 0, 1, `choosing ranges (${request.method})`);
    const levels = 256;
    const tensorStats: CalibrationTensorStats[] = [];
    const paramsByTensor = new Map<string, QParams>();
    for (const t of plan.calibrationTensors) {
      const stats = calibration.stats.get(t)!;
      const range = stats.count > 0
        ? chooseRange(stats, { method: request.method, percentile: request.percentile, symmetric: false, levels })
        : { min: 0, max: 0 };
      const p = computeQParams(range, request.activations, { symmetric: false, reduceRange: false });
      paramsByTensor.set(t, p);
      tensorStats.push({ tensor: t, min: stats.min, max: stats.max, rangeMin: range.min, rangeMax: range.max, scale: p.scale, zeroPoint: p.zeroPoint });
    }
    const rewrite = applyPlan(graph, plan, (t) => {
      const p = paramsByTensor.get(t);
      if (!p) throw new Error(`no calibrated range for tensor '${t}'`);
      return p;
    }, { activations: request.activations, perChannel, weightRange,
      channelsOf: (t) => facts.get(t)?.dims[1] });
    quantModel.producer_name = 'octet';
    quantModel.producer_version = OCTET_VERSION;
    progress('convert', 1, 1, `${plan.quantized.length} nodes quantized`);

    progress('write', 0, 1, outPath);
    const int8Bytes = encodeModel(quantModel);
    writeModel(outPath, quantModel);
    progress('write', 1, 1, outPath);

    const int8RuntimeOps = await runtimeOpHistogram(int8Bytes, workDir, outPath);
    warnings.push(...diagnoseRuntime(int8RuntimeOps));

    const report: Report = {
      schemaVersion: REPORT_SCHEMA_VERSION,
      octetVersion: OCTET_VERSION,
      createdAt: new Date().toISOString(),
      fp32Model: modelInfo(loaded.model, modelPath, loaded.fileBytes),
      int8Model: modelInfo(quantModel, outPath, int8Bytes.byteLength),
      optimizedFp32Ops: opHistogram(optimized),
      settings: {
        method: request.method, percentile: request.percentile, perChannel, activations: request.activations,
        weightRange, calibCount: calibIndices.length, calibBatch: batch,
        opTypes: request.opTypes ?? [], exclude: request.exclude ?? [], preprocess, resize: request.resize ?? null,
        crop: request.crop ?? null, layout: input.layout,
      },
      calibration: { dataset: calibSet.info, images: calibration.images, seconds: round3(calibration.seconds), peakRssMb, tensors: tensorStats },
      quantizedNodes: plan.quantized.map((n) => ({ node: n.name ?? n.output[0], opType: n.op_type ?? '' })),
      keptFloat: plan.kept,
      int8RuntimeOps,
      accuracy: null,
      evaluation: null,
      bench: [],
      layers: [],
      warnings,
      machine,
    };

    if (request.evaluate) {
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
        const int8Out = await runOutputs(int8Bytes, samples, input, outPath, { signal: request.signal,
          onProgress: (d, t) => progress('evaluate', t + d, t * 2, `INT8 ${d}/${t}`) });
        report.accuracy = scoreOutputs(fp32Out, int8Out, samples.labels);
        report.evaluation = { dataset: evalSet.info, skip, limit: request.evalCount };
        progress('evaluate', evalIndices.length * 2, evalIndices.length * 2, 'per-layer error');
        const [qmin, qmax] = request.activations === 'u8' ? [0, 255] : [-128, 127];
        report.layers = await measureLayerErrors(referenceFp32, quantModel, samples, input, {
          params: rewrite.activationParams, method: request.method, samples: 16,
          activationRange: (p) => ({ lo: (qmin - p.zeroPoint) * p.scale, hi: (qmax - p.zeroPoint) * p.scale }),
          shapes: new Map([...facts].map(([name, f]) => [name, f.dims])),
        }, [modelPath, outPath]);
      }
    }

    if (request.benchmark) {
      const sample = (await calibSet.read(calibIndices[0])).data;
      const threadCounts = [...new Set([1, cpus().length])];
      for (const threads of threadCounts) {
        progress('benchmark', 0, request.benchRuns, `batch 1, ${threads} thread(s)`);
        report.bench.push(await benchmarkPair(modelPath, int8Bytes, input.name, input.shape, sample,
          { threads, batch: input.fixedBatch ?? 1, runs: request.benchRuns, warmup: 3, signal: request.signal,
            onProgress: (d, t) => progress('benchmark', d, t, `batch 1, ${threads} thread(s): ${d}/${t}`) },
          [modelPath, outPath]));
      }
      const single = report.bench.find((b) => b.threads === 1);
      if (single && single.speedup < 1) {
        warnings.push(`INT8 is not faster than FP32 here (${single.speedup.toFixed(2)}x at 1 thread); ops left in float at run time: ${floatRuntimeOps(int8RuntimeOps) || 'none'}.`);
      }
    }

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
