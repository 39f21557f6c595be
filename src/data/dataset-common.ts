// What every data set reader shares: folder listings and file reads with readable errors, index checks, deduplicated
// warnings, the per-sample size the model expects, and the check that a model input can take images.
import { Dirent, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, OctetError } from '../common/errors';
import type { Preprocessing } from '../common/report';
import type { ReadLimit } from '../common/safe-read';
import { elementCount } from '../onnx/tensor';
import type { InputSpec } from './dataset';
import { ownSizeBound } from './preprocessing';

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Per-sample element count at the input's size: the shape after the batch dimension. */
export function sampleLength(input: InputSpec): number {
  return elementCount(input.shape.slice(1));
}

/** The shape (no batch dim) of a sample of height x width for this input, in its layout and rank. */
export function sampleShapeOf(input: InputSpec, height: number, width: number): number[] {
  switch (input.modelDims.length) {
    case 3: return input.layout === 'NHWC' ? [height, width, input.channels] : [input.channels, height, width];
    case 2: return [height, width];
    default: return [width];
  }
}

/** Files and folders in `dir`, hidden entries left out, symlinks followed, names sorted. */
export async function listDir(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw describeFsError(dir, err);
  }
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await fs.stat(join(dir, entry.name)).catch(() => null);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) dirs.push(entry.name);
    else if (isFile) files.push(entry.name);
  }
  return { files: files.sort(byName), dirs: dirs.sort(byName) };
}

/** Largest files each data-set reader takes (whole-file reads; .npy samples are read by exact ranges instead). */
export const FILE_LIMITS = {
  image: { what: 'an image file', maxBytes: 256 * 2 ** 20 },
  labels: { what: 'a labels file', maxBytes: 64 * 2 ** 20 },
  idx: { what: 'an IDX file', maxBytes: 2 ** 31 - 1 },
  tensor: { what: 'an ONNX TensorProto file', maxBytes: 2 ** 31 - 1 },
  npy: { what: 'a .npy file', maxBytes: Number.MAX_SAFE_INTEGER },
} satisfies Record<string, ReadLimit>;

export function checkIndex(index: number, size: number, path: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new OctetError(path, `sample index ${index} is out of range (the data set has ${size} samples)`);
  }
}

/**
 * Labels must index the model's output (class indices from 0, below the values per sample of its first output): any
 * outside is an error before calibration, naming the labels' source, how many, an example and the largest.
 * `describe(i)` words where label i comes from ("line 4 'x.png'").
 */
export function checkLabelRange(labels: ArrayLike<number>, input: InputSpec, source: string, describe: (i: number) => string): void {
  const classes = input.classes;
  if (!classes) return;
  let count = 0;
  let first = -1;
  let largest = -Infinity;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < classes) continue;
    count++;
    if (first < 0) first = i;
    largest = Math.max(largest, labels[i]);
  }
  if (count === 0) return;
  throw new OctetError(source, `${count} label(s) are outside the model's ${classes} classes (0 to ${classes - 1}), e.g. ${describe(first)} `
    + `is ${labels[first]}; the largest is ${largest}. Check that these labels belong to this model (class indices count from 0)`);
}

/** A warnings list that keeps the first message per key (default: the message itself). */
export function warningSink(): { warnings: string[]; warn(message: string, key?: string): void } {
  const warnings: string[] = [];
  const keys = new Set<string>();
  return {
    warnings,
    warn(message, key = message) {
      if (keys.has(key)) return;
      keys.add(key);
      warnings.push(message);
    },
  };
}

/** The shapes image samples get: one for all (the size), or each its own (per-sample sizes) bounded by the max side. */
export function imageSampleShapes(input: InputSpec, p: Preprocessing): { sampleShape: number[] | null; maxSampleShape: number[] } {
  const bound = ownSizeBound(p);
  if (bound !== null) return { sampleShape: null, maxSampleShape: sampleShapeOf(input, bound, bound) };
  const shape = p.size ? sampleShapeOf(input, p.size[0], p.size[1]) : [];
  return { sampleShape: shape, maxSampleShape: shape };
}

/** The model dims as people read them: [N,3,48,?] (free dims '?'). */
export function formatModelDims(input: InputSpec): string {
  return `[N,${input.modelDims.map((d) => (d > 0 ? d : '?')).join(',')}]`;
}

/** Images can feed the input: 1 or 3 channels, and a size for the samples (given, the model's, or each its own). */
export function checkImageInput(input: InputSpec, preprocessing: Preprocessing, path: string): void {
  if (input.channels !== 1 && input.channels !== 3) {
    throw new OctetError(path, `is a set of images, but the model input '${input.name}' ${formatModelDims(input)} has ${input.channels} channels (images feed 1 or 3)`);
  }
  if (!preprocessing.size && preprocessing.sizeMultiple === null) {
    const dims = input.modelDims;
    const spatial = dims.length === 3 ? (input.layout === 'NHWC' ? [0, 1] : [1, 2]) : dims.length === 2 ? [0, 1] : [0];
    const both = spatial.length === 2 && spatial.every((i) => dims[i] <= 0);
    throw new OctetError(path, `is a set of images, but the model input '${input.name}' ${formatModelDims(input)} leaves its height or width free: `
      + `pass --input-size HxW${both ? ', or --size-multiple N --max-side S to give each image its own size (keeping its ratio)' : ''}`);
  }
}
