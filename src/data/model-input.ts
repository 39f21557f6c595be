// The model's image input as the data pipeline needs it: name, layout, channels, spatial size, batch handling.
import { OctetError } from '../common/errors';
import type { Layout } from '../common/report';
import { elemTypeOf, Graph, shapeOf } from '../onnx/graph';
import { DataType, ModelProto } from '../onnx/proto';
import type { InputSpec } from './dataset';

export interface InputOverrides {
  layout?: Layout | null;
  /** Spatial size to use when the model leaves H/W dynamic. */
  crop?: number | null;
}

export interface ModelInput extends InputSpec {
  /** The model accepts any batch size (dim 0 symbolic). */
  dynamicBatch: boolean;
  /** Batch size fixed by the model, when it is. */
  fixedBatch: number | null;
}

export function describeInput(model: ModelProto, label: string, overrides: InputOverrides = {}): ModelInput {
  const graph = new Graph(model.graph!);
  const inputs = model.graph!.input.filter((vi) => vi.name && !graph.initializers.has(vi.name));
  if (inputs.length !== 1) {
    throw new OctetError(label, `Octet quantizes models with one input tensor; this one has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`);
  }
  const info = inputs[0];
  const name = info.name!;
  if (elemTypeOf(info) !== DataType.FLOAT) {
    throw new OctetError(label, `input '${name}' is not float32; Octet calibrates float32 models`);
  }
  const dims = shapeOf(info);
  if (!dims) throw new OctetError(label, `input '${name}' has no shape information`);
  const numeric = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);
  let layout: Layout;
  let channels: number | null;
  let height: number | null;
  let width: number | null;
  if (dims.length === 4) {
    const guessNhwc = overrides.layout === 'NHWC'
      || (!overrides.layout && [1, 3].includes(numeric(dims[3]) ?? -1) && ![1, 3].includes(numeric(dims[1]) ?? -1));
    layout = guessNhwc ? 'NHWC' : 'NCHW';
    [channels, height, width] = guessNhwc ? [numeric(dims[3]), numeric(dims[1]), numeric(dims[2])] : [numeric(dims[1]), numeric(dims[2]), numeric(dims[3])];
  } else if (dims.length === 3 || dims.length === 2) {
    // [N, H, W] grey images or [N, features] vectors: treat as a one-channel NCHW tensor.
    layout = 'NCHW';
    channels = 1;
    height = dims.length === 3 ? numeric(dims[1]) : 1;
    width = numeric(dims[dims.length - 1]);
  } else {
    throw new OctetError(label, `input '${name}' has rank ${dims.length} [${dims.join(', ')}]; Octet supports [N,C,H,W], [N,H,W,C], [N,H,W] and [N,F] inputs`);
  }
  if (channels === null) throw new OctetError(label, `input '${name}' has a dynamic channel count [${dims.join(', ')}]`);
  if (height === null || width === null) {
    if (!overrides.crop) {
      throw new OctetError(label, `input '${name}' has dynamic spatial dims [${dims.join(', ')}]; pass --crop N to fix the image size`);
    }
    height = height ?? overrides.crop;
    width = width ?? overrides.crop;
  }
  const fixedBatch = numeric(dims[0]);
  const perSample = layout === 'NHWC' ? [height, width, channels] : [channels, height, width];
  const shape = dims.length === 4 ? [fixedBatch ?? 1, ...perSample] : dims.length === 3 ? [fixedBatch ?? 1, height, width] : [fixedBatch ?? 1, width];
  return { name, layout, channels, height, width, shape, dynamicBatch: fixedBatch === null, fixedBatch, classes: outputClasses(model) };
}

/** Values per sample of the model's first output (what labels index, as evaluation scores it), or null when not fixed. */
function outputClasses(model: ModelProto): number | null {
  const dims = model.graph?.output[0] ? shapeOf(model.graph.output[0]) : null;
  if (!dims || dims.length < 2) return null;
  const rest = dims.slice(1);
  return rest.every((d) => typeof d === 'number' && d > 0) ? (rest as number[]).reduce((a, b) => a * b, 1) : null;
}

/** Batch size to run: the requested one when the model allows it, else the model's fixed batch. */
export function effectiveBatch(input: ModelInput, requested: number): number {
  return input.dynamicBatch ? Math.max(1, requested) : input.fixedBatch ?? 1;
}

export function batchShape(input: ModelInput, batch: number): number[] {
  return [batch, ...input.shape.slice(1)];
}
