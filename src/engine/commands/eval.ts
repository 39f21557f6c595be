// `octet eval`: FP32 and INT8 models on the same data; the JSON shape documented in docs/cli.md.
import type { AccuracyResult, Layout, PreprocessPreset } from '../../common/report';
import { readModel } from '../../onnx/model-io';
import { openDataset, splitIndices } from '../../data/dataset';
import { Reference } from '../runtime/evaluate';
import { openSampleSet } from '../runtime/sample-set';
import { describeInput, effectiveBatch } from '../../data/model-input';
import { guessPreset } from '../../data/preprocess';

export interface EvalRequest {
  fp32: string; int8: string; data: string; labels: string | null; skip: number; limit: number;
  preprocess: PreprocessPreset | 'auto'; resize: number | null; crop: number | null; layout: Layout | null;
  threads: number; signal?: AbortSignal;
}

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
  preprocess: string;
  /** Every output with the measure that fits its kind. */
  outputs: { name: string; kind: string; shape: number[]; sqnr_db: number; cosine: number; max_abs_error: number; agreement: number | null; agreement_measure: string | null }[];
}

export async function evaluatePair(request: EvalRequest): Promise<{ accuracy: AccuracyResult; json: EvalJson }> {
  const fp32 = readModel(request.fp32);
  readModel(request.int8);
  const input = describeInput(fp32.model, request.fp32, { layout: request.layout, crop: request.crop });
  const preprocess = request.preprocess === 'auto'
    ? guessPreset(input, { producer: fp32.model.producer_name, inputName: input.name }).preset
    : request.preprocess;
  const dataset = await openDataset(request.data, { input, preprocess, labels: request.labels ?? undefined, resize: request.resize, crop: request.crop });
  const indices = splitIndices(dataset.size, request.limit > 0 ? request.limit : dataset.size, request.skip);
  // One pass: FP32 and INT8 side by side on each batch, nothing kept per sample.
  const samples = await openSampleSet(dataset, indices, input, effectiveBatch(input, 8), { passes: 1 });
  const reference = await Reference.run(request.fp32, samples, input, request.fp32, { threads: request.threads, signal: request.signal, cacheBytes: 0 });
  const accuracy = await reference.compare(request.int8, request.int8, { threads: request.threads, signal: request.signal });
  return {
    accuracy,
    json: {
      n: accuracy.n, labelled: accuracy.labelled, fp32: accuracy.fp32, int8: accuracy.int8, agreement: accuracy.agreement,
      top1_drop_points: accuracy.top1DropPoints, sqnr_db: accuracy.outputSqnrDb, cosine: accuracy.outputCosine, preprocess,
      outputs: (accuracy.outputs ?? []).map((o) => ({
        name: o.name, kind: o.kind, shape: o.shape, sqnr_db: o.sqnrDb, cosine: o.cosine, max_abs_error: o.maxAbsError,
        agreement: o.agreement, agreement_measure: o.agreementMeasure,
      })),
    },
  };
}
