// The model's input as the data pipeline runs it: name, layout, channels, the samples' size and shape, batch handling.
// inputSpecFor() makes it from the model description and the preprocessing (images); settleInput() takes the size of
// the data set's own samples (tensor data of a model with free dims, samples of their own sizes).
import { OctetError } from '../common/errors';
import type { Layout, Preprocessing } from '../common/report';
import { summarizeModel } from '../onnx/model-summary';
import type { ModelProto } from '../onnx/proto';
import type { Dataset, InputSpec } from './dataset';
import { sampleShapeOf } from './dataset-common';
import { DescribedInput, describeModel, ModelDescription, requireInput, sizeAdvice } from './model-description';
import { ownSizeBound } from './preprocessing';

export interface ModelInput extends InputSpec {
  /** The model accepts any batch size (dim 0 free). */
  dynamicBatch: boolean;
  /** Batch size fixed by the model, when it is. */
  fixedBatch: number | null;
}

/** Values per sample of the model's first output (what labels index, as evaluation scores it), or null when not fixed. */
function outputClasses(description: ModelDescription): number | null {
  const dims = description.outputs[0]?.shape;
  if (!dims || dims.length < 2) return null;
  const rest = dims.slice(1);
  return rest.every((d) => typeof d === 'number' && d > 0) ? (rest as number[]).reduce((a, b) => a * b, 1) : null;
}

/** [height, width] of a sample shape (no batch dim) of this input. */
function spatialOf(input: InputSpec, shape: readonly number[]): [number, number] {
  if (shape.length === 3) return input.layout === 'NHWC' ? [shape[0], shape[1]] : [shape[1], shape[2]];
  return shape.length === 2 ? [shape[0], shape[1]] : [1, shape[0] ?? 0];
}

function withSampleShape<T extends InputSpec>(input: T, sampleShape: readonly number[]): T {
  const [height, width] = spatialOf(input, sampleShape);
  return { ...input, height, width, shape: [input.shape[0], ...sampleShape] };
}

/**
 * The input data sets are opened with: the model's dims (free ones 0), and the samples' size from the preprocessing
 * (the size, or the largest size a sample of its own size can have); 0 x 0 when no size is set (only tensor data,
 * which carries its own, can feed it then).
 */
export function inputSpecFor(description: ModelDescription, preprocessing: Preprocessing | null): ModelInput {
  const input: DescribedInput = requireInput(description);
  const modelDims = input.dims.slice(1).map((d) => (typeof d === 'number' && d > 0 ? d : 0));
  const spec: ModelInput = {
    name: input.name, layout: input.layout, channels: input.channels, height: 0, width: 0,
    shape: [input.fixedBatch ?? 1, ...modelDims], modelDims, classes: outputClasses(description),
    dynamicBatch: input.fixedBatch === null, fixedBatch: input.fixedBatch,
  };
  const bound = preprocessing ? ownSizeBound(preprocessing) : null;
  const size = bound !== null ? [bound, bound] : preprocessing?.size;
  if (size) return withSampleShape(spec, sampleShapeOf(spec, size[0], size[1]));
  if (modelDims.every((d) => d > 0)) return withSampleShape(spec, modelDims);
  return spec;
}

/** The input at the size of the data set's samples (the largest, when each has its own). */
export function settleInput(input: ModelInput, dataset: Dataset): ModelInput {
  return withSampleShape(input, dataset.maxSampleShape);
}

/**
 * A model's input at its own fixed size, or with free spatial dims set to `size` (`octet bench`, tests). Throws the
 * error that says how to give a size when a dim is free and no size is given.
 */
export function describeInput(model: ModelProto, label: string, overrides: { layout?: Layout | null; size?: number[] | null } = {}): ModelInput {
  const description = describeModel(summarizeModel(model), { label, layout: overrides.layout });
  const input = requireInput(description);
  const height = input.height ?? overrides.size?.[0] ?? null;
  const width = input.width ?? overrides.size?.[1] ?? null;
  if (height === null || width === null) throw new OctetError(label, sizeAdvice(input));
  const spec = inputSpecFor(description, null);
  return withSampleShape(spec, sampleShapeOf(spec, height, width));
}

/**
 * Batch size to run: the requested one when the model allows it, else the model's fixed batch; one sample at a time
 * when the samples have sizes of their own (`sampleShape` null).
 */
export function effectiveBatch(input: ModelInput, requested: number, sampleShape: readonly number[] | null = input.shape.slice(1)): number {
  if (sampleShape === null) return 1;
  return input.dynamicBatch ? Math.max(1, requested) : input.fixedBatch ?? 1;
}

export function batchShape(input: ModelInput, batch: number): number[] {
  return [batch, ...input.shape.slice(1)];
}
