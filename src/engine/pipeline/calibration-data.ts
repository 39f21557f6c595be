// Step 2: the data — the preprocessing (given, or guessed from the model and said so), the calibration data set and
// the samples taken from it (decoding from now on, in the background, while the model is planned), and how the
// evaluation data set is opened with the same preprocessing.
import { resolve } from 'node:path';
import type { PreprocessPreset } from '../../common/report';
import { Dataset, DatasetOptions, openDataset, splitIndices } from '../../data/dataset';
import { effectiveBatch } from '../../data/model-input';
import { guessPreset } from '../../data/preprocess';
import { openSampleSet, SampleSet } from '../runtime/sample-set';
import type { PreparedModel } from './prepare-model';
import type { Run } from './run';

export interface CalibrationData {
  preprocess: PreprocessPreset;
  /** Options every data set of this run opens with (evaluation data included). */
  datasetOptions: Omit<DatasetOptions, 'labels'>;
  calibSet: Dataset;
  calibIndices: number[];
  /** Samples per calibration batch (the model's fixed batch when it has one). */
  batch: number;
  /** The calibration samples, kept in memory when the passes over them fit (else streamed on every pass). */
  samples: SampleSet;
  /** The first calibration sample, decoded: probes and benchmarks feed it. */
  firstSample: Float32Array;
}

/** Passes the run will make over the calibration samples (equalization, statistics, bias shifts, method comparison). */
function calibrationPasses(request: Run['request']): number {
  return 1 + (request.equalize && request.perChannel ? 1 : 0) + (request.biasCorrection !== 'off' ? 1 : 0) + (request.method === 'auto' ? 1 : 0);
}

export async function openCalibrationData(run: Run, model: PreparedModel): Promise<CalibrationData> {
  const { request } = run;
  const { input, loaded } = model;
  let preprocess: PreprocessPreset;
  if (request.preprocess === 'auto') {
    const guess = guessPreset(input, {
      producer: loaded.model.producer_name, inputName: input.name,
      metadata: Object.fromEntries(loaded.model.metadata_props.map((e) => [e.key ?? '', e.value ?? ''])),
    });
    preprocess = guess.preset;
    run.log(`preprocessing: ${guess.preset} (${guess.reason}); pass --preprocess to choose`);
    run.warn(`Preprocessing '${guess.preset}' was guessed (${guess.reason}); wrong preprocessing ruins calibration — pass --preprocess if it differs from training.`);
  } else {
    preprocess = request.preprocess;
  }
  const datasetOptions = { input, preprocess, resize: request.resize ?? null, crop: request.crop ?? null };
  const calibSet = await openDataset(resolve(request.calib), { ...datasetOptions, labels: request.labels ?? undefined });
  run.watchDataset(calibSet);
  const calibIndices = splitIndices(calibSet.size, request.calibCount, 0);
  if (calibIndices.length < request.calibCount) {
    run.warn(`Only ${calibIndices.length} calibration samples available (asked for ${request.calibCount}).`);
  }
  const batch = effectiveBatch(input, request.calibBatch);
  const samples = await openSampleSet(calibSet, calibIndices, input, batch, { passes: calibrationPasses(request), signal: run.lifetime });
  const firstSample = await samples.first(run.signal);
  return { preprocess, datasetOptions, calibSet, calibIndices, batch, samples, firstSample };
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
