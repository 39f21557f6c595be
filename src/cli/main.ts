// `octet` command line: quantize | eval | bench | inspect | report. Runs headless, and as the VS Code extension's child
// process (`--progress json` streams EngineEvents as JSON lines on stderr).
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { InternalError, OctetError } from '../common/errors';
import { MethodChoice, ActivationType, Layout, PreprocessPreset } from '../common/report';
import { CancelledError } from '../engine/cancel';
import { EngineEvent } from '../engine/events';
import { OCTET_VERSION, quantizeModel } from '../engine/commands/quantize';
import { evaluatePair } from '../engine/commands/eval';
import { benchPair } from '../engine/commands/bench';
import { inspectModel } from '../engine/commands/inspect';
import { quantizableOpTypes } from '../quant/registry';
import { formatBench, formatEval, formatQuantizeSummary } from './format';
import { runReportCommand } from '../report/command';

const USAGE = `octet ${OCTET_VERSION} — FP32 ONNX to INT8 (QDQ) with calibration, evaluation and benchmark

usage:
  octet quantize MODEL.onnx --calib DIR [--labels FILE] [--calib-count N] [--calib-batch B]
        [--method mse|percentile|entropy|minmax|auto] [--percentile P] [--per-tensor] [--activations u8|s8]
        [--weight-range auto|full|pair-safe|7bit] [--reduce-range (= 7bit)] [--no-equalize] [--equalize-strength S]
        [--bias-correction auto|on|off]
        [--preprocess auto|torch|tf|caffe|raw|unit] [--resize N] [--crop N] [--layout auto|NCHW|NHWC]
        [--op-types T,...] [--exclude NODE,...] [--out OUT.onnx] [--report REPORT.json]
        [--eval-data DIR] [--eval-labels FILE] [--eval-count N] [--no-eval] [--no-bench] [--bench-runs N]
        [--max-drop P] [--sensitivity] [--tune-timeout SECONDS=600] [--threads N] [--progress text|json|none] [--json]
  octet eval FP32.onnx INT8.onnx --data DIR [--labels FILE] [--skip N] [--limit N] [preprocess flags] [--json]
  octet bench FP32.onnx INT8.onnx [--threads N] [--batch N] [--runs N] [--json]
  octet inspect MODEL.onnx [--json]
  octet report REPORT.json [--format md|html] [--out FILE]   (md: stdout; html: REPORT.html beside the json; '-' = stdout)

Quantizable op types: ${quantizableOpTypes().join(', ')} (Relu/Clip fold into their producer).
Outputs are written atomically; the input model is never overwritten (default output MODEL.int8.onnx).`;

const METHODS: MethodChoice[] = ['minmax', 'entropy', 'percentile', 'mse', 'auto'];
const PRESETS: (PreprocessPreset | 'auto')[] = ['auto', 'torch', 'tf', 'caffe', 'raw', 'unit'];

function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) throw new OctetError(`--${flag}`, `must be one of ${allowed.join(', ')} (got '${value}')`);
  return value as T;
}

function intFlag(flag: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new OctetError(`--${flag}`, `must be an integer ≥ ${min} (got '${value}')`);
  return n;
}

function floatFlag(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new OctetError(`--${flag}`, `must be a number in [${min}, ${max}] (got '${value}')`);
  return n;
}

