// What `octet quantize` is asked (QuantizeRequest, its fields defined by the options table in options.ts) and where
// it writes by default. Pure: the CLI, the pipeline and the extension all import it.
import { basename, dirname, extname, join } from 'node:path';
import type { EventSink } from './events';
import type { QuantizeOptionValues } from './options';

export type QuantizeRequest = QuantizeOptionValues & {
  /** The FP32 model. */
  model: string;
  signal?: AbortSignal;
  onEvent?: EventSink;
};

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
