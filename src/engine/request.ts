// What `octet quantize` is asked (QuantizeRequest, its fields defined by the options table in options.ts), the same
// with every default filled in (what the pipeline reads), and where it writes by default. Pure: the CLI, the pipeline
// and the extension all import it.
import { basename, dirname, extname, join } from 'node:path';
import type { EventSink } from './events';
import { withDefaults } from './option-kinds';
import { QUANTIZE_OPTIONS, type QuantizeOptionInput, type QuantizeOptionValues } from './options';

interface RunContext {
  /** The FP32 model. */
  model: string;
  signal?: AbortSignal;
  onEvent?: EventSink;
}

/** A quantization run as callers give it: the model, `calib`, and the options they want off their default. */
export type QuantizeRequest = QuantizeOptionInput & RunContext;
/** The same with every option present. */
export type ResolvedQuantizeRequest = QuantizeOptionValues & RunContext;

export function resolveRequest(request: QuantizeRequest): ResolvedQuantizeRequest {
  return withDefaults(QUANTIZE_OPTIONS, request);
}

/** `resnet.onnx` → `resnet.int8.onnx`, beside the model. */
export function defaultOutputPath(model: string): string {
  const ext = extname(model);
  return join(dirname(model), `${basename(model, ext)}.int8${ext || '.onnx'}`);
}

/** `resnet.int8.onnx` → `resnet.int8.report.json`, beside the INT8 model. */
export function defaultReportPath(out: string): string {
  const ext = extname(out);
  return join(dirname(out), `${basename(out, ext)}.report.json`);
}
