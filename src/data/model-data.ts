// A model's data, the way `quantize` and `eval` open it: the preprocessing the request asks for (flags over a spec
// file over a preset over the model's guess), the data set opened with it, and the input settled at the data's size.
// Images and IDX digits are preprocessed; tensor data (.npy, .pb) is taken as it is, at any size the model accepts.
import { InternalError } from '../common/errors';
import type { Preprocessing } from '../common/report';
import { Dataset, openDataset } from './dataset';
import { elementCount } from '../onnx/tensor';
import type { ModelDescription } from './model-description';
import { requireInput } from './model-description';
import { inputSpecFor, ModelInput, settleInput } from './model-input';
import { preprocessFileSource } from './preprocess-file';
import { FIELD_FLAGS, fieldsFromFlags, PreprocessingFlags, ResolvedPreprocessing, resolvePreprocessing } from './preprocessing';

/** The request's preprocessing: its flags and `--preprocess-file`, over the model's guess. */
export function requestPreprocessing(description: ModelDescription, request: PreprocessingFlags & { preprocessFile: string | null }): ResolvedPreprocessing {
  const input = requireInput(description);
  const sources = [{ fields: fieldsFromFlags(request), name: (field: keyof typeof FIELD_FLAGS) => FIELD_FLAGS[field] }];
  if (request.preprocessFile) sources.push(preprocessFileSource(request.preprocessFile, input.name));
  return resolvePreprocessing(input, description.guess!, sources);
}

/** Does this data set go through the preprocessing (images, IDX digits), or is it tensors taken as they are? */
export function usesPreprocessing(dataset: Dataset): boolean {
  return dataset.info.kind === 'image-folder' || dataset.info.kind === 'idx';
}

export interface ModelData {
  dataset: Dataset;
  /** The input at the size of the data set's (largest) samples. */
  input: ModelInput;
}

/** Opens `path` for the model: images with `preprocessing`, tensors as they are; the input settled at their size. */
export async function openModelData(path: string, description: ModelDescription, preprocessing: Preprocessing,
  labels: string | null): Promise<ModelData> {
  const provisional = inputSpecFor(description, preprocessing);
  const dataset = await openDataset(path, { input: provisional, preprocessing, labels: labels ?? undefined });
  return { dataset, input: settleInput(provisional, dataset) };
}

/**
 * `data` (a sample of `shape`) inside a zero tensor of `target` (same rank), at the start of every dim: a sample at
 * the largest size, for what is sized by one sample (the tensor probe, benchmarks) when samples have their own sizes.
 */
export function padSample(data: Float32Array, shape: readonly number[], target: readonly number[]): Float32Array {
  if (shape.length !== target.length || shape.some((d, i) => d > target[i])) {
    throw new InternalError(`padSample: ${shape.join('x')} does not fit in ${target.join('x')}`);
  }
  const out = new Float32Array(elementCount(target));
  const rank = shape.length;
  const inner = shape[rank - 1];
  const rows = data.length / Math.max(1, inner);
  for (let row = 0; row < rows; row++) {
    // Row index → its position in `target` (all dims but the last).
    let rest = row;
    let offset = 0;
    let stride = target[rank - 1];
    for (let d = rank - 2; d >= 0; d--) {
      offset += (rest % shape[d]) * stride;
      rest = Math.floor(rest / shape[d]);
      stride *= target[d];
    }
    out.set(data.subarray(row * inner, (row + 1) * inner), offset);
  }
  return out;
}
