// One quantization run as the extension asks the engine for it: the engine's own QuantizeRequest fields (the model,
// its data, the options the `octet.*` settings carry, where to write), and how that becomes `octet quantize`
// arguments. No vscode here: the same request comes from the prompts, from settings, from tests and from "re-run".
import { basename, dirname, join } from 'node:path';
import type { PreprocessingFields } from '../../data/preprocessing';
import { commandLineArguments, valueProblem } from '../../engine/option-kinds';
import { QUANTIZE_COMMAND, QUANTIZE_OPTIONS, SettingValues, settingOptions } from '../../engine/options';
import { defaultOutputPath, defaultReportPath, type QuantizeRequest } from '../../engine/request';

/** Where a run writes: always explicit in the extension (default: beside the model, as the engine names them). */
type Outputs = { [K in 'out' | 'report']-?: NonNullable<QuantizeRequest[K]> };

/** One run the extension starts. */
export type RunRequest = Pick<QuantizeRequest, 'model' | 'calib' | 'labels' | 'preprocessFile'> & SettingValues & Outputs & {
  /** The preprocessing asked for (prompt, re-run, caller): written to a spec file beside the report, passed as --preprocess-file. */
  preprocessing?: PreprocessingFields;
};

/** The methods the prompts offer, in the order the settings list them. */
export const CALIBRATION_METHODS = QUANTIZE_OPTIONS.method.setting.values;

/** The engine's default outputs: `resnet.onnx` → `resnet.int8.onnx` and `resnet.int8.report.json`. */
export function defaultOutputs(model: string): Outputs {
  const out = defaultOutputPath(model);
  return { out, report: defaultReportPath(out) };
}

/** Where a run's preprocessing spec file goes: beside the report (`x.int8.report.json` → `x.int8.preprocess.json`). */
export function preprocessFilePath(report: string): string {
  const name = basename(report);
  return join(dirname(report), name.endsWith('.report.json') ? name.replace(/\.report\.json$/, '.preprocess.json') : `${name}.preprocess.json`);
}

/** A run from the settings' defaults and the answers given (options, prompts, an earlier run); given ones win. */
export function completeRequest(model: string, calib: string, defaults: SettingValues, given: Partial<RunRequest>): RunRequest {
  const settings: Record<string, unknown> = { ...defaults };
  for (const field of Object.keys(defaults)) {
    const value = (given as Record<string, unknown>)[field];
    if (value !== undefined) settings[field] = value;
  }
  const outputs = defaultOutputs(model);
  return {
    ...(settings as SettingValues), model, calib, labels: given.labels ?? null,
    out: given.out ?? outputs.out, report: given.report ?? outputs.report,
    ...(given.preprocessing ? { preprocessing: given.preprocessing } : {}),
  };
}

/** Arguments after `dist/engine.js`; an evaluation count of 0 means no evaluation; progress comes as JSON lines on stderr. */
export function engineArguments(request: RunRequest): string[] {
  const values = { ...request, evaluate: request.evalCount > 0, progress: 'json' as const };
  return ['quantize', request.model, ...commandLineArguments(QUANTIZE_COMMAND, values)];
}

/** Checks what a person typed or a caller passed against the engine's options; a sentence naming the bad field, or null. */
export function describeInvalidRequest(request: RunRequest): string | null {
  if (!request.model.toLowerCase().endsWith('.onnx')) return `${request.model} is not an .onnx file.`;
  if (!request.calib) return 'No calibration image folder was given.';
  for (const [field, option] of settingOptions()) {
    const value = (request as Record<string, unknown>)[field];
    const problem = valueProblem(option, value);
    if (problem) return `The ${option.setting.label} ${problem} (got ${JSON.stringify(value)}).`;
  }
  return null;
}