function list(value: string | undefined): string[] {
  return value ? value.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

const preprocessFlags = {
  labels: { type: 'string' }, preprocess: { type: 'string' }, resize: { type: 'string' }, crop: { type: 'string' },
  layout: { type: 'string' }, json: { type: 'boolean' },
} as const;

function layoutFlag(value: string | undefined): Layout | null {
  const layout = oneOf('layout', value, ['auto', 'NCHW', 'NHWC'] as const, 'auto');
  return layout === 'auto' ? null : layout;
}

function positionalModels(positionals: string[], count: number, usage: string): string[] {
  if (positionals.length !== count) throw new OctetError('usage', usage);
  return positionals.map((p) => resolve(p));
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${OCTET_VERSION}\n`);
    return 0;
  }
  const controller = cancelOnSignals();

  if (command === 'quantize') {
    const { values, positionals } = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: {
        ...preprocessFlags, calib: { type: 'string' }, 'calib-count': { type: 'string' }, 'calib-batch': { type: 'string' },
        method: { type: 'string' }, percentile: { type: 'string' }, 'per-tensor': { type: 'boolean' },
        activations: { type: 'string' }, 'reduce-range': { type: 'boolean' }, 'op-types': { type: 'string' },
        exclude: { type: 'string' }, out: { type: 'string' }, report: { type: 'string' }, 'eval-data': { type: 'string' },
        'eval-labels': { type: 'string' }, 'eval-count': { type: 'string' }, 'no-eval': { type: 'boolean' },
        'no-bench': { type: 'boolean' }, 'bench-runs': { type: 'string' }, threads: { type: 'string' },
        progress: { type: 'string' }, 'no-equalize': { type: 'boolean' }, 'weight-range': { type: 'string' }, 'max-drop': { type: 'string' },
        'tune-timeout': { type: 'string' }, 'equalize-strength': { type: 'string' }, 'bias-correction': { type: 'string' }, sensitivity: { type: 'boolean' },
      },
    });
    const [model] = positionalModels(positionals, 1, 'octet quantize MODEL.onnx --calib DIR [options]; see octet --help');
    if (!values.calib) throw new OctetError('--calib', 'a calibration data set is required (folder of images, IDX, .npy or test_data_set)');
    const opTypes = list(values['op-types']);
    const unknown = opTypes.filter((t) => !quantizableOpTypes().includes(t));
    if (unknown.length) throw new OctetError('--op-types', `unknown or unquantizable op type(s) ${unknown.join(', ')}; choose from ${quantizableOpTypes().join(', ')}`);
    const progressMode = oneOf('progress', values.progress, ['text', 'json', 'none'] as const, 'text');
    const sink = eventPrinter(progressMode);
    try {
      const outcome = await quantizeModel({
        model, calib: values.calib, labels: values.labels ?? null,
        calibCount: intFlag('calib-count', values['calib-count'], 100, 1),
        calibBatch: intFlag('calib-batch', values['calib-batch'], 8, 1),
        method: oneOf('method', values.method, METHODS, 'mse'),
        percentile: floatFlag('percentile', values.percentile, 99.999, 50, 100),
        perChannel: !values['per-tensor'],
        activations: oneOf<ActivationType>('activations', values.activations, ['u8', 's8'], 'u8'),
        weightRange: values['reduce-range'] ? '7bit' : oneOf('weight-range', values['weight-range'], ['auto', 'full', 'pair-safe', '7bit'] as const, 'auto'),
        equalize: !values['no-equalize'],
        equalizeStrength: floatFlag('equalize-strength', values['equalize-strength'], 0.5, 0, 1),
        biasCorrection: oneOf('bias-correction', values['bias-correction'], ['auto', 'on', 'off'] as const, 'auto'),
        preprocess: oneOf('preprocess', values.preprocess, PRESETS, 'auto'),
        resize: values.resize ? intFlag('resize', values.resize, 0, 1) : null,
        crop: values.crop ? intFlag('crop', values.crop, 0, 1) : null,
        layout: layoutFlag(values.layout),
        opTypes: opTypes.length ? opTypes : null,
        exclude: list(values.exclude),
        out: values.out ?? null, report: values.report ?? null,
        evalData: values['eval-data'] ?? null, evalLabels: values['eval-labels'] ?? null,
        evalCount: intFlag('eval-count', values['eval-count'], 400, 0),
        evaluate: !values['no-eval'], benchmark: !values['no-bench'],
        benchRuns: intFlag('bench-runs', values['bench-runs'], 20, 1),
        threads: intFlag('threads', values.threads, 0, 0),
        maxDrop: values['max-drop'] !== undefined ? floatFlag('max-drop', values['max-drop'], 0, 0, 100) : null,
        tuneTimeout: intFlag('tune-timeout', values['tune-timeout'], 600, 1),
        sensitivity: Boolean(values.sensitivity),
        signal: controller.signal, onEvent: sink,
      });
      if (values.json) process.stdout.write(JSON.stringify(outcome.report, null, 2) + '\n');
      else process.stdout.write(formatQuantizeSummary(outcome.report, outcome.modelPath, outcome.reportPath) + '\n');
      return 0;
    } catch (err) {
      if (progressMode === 'json') sink(errorEvent(err));
      throw err;
    }
  }

  if (command === 'eval') {
    const { values, positionals } = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: { ...preprocessFlags, data: { type: 'string' }, skip: { type: 'string' }, limit: { type: 'string' }, threads: { type: 'string' } },
    });
    const [fp32, int8] = positionalModels(positionals, 2, 'octet eval FP32.onnx INT8.onnx --data DIR [options]');
    if (!values.data) throw new OctetError('--data', 'an evaluation data set is required');
    const result = await evaluatePair({
      fp32, int8, data: resolve(values.data), labels: values.labels ?? null,
      skip: intFlag('skip', values.skip, 0, 0), limit: intFlag('limit', values.limit, 0, 0),
      preprocess: oneOf('preprocess', values.preprocess, PRESETS, 'auto'),
      resize: values.resize ? intFlag('resize', values.resize, 0, 1) : null,
      crop: values.crop ? intFlag('crop', values.crop, 0, 1) : null,
      layout: layoutFlag(values.layout), threads: intFlag('threads', values.threads, 0, 0), signal: controller.signal,
    });
    process.stdout.write((values.json ? JSON.stringify(result.json, null, 2) : formatEval(result.accuracy)) + '\n');
    return 0;
  }

  if (command === 'bench') {
    const { values, positionals } = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: { threads: { type: 'string' }, batch: { type: 'string' }, runs: { type: 'string' }, json: { type: 'boolean' },
        crop: { type: 'string' } },
    });
    const [fp32, int8] = positionalModels(positionals, 2, 'octet bench FP32.onnx INT8.onnx [--threads N] [--batch N] [--runs N]');
    const result = await benchPair({
      fp32, int8, threads: intFlag('threads', values.threads, 1, 0) || cpus().length,
      batch: intFlag('batch', values.batch, 1, 1), runs: intFlag('runs', values.runs, 30, 1),
      crop: values.crop ? intFlag('crop', values.crop, 0, 1) : null, signal: controller.signal,
    });
    process.stdout.write((values.json ? JSON.stringify(result.json, null, 2) : formatBench(result.bench)) + '\n');
    return 0;
  }

  if (command === 'inspect') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: { json: { type: 'boolean' } } });
    const [model] = positionalModels(positionals, 1, 'octet inspect MODEL.onnx [--json]');
    const info = inspectModel(model);
    process.stdout.write((values.json ? JSON.stringify(info, null, 2) : info.text) + '\n');
    return 0;
  }
  if (command === 'report') {
    const { values, positionals } = parseArgs({
      args: rest, allowPositionals: true, strict: true, options: { format: { type: 'string' }, out: { type: 'string' } },
    });
    if (positionals.length !== 1) throw new OctetError('usage', 'octet report REPORT.json [--format md|html] [--out FILE]');
    const format = oneOf('format', values.format, ['md', 'html'] as const, 'md');
    const result = runReportCommand({ input: positionals[0], format, out: values.out ?? null });
    if (result.path === null) process.stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
    else process.stderr.write(`octet: wrote ${result.path}\n`);
    return 0;
  }
  throw new OctetError(command, `unknown command; expected quantize, eval, bench, inspect or report (see octet --help)`);
}

function errorEvent(err: unknown): EngineEvent {
  if (err instanceof OctetError) return { type: 'error', subject: err.subject, message: err.message };
  if (err instanceof CancelledError) return { type: 'error', subject: 'cancel', message: 'cancelled by the user' };
  return { type: 'error', subject: 'octet', message: err instanceof Error ? err.message : String(err) };
}

function eventPrinter(mode: 'text' | 'json' | 'none'): (event: EngineEvent) => void {
  let lastLine = '';
  return (event) => {
    if (mode === 'json') { process.stderr.write(JSON.stringify(event) + '\n'); return; }
    if (mode === 'none') return;
    if (event.type === 'progress') {
      const pct = event.total > 0 ? Math.round((event.done / event.total) * 100) : 0;
      const line = `[${event.stage}] ${pct}% ${event.message}`;
      const bucket = `${event.stage}:${Math.floor(pct / 10)}`;
      if (bucket !== lastLine) { process.stderr.write(line + '\n'); lastLine = bucket; }
    } else if (event.type === 'log') {
      process.stderr.write(`octet: ${event.message}\n`);
    }
  };
}

/**
 * SIGTERM/SIGINT abort the returned controller: every stage stops at its next check (between batches, before the final
 * write), removes its temp files and exits 130. A second signal gets the default action (immediate exit).
 */
function cancelOnSignals(): AbortController {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return controller;
}

/** Exit codes: 0 ok, 1 OctetError (the user's input), 2 usage, 130 cancelled, 70 anything else (a bug in Octet). */
main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  if (err instanceof CancelledError) {
    process.stderr.write('octet: cancelled; nothing was written\n');
    process.exitCode = 130;
  } else if (err instanceof OctetError) {
    process.stderr.write(`octet: error: ${err.message}\n`);
    process.exitCode = 1;
  } else if (err instanceof TypeError && /ERR_PARSE_ARGS/.test(String((err as NodeJS.ErrnoException).code))) {
    process.stderr.write(`octet: error: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    const kind = err instanceof InternalError ? 'internal error (a broken invariant: a bug in Octet, please report it)' : 'internal error';
    process.stderr.write(`octet: ${kind}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 70;
  }
});
