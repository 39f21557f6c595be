// `octet` command line: quantize | eval | bench | inspect | report. Runs headless, and as the VS Code extension's child
// process (`--progress json` streams EngineEvents as JSON lines on stderr). Options, their checks and the usage text
// come from option tables: quantize's and eval's in src/engine/options.ts, bench's and report's few below.
import { parseArgs } from 'node:util';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { InternalError, OctetError } from '../common/errors';
import { CancelledError } from '../engine/cancel';
import { EngineEvent } from '../engine/events';
import { quantizeModel } from '../engine/commands/quantize';
import { OCTET_VERSION } from '../common/version';
import { evaluatePair } from '../engine/commands/eval';
import { benchPair, formatProfile } from '../engine/commands/bench';
import { inspectModel } from '../engine/commands/inspect';
import { choice, integer, OptionTable, OptionValues, parseArgsConfig, readCommandLine, switchFlag, text } from '../engine/option-kinds';
import { EVAL_COMMAND, INSPECT_COMMAND, JSON_OUTPUT, QUANTIZE_COMMAND } from '../engine/options';
import { quantizableOpTypes } from '../quant/registry';
import { formatBench, formatEval, formatQuantizeSummary } from '../report/terminal-summary';
import { CommandUsage, optionHelp, synopsis } from './usage';
import { runReportCommand } from '../report/command';

const BENCH_COMMAND = {
  threads: integer({ flag: 'threads', valueName: 'N', default: 1, min: 0, doc: 'ONNX Runtime intra-op threads (0: all cores)' }),
  batch: integer({ flag: 'batch', valueName: 'N', default: 1, min: 1, doc: "batch size (a model with a fixed batch runs at its own)" }),
  runs: integer({ flag: 'runs', valueName: 'N', default: 30, min: 1, doc: 'timed runs per model' }),
  crop: integer({ flag: 'crop', valueName: 'N', default: null, min: 1, doc: "input size (default: the model's)" }),
  profile: switchFlag({ flag: 'profile', default: false, doc: "also time every layer with ONNX Runtime's profiler: where the time goes" }),
  json: JSON_OUTPUT,
};

const REPORT_COMMAND = {
  format: choice({ flag: 'format', values: ['md', 'html'], default: 'md', doc: 'Markdown (stdout) or one HTML page (REPORT.html)' }),
  out: text({ flag: 'out', valueName: 'FILE', doc: "output file ('-' = stdout)" }),
};

const COMMANDS: Record<string, CommandUsage> = {
  quantize: { name: 'quantize', operands: 'MODEL.onnx', options: QUANTIZE_COMMAND },
  eval: { name: 'eval', operands: 'FP32.onnx INT8.onnx', options: EVAL_COMMAND },
  bench: { name: 'bench', operands: 'FP32.onnx INT8.onnx', options: BENCH_COMMAND },
  inspect: { name: 'inspect', operands: 'MODEL.onnx', options: INSPECT_COMMAND },
  report: { name: 'report', operands: 'REPORT.json', options: REPORT_COMMAND, note: "md: stdout; html: REPORT.html beside the json; '-' = stdout" },
};

const USAGE = `octet ${OCTET_VERSION} — FP32 ONNX to INT8 (QDQ) with calibration, evaluation and benchmark

usage (octet help COMMAND lists a command's options):
${Object.values(COMMANDS).map((c) => synopsis(c)).join('\n')}

Quantizable op types: ${quantizableOpTypes().join(', ')} (Relu/Clip fold into their producer).
Outputs are written atomically; the input model is never overwritten (default output MODEL.int8.onnx).`;

/** Parses a command's arguments against its option table; an unknown flag is a usage error (exit 2). */
function parseCommand<T extends OptionTable>(table: T, args: string[]): { options: OptionValues<T>; positionals: string[] } {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: parseArgsConfig(table) });
  return { options: readCommandLine(table, values), positionals };
}

