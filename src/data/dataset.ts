// Data sets behind one interface: a folder of images, MNIST-style IDX files, .npy tensors, or ONNX test_data_set_*
// folders. openDataset() detects the kind and hands over to its reader (dataset-images, dataset-idx, dataset-tensors),
// which validates everything it can up front (labels, shapes, sizes) and returns a random-access reader;
// readBatch()/readBatches() assemble batches in the model's layout with bounded parallel decoding; splitIndices()
// picks the calibration and evaluation samples.
import { promises as fs } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { describeFsError, InternalError, OctetError } from '../common/errors';
import type { DatasetInfo, Layout, Preprocessing } from '../common/report';
import { elementCount } from '../onnx/tensor';
import { formatShape, listDir } from './dataset-common';
import { isIdxImagesName, openIdx } from './dataset-idx';
import { isImageFile, openImageFolder, UNSUPPORTED_IMAGE_EXTENSIONS } from './dataset-images';
import { openNpy, openOnnxPb, TEST_DATA_SET } from './dataset-tensors';

export interface InputSpec {
  name: string;
  layout: Layout;
  channels: number;
  /** The samples' height and width (the largest a sample can be when each has its own size); 0 while not known. */
  height: number;
  width: number;
  /** Full shape at that size, batch at index 0. */
  shape: number[];
  /** The model's dims after the batch, 0 where it leaves a dim free: tensor data of any size there fits. */
  modelDims: number[];
  /** Values per sample of the model's first output (labels must index them), when known. */
  classes?: number | null;
}

export interface Sample {
  id: string;
  label: number | null;
  /** One sample, in model layout. */
  data: Float32Array;
  /** Its shape, no batch dim (data.length = its element count). */
  shape: number[];
  /** Seconds a decoding thread spent on it (image data sets). */
  decodeSeconds?: number;
}

export interface Dataset {
  info: DatasetInfo;
  size: number;
  /** The shape every sample has (no batch dim), or null when each sample has its own size (they run one at a time). */
  sampleShape: number[] | null;
  /** The largest dims any sample has (the shape above when they share one): what memory budgets are sized for. */
  maxSampleShape: number[];
  /** Things the user should know (skipped files, colour images fed to a grey model...). Deduplicated; grows while reading. */
  warnings: string[];
  /** Sample `index`; `signal` lets a reader drop work still queued when the caller gives up. */
  read(index: number, signal?: AbortSignal): Promise<Sample>;
}

export interface DatasetOptions {
  /** Labels: a `FILE CLASS_INDEX` text file (image folders), an IDX labels file, or an integer .npy. */
  labels?: string;
  input: InputSpec;
  /** How images (and IDX digits) become samples; tensor data is taken as it is. */
  preprocessing: Preprocessing;
}

export interface Batch {
  /** Samples concatenated in order, each in model layout. */
  data: Float32Array;
  /** The samples' shape (no batch dim): every sample of a batch has the same. */
  shape: number[];
  labels: (number | null)[];
  ids: string[];
  /** Seconds decoding threads spent on these samples (image data sets). */
  decodeSeconds: number;
}

/** Samples read at once by readBatch by default (file reads overlap on libuv's pool; images decode on worker threads). */
export const READ_CONCURRENCY = 4;

// ---------------------------------------------------------------------------------------------------------------
// Detection and the public entry points

type Kind = DatasetInfo['kind'];

async function detectKind(path: string, isFolder: boolean): Promise<Kind> {
  const name = basename(path);
  if (!isFolder) {
    const ext = extname(name).toLowerCase();
    if (ext === '.npy') return 'npy';
    if (/idx\d/i.test(name) || /-ubyte(\.gz)?$/i.test(name)) return 'idx';
    if (isImageFile(name)) throw new OctetError(path, 'is a single image; give the folder that holds the images');
    if (UNSUPPORTED_IMAGE_EXTENSIONS.has(ext)) throw new OctetError(path, `is a single image; give a folder of images (and ${ext} is an unsupported image format; use JPEG or PNG)`);
    throw new OctetError(path, 'is not a data set Octet reads: give a folder of images, a .npy file or folder, an MNIST IDX file, or an ONNX test_data_set_* folder');
  }
  const { files, dirs } = await listDir(path);
  if ((TEST_DATA_SET.test(name) && files.includes('input_0.pb')) || dirs.some((d) => TEST_DATA_SET.test(d))) return 'onnx-pb';
  if (files.some(isIdxImagesName)) return 'idx';
  if (files.some((f) => extname(f).toLowerCase() === '.npy') && !files.some(isImageFile)) return 'npy';
  return 'image-folder';
}

