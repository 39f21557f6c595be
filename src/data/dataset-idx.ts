// MNIST-style IDX data sets: an unsigned-byte images file (N x rows x cols, gzipped or not) with its paired labels
// file. The digits are grey pixels, so each read goes through the same geometry and normalization as images.
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { OctetError } from '../common/errors';
import { elementCount } from '../onnx/tensor';
import type { Dataset, DatasetOptions } from './dataset';
import { formatBytes, readRegularFile } from '../common/safe-read';
import { checkImageInput, checkIndex, checkLabelRange, FILE_LIMITS, imageSampleShapes, listDir, warningSink } from './dataset-common';
import { pixelsToSample } from './preprocess';

const gunzipAsync = promisify(gunzip);

const IDX_UBYTE = 0x08;

/** Reads an IDX file (gzipped or not) of unsigned bytes: its dims and the data bytes. */
export async function readIdx(file: string): Promise<{ dims: number[]; data: Uint8Array }> {
  let bytes: Uint8Array = await readRegularFile(file, FILE_LIMITS.idx);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    const limit = FILE_LIMITS.idx.maxBytes;
    try {
      bytes = await gunzipAsync(bytes, { maxOutputLength: limit });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new OctetError(file, `unpacks to more than ${formatBytes(limit)}, more than an IDX file can be`);
      }
      throw new OctetError(file, `cannot gunzip (${err instanceof Error ? err.message : String(err)}); the download may be truncated`);
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new OctetError(file, 'is not an IDX file (bad magic number)');
  if (bytes[2] !== IDX_UBYTE) throw new OctetError(file, `holds IDX data type 0x${bytes[2].toString(16)}; Octet reads unsigned-byte IDX (0x08) only`);
  const ndims = bytes[3];
  const headerBytes = 4 + 4 * ndims;
  if (ndims === 0 || bytes.length < headerBytes) throw new OctetError(file, 'is truncated: the IDX header is incomplete');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i, false));
  const expected = elementCount(dims);
  const actual = bytes.length - headerBytes;
  if (actual < expected) {
    throw new OctetError(file, `is truncated: header says ${dims.join('x')} (${expected} bytes of data), the file holds ${actual}`);
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + expected) };
}

export const isIdxImagesName = (name: string): boolean => /images/i.test(name) && /idx3/i.test(name);
const isIdxLabelsName = (name: string): boolean => /labels/i.test(name) && /idx1/i.test(name);

/** The labels file that goes with an images file: same name with images->labels and idx3->idx1 (.gz or not). */
function pairedLabelsName(imagesName: string, siblings: string[]): string | null {
  const stem = imagesName.replace(/images/, 'labels').replace(/IMAGES/, 'LABELS').replace(/idx3/i, 'idx1').replace(/\.gz$/i, '');
  const found = siblings.find((s) => s === stem || s === `${stem}.gz`);
  if (found) return found;
  const labels = siblings.filter(isIdxLabelsName);
  return labels.length === 1 ? labels[0] : null;
}

export async function openIdx(path: string, isFolder: boolean, options: DatasetOptions): Promise<Dataset> {
  const { input, preprocessing } = options;
  const sink = warningSink();
  let imagesFile: string;
  if (isFolder) {
    const { files } = await listDir(path);
    const candidates = files.filter(isIdxImagesName);
    if (candidates.length === 0) throw new OctetError(path, 'holds no IDX images file (*images*idx3*)');
    if (candidates.length > 1) throw new OctetError(path, `holds several IDX images files (${candidates.join(', ')}); name the one to use`);
    imagesFile = join(path, candidates[0]);
  } else {
    if (isIdxLabelsName(basename(path))) throw new OctetError(path, 'is an IDX labels file; give the images file (*images*idx3*) instead');
    imagesFile = path;
  }
  checkImageInput(input, preprocessing, imagesFile);
  const images = await readIdx(imagesFile);
  if (images.dims.length !== 3) throw new OctetError(imagesFile, `holds IDX data of ${images.dims.length} dims (${images.dims.join('x')}); expected images N x rows x cols`);
  const [count, rows, cols] = images.dims;
  if (count === 0) throw new OctetError(imagesFile, 'holds no images');

  let labelsFile: string | null = options.labels ? resolve(options.labels) : null;
  if (!labelsFile) {
    const siblings = (await listDir(dirname(imagesFile))).files;
    const paired = pairedLabelsName(basename(imagesFile), siblings);
    labelsFile = paired ? join(dirname(imagesFile), paired) : null;
  }
  let labels: Uint8Array | null = null;
  if (labelsFile) {
    const read = await readIdx(labelsFile);
    if (read.dims.length !== 1) throw new OctetError(labelsFile, `holds IDX data of shape ${read.dims.join('x')}; a labels file is one-dimensional`);
    if (read.dims[0] !== count) throw new OctetError(labelsFile, `holds ${read.dims[0]} labels for the ${count} images in ${imagesFile}`);
    labels = read.data;
    checkLabelRange(labels, input, labelsFile, (i) => `label ${i}`);
  }

  const plane = rows * cols;
  const name = basename(imagesFile);
  return {
    info: { path: imagesFile, kind: 'idx', count, labelled: labels !== null, labelsSource: labelsFile },
    size: count,
    ...imageSampleShapes(input, preprocessing),
    warnings: sink.warnings,
    async read(index) {
      checkIndex(index, count, imagesFile);
      const digit = { data: images.data.subarray(index * plane, (index + 1) * plane), width: cols, height: rows, channels: 1 as const };
      const { data, shape } = pixelsToSample(digit, input, preprocessing);
      return { id: `${name}#${index}`, label: labels ? labels[index] : null, data, shape };
    },
  };
}
