// `octet eval`: FP32 and INT8 models on the same data; the JSON shape documented in docs/cli.md.
import type { AccuracyResult, Layout, PreprocessPreset } from '../../common/report';
import { readModel } from '../../onnx/model-io';
import { openDataset, splitIndices } from '../../data/dataset';
import { loadEvalSet, runOutputs, scoreOutputs } from '../runtime/evaluate';
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
  agreement: number;
  top1_drop_points: number | null;
  sqnr_db: number;
  cosine: number;
  preprocess: string;
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
  const samples = await loadEvalSet(dataset, indices, input, effectiveBatch(input, 8));
  const fp32Out = await runOutputs(request.fp32, samples, input, request.fp32, { threads: request.threads, signal: request.signal });
  const int8Out = await runOutputs(request.int8, samples, input, request.int8, { threads: request.threads, signal: request.signal });
  const accuracy = scoreOutputs(fp32Out, int8Out, samples.labels);
  return {
    accuracy,
    json: {
      n: accuracy.n, labelled: accuracy.labelled, fp32: accuracy.fp32, int8: accuracy.int8, agreement: accuracy.agreement,
      top1_drop_points: accuracy.top1DropPoints, sqnr_db: accuracy.outputSqnrDb, cosine: accuracy.outputCosine, preprocess,
    },
  };
}
