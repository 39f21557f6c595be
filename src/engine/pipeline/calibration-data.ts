// Step 2: the data — the preprocessing (flags over --preprocess-file over a preset over the model's guess, said in a
// log line before calibration), the calibration data set opened with it, the model input settled at the data's size,
// the samples taken (decoding from now on, in the background, while the model is planned), and how the evaluation data
// set is opened the same way. Tensor data (.npy, .pb) is taken as it is.
import { resolve } from 'node:path';
import type { Preprocessing } from '../../common/report';
import { Dataset, DatasetOptions, openDataset, splitIndices } from '../../data/dataset';
import { openModelData, padSample, requestPreprocessing, usesPreprocessing } from '../../data/model-data';
import { effectiveBatch, ModelInput } from '../../data/model-input';
import { describePreprocessing } from '../../data/preprocessing';
import { openSampleSet, SampleSet } from '../runtime/sample-set';
import type { ReadyModel } from './prepare-model';
import type { Run } from './run';

export interface CalibrationData {
  /** The image preprocessing and where it came from; null when the data is tensors (no preprocessing). */
  preprocessing: (Preprocessing & { reason: string }) | null;
  /** The model input at the data's size (the largest sample's, when samples have sizes of their own). */
  input: ModelInput;
  /** Options every data set of this run opens with (evaluation data included). */
  datasetOptions: Omit<DatasetOptions, 'labels'>;
  calibSet: Dataset;
  calibIndices: number[];
  /** Samples per calibration batch (the model's fixed batch when it has one; 1 when samples have their own sizes). */
  batch: number;
  /** The calibration samples, kept in memory when the passes over them fit (else streamed on every pass). */
  samples: SampleSet;
  /** The first calibration sample, decoded, at the input's size (zero-padded when samples have their own sizes): probes and benchmarks feed it. */
  firstSample: Float32Array;
}

/** Passes the run will make over the calibration samples (equalization, statistics, bias shifts, method comparison,
 *  weight rounding's moments). */
function calibrationPasses(request: Run['request']): number {
  return 1 + (request.equalize && request.perChannel ? 1 : 0) + (request.biasCorrection !== 'off' ? 1 : 0) + (request.method === 'auto' ? 1 : 0)
    + (request.weightRounding !== 'off' ? 1 : 0);
}

export async function openCalibrationData(run: Run, model: ReadyModel): Promise<CalibrationData> {
  const { request } = run;
  const resolved = requestPreprocessing(model.description, request);
  const { preprocessing } = resolved;
  const { dataset: calibSet, input } = await openModelData(resolve(request.calib), model.description, preprocessing, request.labels);
  run.watchDataset(calibSet);
  const preprocessed = usesPreprocessing(calibSet);
  if (preprocessed) {
    run.log(`preprocessing: ${describePreprocessing(preprocessing)} — ${resolved.reason}`);
    if (resolved.guessed) {
      run.warn(`Preprocessing '${preprocessing.preset}' (${preprocessing.channelOrder.toUpperCase()}, mean ${preprocessing.mean.join(',')}, std ${preprocessing.std.join(',')}) `
        + `was guessed (${resolved.reason}); wrong preprocessing ruins calibration — pass --preprocess or --channel-order/--mean/--std if it differs from training.`);
    }
  } else {
    run.log(`${calibSet.info.kind} data: samples taken as they are (no preprocessing), input ${JSON.stringify(input.shape.slice(1))}`);
  }
  const calibIndices = splitIndices(calibSet.size, request.calibCount, 0);
  if (calibIndices.length < request.calibCount) {
    run.warn(`Only ${calibIndices.length} calibration samples available (asked for ${request.calibCount}).`);
  }
  const batch = effectiveBatch(input, request.calibBatch, calibSet.sampleShape);
  if (calibSet.sampleShape === null) {
    run.log(`samples have sizes of their own (up to ${JSON.stringify(input.shape.slice(1))}): one sample per run; probe and benchmark at the largest size`);
  }
  const samples = await openSampleSet(calibSet, calibIndices, input, batch, { passes: calibrationPasses(request), signal: run.lifetime });
  const first = await samples.first(run.signal);
  const target = input.shape.slice(1);
  const firstSample = JSON.stringify(first.shape) === JSON.stringify(target) ? first.data : padSample(first.data, first.shape, target);
  return {
    preprocessing: preprocessed ? { ...preprocessing, reason: resolved.reason } : null, input,
    datasetOptions: { input, preprocessing }, calibSet, calibIndices, batch, samples, firstSample,
  };
}

/** The evaluation data set (the calibration one unless --eval-data) and the samples it skips. */
export async function openEvaluationData(run: Run, data: CalibrationData): Promise<{ set: Dataset; indices: number[]; skip: number }> {
  const { request } = run;
  const sameData = !request.evalData || resolve(request.evalData) === resolve(request.calib);
  const set = sameData ? data.calibSet : await openDataset(resolve(request.evalData!), { ...data.datasetOptions, labels: request.evalLabels ?? undefined });
  if (!sameData) run.watchDataset(set);
  const skip = sameData ? data.calibIndices.length : 0;
  return { set, indices: splitIndices(set.size, request.evalCount, skip), skip };
}