/** Opens a data set, detecting its kind from `path`; checks labels and shapes before returning. */
export async function openDataset(path: string, options: DatasetOptions): Promise<Dataset> {
  const full = resolve(path);
  let isFolder: boolean;
  try {
    isFolder = (await fs.stat(full)).isDirectory();
  } catch (err) {
    throw describeFsError(full, err);
  }
  const kind = await detectKind(full, isFolder);
  switch (kind) {
    case 'image-folder': return openImageFolder(full, options);
    case 'idx': return openIdx(full, isFolder, options);
    case 'npy': return openNpy(full, isFolder, options);
    case 'onnx-pb': return openOnnxPb(full, options);
  }
}

/**
 * Samples of one batch (read in order) concatenated: they must share a shape (InternalError otherwise: readers never
 * batch samples of their own sizes), and each must hold that shape's values (an OctetError naming it otherwise).
 */
export function assembleBatch(ds: Dataset, samples: readonly Sample[], input: InputSpec): Batch {
  const shape = samples[0]?.shape ?? ds.sampleShape ?? [];
  const perSample = elementCount(shape);
  const data = new Float32Array(samples.length * perSample);
  let decodeSeconds = 0;
  samples.forEach((sample, slot) => {
    if (formatShape(sample.shape) !== formatShape(shape)) {
      throw new InternalError(`readBatch: samples of ${formatShape(shape)} and ${formatShape(sample.shape)} in one batch of ${ds.info.path}`);
    }
    if (sample.data.length !== perSample) {
      throw new OctetError(`${ds.info.path} (${sample.id})`, `sample has ${sample.data.length} values; model input '${input.name}' ${formatShape(shape)} takes ${perSample}`);
    }
    data.set(sample.data, slot * perSample);
    decodeSeconds += sample.decodeSeconds ?? 0;
  });
  return { data, shape, labels: samples.map((s) => s.label), ids: samples.map((s) => s.id), decodeSeconds };
}

/**
 * Reads `indices` into one batch (samples concatenated in order), decoding up to `concurrency` (default
 * READ_CONCURRENCY) samples at once. The first failure rejects (naming the sample's file); remaining reads stop.
 * Samples of one batch share a shape (a data set whose samples each have their own size is read one sample per batch).
 */
export async function readBatch(ds: Dataset, indices: number[], input: InputSpec,
  options: { concurrency?: number; signal?: AbortSignal } = {}): Promise<Batch> {
  const samples: Sample[] = new Array<Sample>(indices.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < indices.length) {
      const slot = next++;
      try {
        samples[slot] = await ds.read(indices[slot], options.signal);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? READ_CONCURRENCY, indices.length) }, worker));
  return assembleBatch(ds, samples, input);
}

/**
 * Batches of `batchSize` over `indices`, decoding the next batch while the caller works on the current one (so image
 * decoding overlaps inference). The last batch may be smaller.
 */
export async function* readBatches(ds: Dataset, indices: number[], batchSize: number, input: InputSpec): AsyncGenerator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new OctetError('batch size', `must be a whole number >= 1, got ${batchSize}`);
  const start = (from: number): Promise<Batch> | null => {
    if (from >= indices.length) return null;
    const pending = readBatch(ds, indices.slice(from, from + batchSize), input);
    pending.catch(() => undefined); // handled when awaited; avoids an unhandled rejection if the caller stops early
    return pending;
  };
  let pending = start(0);
  for (let from = 0; pending; from += batchSize) {
    const batch = await pending;
    pending = start(from + batchSize);
    yield batch;
  }
}

/**
 * The sample indices for --calib-count/--skip/--limit: positions [skip, skip + count) of a fixed, deterministic order
 * that strides through the data set by the golden ratio, so any prefix covers the whole set evenly (class-sorted
 * folders such as CIFAR's would otherwise calibrate on one class). Calibrating on splitIndices(n, c, 0) and evaluating
 * on splitIndices(n, Infinity, c) uses disjoint samples. count = Infinity takes all remaining. Returned sorted ascending.
 */
export function splitIndices(size: number, count: number, skip: number): number[] {
  if (!Number.isInteger(size) || size < 0) throw new InternalError(`splitIndices: size must be a whole number >= 0, got ${size}`);
  if (!(count >= 0) || (!Number.isInteger(count) && count !== Infinity)) throw new InternalError(`splitIndices: count must be a whole number >= 0 or Infinity, got ${count}`);
  if (!Number.isInteger(skip) || skip < 0) throw new InternalError(`splitIndices: skip must be a whole number >= 0, got ${skip}`);
  const end = Math.min(size, skip + count);
  if (end <= skip) return [];
  const stride = goldenStride(size);
  const out: number[] = [];
  for (let position = skip; position < end; position++) out.push((position * stride) % size);
  return out.sort((a, b) => a - b);
}

/** The step closest to size / golden ratio that is coprime with size (so position -> index is a permutation). */
function goldenStride(size: number): number {
  if (size <= 2) return 1;
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const ideal = Math.round(size / 1.618033988749895);
  for (let delta = 0; delta < size; delta++) {
    for (const candidate of [ideal - delta, ideal + delta]) {
      if (candidate >= 1 && candidate < size && gcd(candidate, size) === 1) return candidate;
    }
  }
  return 1;
}
