// `octet eval`: FP32 and INT8 models on the same data, preprocessed as `quantize` would; the JSON shape documented in
// docs/cli.md.
import type { AccuracyResult, Preprocessing, PreprocessPreset } from '../../common/report';
import { splitIndices } from '../../data/dataset';
import { openModelData, requestPreprocessing, usesPreprocessing } from '../../data/model-data';
import { describeModel } from '../../data/model-description';
import { effectiveBatch } from '../../data/model-input';
import { readModel } from '../../onnx/model-io';
import { summarizeModel } from '../../onnx/model-summary';
import type { OptionValues } from '../option-kinds';
import type { EVAL_COMMAND } from '../options';
import { Reference } from '../runtime/evaluate';
import { openSampleSet } from '../runtime/sample-set';

export type EvalRequest = Omit<OptionValues<typeof EVAL_COMMAND>, 'json'> & { fp32: string; int8: string; signal?: AbortSignal };

export interface EvalJson {
  n: number;
  labelled: boolean;
  fp32: { top1: number; top5: number | null } | null;
  int8: { top1: number; top5: number | null } | null;
  /** Classifiers: top-1 agreement; null for other models (see outputs). */
  agreement: number | null;
  top1_drop_points: number | null;
  sqnr_db: number;
  cosine: number;
  /** The preset name, 'custom', or 'none' (tensor data). */
  preprocess: PreprocessPreset;
  /** The exact image preprocessing and why; null for tensor data. */
  preprocessing: (Preprocessing & { reason: string }) | null;
  /** Every output with the measure that fits its kind. */
  outputs: { name: string; kind: string; shape: number[]; sqnr_db: number; cosine: number; max_abs_error: number; agreement: number | null; agreement_measure: string | null }[];
}

export async function evaluatePair(request: EvalRequest): Promise<{ accuracy: AccuracyResult; json: EvalJson }> {
  const fp32 = readModel(request.fp32);
  readModel(request.int8);
  const description = describeModel(summarizeModel(fp32.model), { label: request.fp32, layout: request.layout });
  const resolved = requestPreprocessing(description, request);
  const { dataset, input } = await openModelData(request.data, description, resolved.preprocessing, request.labels);
  const preprocessing = usesPreprocessing(dataset) ? { ...resolved.preprocessing, reason: resolved.reason } : null;
  const indices = splitIndices(dataset.size, request.limit > 0 ? request.limit : dataset.size, request.skip);
  // One pass: FP32 and INT8 side by side on each batch, nothing kept per sample.
  const samples = await openSampleSet(dataset, indices, input, effectiveBatch(input, 8, dataset.sampleShape), { passes: 1 });
  const reference = await Reference.run(request.fp32, samples, input, request.fp32, { threads: request.threads, signal: request.signal, cacheBytes: 0 });
  const accuracy = await reference.compare(request.int8, request.int8, { threads: request.threads, signal: request.signal });
  return {
    accuracy,
    json: {
      n: accuracy.n, labelled: accuracy.labelled, fp32: accuracy.fp32, int8: accuracy.int8, agreement: accuracy.agreement,
      top1_drop_points: accuracy.top1DropPoints, sqnr_db: accuracy.outputSqnrDb, cosine: accuracy.outputCosine,
      preprocess: preprocessing?.preset ?? 'none', preprocessing,
      outputs: (accuracy.outputs ?? []).map((o) => ({
        name: o.name, kind: o.kind, shape: o.shape, sqnr_db: o.sqnrDb, cosine: o.cosine, max_abs_error: o.maxAbsError,
        agreement: o.agreement, agreement_measure: o.agreementMeasure,
      })),
    },
  };
}