function positionalModels(positionals: string[], count: number, usage: string): string[] {
  if (positionals.length !== count) throw new OctetError('usage', usage);
  return positionals.map((p) => resolve(p));
}

function checkOpTypes(opTypes: string[] | null): void {
  const unknown = (opTypes ?? []).filter((t) => !quantizableOpTypes().includes(t));
  if (unknown.length) throw new OctetError('--op-types', `unknown or unquantizable op type(s) ${unknown.join(', ')}; choose from ${quantizableOpTypes().join(', ')}`);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    const asked = command === 'help' && rest[0] ? COMMANDS[rest[0]] : undefined;
    process.stdout.write((asked ? optionHelp(asked) : USAGE) + '\n');
    return command ? 0 : 2;
  }
  if (command === '--version' || command === 'version') {
    process.stdout.write(`${OCTET_VERSION}\n`);
    return 0;
  }
  if (COMMANDS[command] && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(optionHelp(COMMANDS[command]) + '\n');
    return 0;
  }
  const controller = cancelOnSignals();

  if (command === 'quantize') {
    const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: parseArgsConfig(QUANTIZE_COMMAND) });
    const { progress: progressMode } = readCommandLine({ progress: QUANTIZE_COMMAND.progress }, values);
    const sink = eventPrinter(progressMode);
    try {
      const [model] = positionalModels(positionals, 1, 'octet quantize MODEL.onnx --calib DIR [options]; see octet help quantize');
      const { progress: _, json, ...options } = readCommandLine(QUANTIZE_COMMAND, values);
      checkOpTypes(options.opTypes);
      const outcome = await quantizeModel({ ...options, model, signal: controller.signal, onEvent: sink });
      if (json) process.stdout.write(JSON.stringify(outcome.report, null, 2) + '\n');
      else process.stdout.write(formatQuantizeSummary(outcome.report, outcome.modelPath, outcome.reportPath) + '\n');
      return 0;
    } catch (err) {
      if (progressMode === 'json') sink(errorEvent(err));
      throw err;
    }
  }

  if (command === 'eval') {
    const { options: { json, ...options }, positionals } = parseCommand(EVAL_COMMAND, rest);
    const [fp32, int8] = positionalModels(positionals, 2, 'octet eval FP32.onnx INT8.onnx --data DIR [options]');
    const result = await evaluatePair({ ...options, fp32, int8, data: resolve(options.data), signal: controller.signal });
    process.stdout.write((json ? JSON.stringify(result.json, null, 2) : formatEval(result.accuracy)) + '\n');
    return 0;
  }

  if (command === 'bench') {
    const { options: { json, threads, ...options }, positionals } = parseCommand(BENCH_COMMAND, rest);
    const [fp32, int8] = positionalModels(positionals, 2, 'octet bench FP32.onnx INT8.onnx [--threads N] [--batch N] [--runs N]');
    const result = await benchPair({ ...options, fp32, int8, threads: threads || cpus().length, signal: controller.signal });
    const profile = result.json.profile ? `\n${formatProfile(result.json.profile)}` : '';
    process.stdout.write((json ? JSON.stringify(result.json, null, 2) : formatBench(result.bench) + profile) + '\n');
    return 0;
  }

  if (command === 'inspect') {
    const { options: { json, ...options }, positionals } = parseCommand(INSPECT_COMMAND, rest);
    const [model] = positionalModels(positionals, 1, 'octet inspect MODEL.onnx [preprocessing options] [--json]');
    const info = inspectModel(model, options);
    process.stdout.write((json ? JSON.stringify(info, null, 2) : info.text) + '\n');
    return 0;
  }
  if (command === 'report') {
    const { options, positionals } = parseCommand(REPORT_COMMAND, rest);
    if (positionals.length !== 1) throw new OctetError('usage', 'octet report REPORT.json [--format md|html] [--out FILE]');
    const result = runReportCommand({ input: positionals[0], ...options });
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
