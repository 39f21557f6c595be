// Data sets behind one interface: a folder of images, MNIST-style IDX files, .npy tensors, or ONNX test_data_set_*
// folders. openDataset() detects the kind, validates everything it can up front (labels, shapes, sizes) and returns a
// random-access reader; readBatch()/readBatches() assemble batches in the model's layout with bounded parallel decoding.
import { constants as fsConstants, Dirent, promises as fs } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { describeFsError, OctetError } from '../common/errors';
import type { DatasetInfo, Layout, PreprocessPreset } from '../common/report';
import { decodeTensor } from '../onnx/proto';
import { elementCount, tensorToFloat32 } from '../onnx/tensor';
import { imageToTensor, pixelsToTensor, resizePixels, type PreprocessOptions } from './preprocess';

export interface InputSpec {
  name: string;
  layout: Layout;
  channels: number;
  height: number;
  width: number;
  /** full shape with batch at index 0 */
  shape: number[];
}

export interface Sample {
  id: string;
  label: number | null;
  /** one sample, in model layout, length = C*H*W */
  data: Float32Array;
}

export interface Dataset {
  info: DatasetInfo;
  size: number;
  /** Things the user should know (skipped files, colour images fed to a grey model...). Deduplicated; grows while reading. */
  warnings: string[];
  read(index: number): Promise<Sample>;
}

export interface DatasetOptions {
  /** Labels: a `FILE CLASS_INDEX` text file (image folders), an IDX labels file, or an integer .npy. */
  labels?: string;
  input: InputSpec;
  preprocess: PreprocessPreset;
  resize?: number | null;
  crop?: number | null;
}

export interface Batch {
  /** Samples concatenated in order, each in model layout. */
  data: Float32Array;
  labels: (number | null)[];
  ids: string[];
}

/** Samples read at once by readBatch (file reads overlap on libuv's pool; decoding itself is JavaScript on this thread). */
export const READ_CONCURRENCY = 4;

/** Extensions of the formats preprocess decodes (JPEG via jpeg-js, PNG via pngjs). */
const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png']);
/** Image files people keep in data sets that Octet cannot decode: skipped with a warning. */
const UNSUPPORTED_IMAGE_EXTENSIONS = new Set(['.bmp', '.ppm', '.pgm', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.jxl', '.jp2']);
const LABELS_FILE_NAME = 'labels.txt';
const TEST_DATA_SET = /^test_data_set_(\d+)$/;

const gunzipAsync = promisify(gunzip);

// ---------------------------------------------------------------------------------------------------------------
// Shared helpers

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
}

function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Per-sample element count the model expects: the shape after the batch dimension. */
export function sampleLength(input: InputSpec): number {
  const rest = input.shape.slice(1);
  return rest.length > 0 && rest.every((d) => d > 0) ? elementCount(rest) : input.channels * input.height * input.width;
}

/** Files and folders in `dir`, hidden entries left out, symlinks followed, names sorted. */
async function listDir(dir: string): Promise<{ files: string[]; dirs: string[] }> {
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

async function readFileNamed(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw describeFsError(file, err);
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file, fsConstants.F_OK).then(() => true, () => false);
}

function checkIndex(index: number, size: number, path: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new OctetError(path, `sample index ${index} is out of range (the data set has ${size} samples)`);
  }
}

/** A warnings list that keeps the first message per key (default: the message itself). */
function warningSink(): { warnings: string[]; warn(message: string, key?: string): void } {
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

function checkImageInput(input: InputSpec, path: string): void {
  if (input.channels !== 1 && input.channels !== 3) {
    throw new OctetError(path, `is a set of images, but the model input '${input.name}' ${formatShape(input.shape)} has ${input.channels} channels (images feed 1 or 3)`);
  }
  if (!(input.height > 0 && input.width > 0)) {
    throw new OctetError(path, `is a set of images, but the model input '${input.name}' ${formatShape(input.shape)} has no fixed height and width`);
  }
}

function greyWarning(input: InputSpec, example: string): string {
  return `model input '${input.name}' takes 1 channel: colour images are converted to greyscale (ITU-R 601 luma), e.g. ${example}`;
}

/**
 * Does a tensor's per-sample shape fit the model's? Equal (non-positive model dims match anything), or equal once
 * size-1 dims are dropped (same memory order, e.g. [28,28] for [1,28,28]).
 */
function shapeFits(got: readonly number[], expected: readonly number[]): boolean {
  const same = (a: readonly number[], b: readonly number[]): boolean =>
    a.length === b.length && a.every((d, i) => b[i] <= 0 || d === b[i]);
  if (same(got, expected)) return true;
  const squeeze = (s: readonly number[]): number[] => s.filter((d) => d !== 1);
  return same(squeeze(got), squeeze(expected));
}

/** Error for a tensor whose sample shape does not fit; says so when it is the channel count that differs. */
function shapeMismatch(file: string, fileShape: readonly number[], sampleShape: readonly number[], input: InputSpec): OctetError {
  const expected = input.shape.slice(1);
  let detail = '';
  const channelAxis = input.layout === 'NCHW' ? 0 : expected.length - 1;
  const gotChannels = sampleShape.length === expected.length ? sampleShape[channelAxis] : undefined;
  if (expected.length === 3 && gotChannels !== undefined && gotChannels !== input.channels
    && elementCount(sampleShape) / gotChannels === input.height * input.width) {
    detail = ` (${gotChannels} channel(s) where the model takes ${input.channels})`;
  }
  return new OctetError(file, `holds samples of shape ${formatShape(sampleShape)} (file shape ${formatShape(fileShape)}), `
    + `but model input '${input.name}' ${formatShape(input.shape)} ${input.layout} takes ${formatShape(expected)}${detail}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Image folders

interface ImageEntry { file: string; id: string; label: number | null }

/** Parses `FILE CLASS_INDEX` lines (blank lines and # comments allowed; the file name may contain spaces). */
export function parseLabelsText(text: string, labelsFile: string): { file: string; label: number }[] {
  const out: { file: string; label: number }[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(.*\S)\s+(\d+)$/.exec(line);
    if (!match) {
      const shown = line.length > 80 ? `${line.slice(0, 80)}...` : line;
      throw new OctetError(labelsFile, `line ${i + 1}: expected "FILE CLASS_INDEX" (class index a whole number >= 0), got "${shown}"`);
    }
    out.push({ file: match[1], label: Number(match[2]) });
  }
  return out;
}

async function imageEntriesFromLabels(folder: string, labelsFile: string, rootImages: string[], warn: (m: string) => void): Promise<ImageEntry[]> {
  const text = (await readFileNamed(labelsFile)).toString('utf8');
  const lines = parseLabelsText(text, labelsFile);
  if (lines.length === 0) throw new OctetError(labelsFile, 'names no images (no "FILE CLASS_INDEX" lines)');
  const entries = lines.map(({ file, label }) => ({ file: resolve(folder, file), id: file, label }));
  // One directory listing per folder the labels mention, instead of a stat per line.
  const listings = new Map<string, Set<string>>();
  for (const dir of new Set(entries.map((e) => dirname(e.file)))) {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    listings.set(dir, new Set(names));
  }
  const missing = entries.filter((e) => !listings.get(dirname(e.file))?.has(basename(e.file)));
  if (missing.length > 0) {
    const shown = missing.slice(0, 3).map((e) => e.id).join(', ');
    throw new OctetError(labelsFile, `names ${missing.length} file(s) not found in ${folder}: ${shown}${missing.length > 3 ? ', ...' : ''}`);
  }
  const listed = new Set(entries.map((e) => e.file));
  const unlisted = rootImages.filter((name) => !listed.has(join(folder, name)));
  if (unlisted.length > 0) {
    warn(`${unlisted.length} image(s) in ${folder} are not in ${labelsFile} and are left out, e.g. ${unlisted[0]}`);
  }
  return entries;
}

/** One class per subfolder, class index = sorted folder order (empty class folders keep their index, with a warning). */
function imageEntriesFromClassFolders(folder: string, classDirs: { dir: string; images: string[] }[], warn: (m: string) => void): ImageEntry[] {
  const entries: ImageEntry[] = [];
  classDirs.forEach(({ dir, images }, label) => {
    if (images.length === 0) warn(`class folder ${join(folder, dir)} has no images (class index ${label} kept)`);
    for (const name of images) entries.push({ file: join(folder, dir, name), id: `${dir}/${name}`, label });
  });
  return entries;
}

async function openImageFolder(folder: string, options: DatasetOptions): Promise<Dataset> {
  const { input } = options;
  checkImageInput(input, folder);
  const sink = warningSink();
  const { files, dirs } = await listDir(folder);
  const rootImages = files.filter(isImageFile);
  const unsupportedIn = (names: string[]): string[] => names.filter((f) => UNSUPPORTED_IMAGE_EXTENSIONS.has(extname(f).toLowerCase()));
  const warnUnsupported = (names: string[], where: string): void => {
    const unsupported = unsupportedIn(names);
    if (unsupported.length > 0) {
      sink.warn(`${unsupported.length} file(s) in ${where} are in a format Octet cannot decode and are skipped, e.g. ${unsupported[0]} (convert them to PNG or JPEG)`);
    }
  };
  warnUnsupported(files, folder);

  let entries: ImageEntry[];
  let labelsSource: string | null;
  /** With no usable image found: one file skipped for its format, to say so in the error. */
  let unsupportedExample = unsupportedIn(files).map((name) => join(folder, name))[0];
  const labelsFile = options.labels ? resolve(options.labels) : files.includes(LABELS_FILE_NAME) ? join(folder, LABELS_FILE_NAME) : null;
  if (labelsFile) {
    entries = await imageEntriesFromLabels(folder, labelsFile, rootImages, sink.warn);
    labelsSource = labelsFile;
  } else {
    const listings = await Promise.all(dirs.map(async (dir) => ({ dir, files: (await listDir(join(folder, dir))).files })));
    const classDirs = listings.map(({ dir, files: names }) => ({ dir, images: names.filter(isImageFile) }));
    if (classDirs.some((c) => c.images.length > 0)) {
      for (const { dir, files: names } of listings) warnUnsupported(names, join(folder, dir));
      entries = imageEntriesFromClassFolders(folder, classDirs, sink.warn);
      labelsSource = 'class subfolders';
      if (rootImages.length > 0) sink.warn(`${rootImages.length} image(s) directly in ${folder} are left out: with class subfolders, only images inside them count`);
    } else {
      entries = rootImages.map((name) => ({ file: join(folder, name), id: name, label: null }));
      labelsSource = null;
      unsupportedExample ??= listings.flatMap(({ dir, files: names }) => unsupportedIn(names).map((name) => join(folder, dir, name)))[0];
    }
  }
  if (entries.length === 0) {
    const skipped = unsupportedExample ? `; files such as ${unsupportedExample} are skipped: unsupported image format; use JPEG or PNG` : '';
    throw new OctetError(folder, `no images found (looked for ${[...IMAGE_EXTENSIONS].join(' ')} files, directly or one class folder down)${skipped}`);
  }

  const preprocess: PreprocessOptions = { preset: options.preprocess, resize: options.resize, crop: options.crop };
  return {
    info: { path: folder, kind: 'image-folder', count: entries.length, labelled: labelsSource !== null, labelsSource },
    size: entries.length,
    warnings: sink.warnings,
    async read(index) {
      checkIndex(index, entries.length, folder);
      const entry = entries[index];
      const bytes = await readFileNamed(entry.file);
      const { data, convertedToGrey } = await imageToTensor(bytes, entry.file, input, preprocess);
      if (convertedToGrey) sink.warn(greyWarning(input, entry.id), 'grey');
      return { id: entry.id, label: entry.label, data };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// IDX (MNIST) files

const IDX_UBYTE = 0x08;

/** Reads an IDX file (gzipped or not) of unsigned bytes: its dims and the data bytes. */
export async function readIdx(file: string): Promise<{ dims: number[]; data: Uint8Array }> {
  let bytes: Uint8Array = await readFileNamed(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(bytes);
    } catch (err) {
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

const isIdxImagesName = (name: string): boolean => /images/i.test(name) && /idx3/i.test(name);
const isIdxLabelsName = (name: string): boolean => /labels/i.test(name) && /idx1/i.test(name);

/** The labels file that goes with an images file: same name with images->labels and idx3->idx1 (.gz or not). */
function pairedLabelsName(imagesName: string, siblings: string[]): string | null {
  const stem = imagesName.replace(/images/, 'labels').replace(/IMAGES/, 'LABELS').replace(/idx3/i, 'idx1').replace(/\.gz$/i, '');
  const found = siblings.find((s) => s === stem || s === `${stem}.gz`);
  if (found) return found;
  const labels = siblings.filter(isIdxLabelsName);
  return labels.length === 1 ? labels[0] : null;
}

async function openIdx(path: string, isFolder: boolean, options: DatasetOptions): Promise<Dataset> {
  const { input } = options;
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
  checkImageInput(input, imagesFile);
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
  }

  const preprocess: PreprocessOptions = { preset: options.preprocess, resize: options.resize, crop: options.crop };
  const plane = rows * cols;
  const name = basename(imagesFile);
  return {
    info: { path: imagesFile, kind: 'idx', count, labelled: labels !== null, labelsSource: labelsFile },
    size: count,
    warnings: sink.warnings,
    async read(index) {
      checkIndex(index, count, imagesFile);
      const digit = { data: images.data.subarray(index * plane, (index + 1) * plane), width: cols, height: rows, channels: 1 as const };
      const pixels = await resizePixels(digit, input, preprocess);
      const { data } = pixelsToTensor(pixels, input, options.preprocess);
      return { id: `${name}#${index}`, label: labels ? labels[index] : null, data };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// NPY files

interface NpyDtype { descr: string; kind: 'f' | 'i' | 'u' | 'b'; size: number; littleEndian: boolean }
interface NpyHeader { dtype: NpyDtype; shape: number[]; dataOffset: number }

const NPY_MAGIC = '\x93NUMPY';

function parseNpyDtype(descr: string, file: string): NpyDtype {
  const match = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  const size = match ? Number(match[3]) : 0;
  const kind = match?.[2] as NpyDtype['kind'] | undefined;
  const supported = kind === 'f' ? size === 4 || size === 8 : kind === 'b' ? size === 1 : [1, 2, 4, 8].includes(size);
  if (!match || !kind || !supported) {
    throw new OctetError(file, `has numpy dtype '${descr}'; Octet reads float32, float64, (u)int8..64 and bool arrays`);
  }
  return { descr, kind, size, littleEndian: match[1] !== '>' };
}

/** Parses the .npy header (format versions 1-3) from the file's first bytes. */
function parseNpyHeader(head: Uint8Array, file: string): NpyHeader {
  const text = (start: number, end: number): string => Buffer.from(head.subarray(start, end)).toString('latin1');
  if (head.length < 10 || text(0, 6) !== NPY_MAGIC) throw new OctetError(file, 'is not a .npy file (bad magic string)');
  const major = head[6];
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (major < 1 || major > 3 || head.length < 8 + lengthBytes) throw new OctetError(file, `has .npy format version ${major}, which Octet does not read`);
  const headerLength = lengthBytes === 2 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataOffset = 8 + lengthBytes + headerLength;
  if (head.length < dataOffset) throw new OctetError(file, 'is truncated: the .npy header is incomplete');
  const dict = text(8 + lengthBytes, dataOffset);
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(dict)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(dict)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(dict)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new OctetError(file, `has a .npy header Octet cannot parse (structured dtype?): ${dict.trim()}`);
  }
  if (fortran === 'True') throw new OctetError(file, 'is stored in Fortran order; save it in C order (numpy.ascontiguousarray)');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new OctetError(file, `has an invalid .npy shape (${shapeText})`);
  return { dtype: parseNpyDtype(descr, file), shape, dataOffset };
}

async function readNpyHeader(file: string): Promise<{ header: NpyHeader; fileBytes: number }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw describeFsError(file, err);
  }
  try {
    const { size } = await handle.stat();
    const first = Buffer.alloc(Math.min(size, 12));
    await handle.read(first, 0, first.length, 0);
    let head: Uint8Array = first;
    if (first.length >= 12 && first.toString('latin1', 0, 6) === NPY_MAGIC) {
      const headerLength = first[6] === 1 ? first.readUInt16LE(8) + 10 : first.readUInt32LE(8) + 12;
      const full = Buffer.alloc(Math.min(size, headerLength));
      await handle.read(full, 0, full.length, 0);
      head = full;
    }
    return { header: parseNpyHeader(head, file), fileBytes: size };
  } finally {
    await handle.close();
  }
}

/** `count` values of `dtype` from `bytes`, as float32. */
function npyValuesToFloat32(bytes: Uint8Array, dtype: NpyDtype, count: number): Float32Array {
  if (dtype.kind === 'f' && dtype.size === 4 && dtype.littleEndian) {
    const copy = new Uint8Array(count * 4);
    copy.set(bytes.subarray(0, count * 4));
    return new Float32Array(copy.buffer);
  }
  if ((dtype.kind === 'u' || dtype.kind === 'b') && dtype.size === 1) return Float32Array.from(bytes.subarray(0, count));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dtype.littleEndian;
  const read: (offset: number) => number =
    dtype.kind === 'f' ? (dtype.size === 4 ? (o) => view.getFloat32(o, le) : (o) => view.getFloat64(o, le))
    : dtype.kind === 'i'
      ? [(o: number) => view.getInt8(o), (o: number) => view.getInt16(o, le), (o: number) => view.getInt32(o, le), (o: number) => Number(view.getBigInt64(o, le))][Math.log2(dtype.size)]
      : [(o: number) => view.getUint8(o), (o: number) => view.getUint16(o, le), (o: number) => view.getUint32(o, le), (o: number) => Number(view.getBigUint64(o, le))][Math.log2(dtype.size)];
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = read(i * dtype.size);
  return out;
}

async function readBytesAt(file: string, offset: number, length: number): Promise<Uint8Array> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (err) {
    throw describeFsError(file, err);
  }
  try {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    if (bytesRead < length) throw new OctetError(file, `is truncated: wanted ${length} bytes at offset ${offset}, got ${bytesRead}`);
    return buffer;
  } finally {
    await handle.close();
  }
}

/** An integer .npy of one label per sample. */
async function readNpyLabels(file: string, count: number): Promise<number[]> {
  if (extname(file).toLowerCase() !== '.npy') throw new OctetError(file, 'labels for .npy data must be an integer .npy file of one class index per sample');
  const { header, fileBytes } = await readNpyHeader(file);
  const n = elementCount(header.shape);
  if (header.shape.length > 2 || (header.shape.length === 2 && header.shape[1] !== 1)) {
    throw new OctetError(file, `holds labels of shape ${formatShape(header.shape)}; expected [N] or [N,1] class indices`);
  }
  if (n !== count) throw new OctetError(file, `holds ${n} labels for ${count} samples`);
  if (fileBytes < header.dataOffset + n * header.dtype.size) throw new OctetError(file, `is truncated: ${n} labels need ${n * header.dtype.size} bytes of data`);
  const bytes = await readBytesAt(file, header.dataOffset, n * header.dtype.size);
  const values = Array.from(npyValuesToFloat32(bytes, header.dtype, n));
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0);
  if (bad >= 0) throw new OctetError(file, `label ${bad} is ${values[bad]}; labels must be whole class indices >= 0`);
  return values;
}

async function openNpy(path: string, isFolder: boolean, options: DatasetOptions): Promise<Dataset> {
  const { input } = options;
  const expected = input.shape.slice(1);
  const perSample = sampleLength(input);
  const sink = warningSink();
  const labelsFile = options.labels ? resolve(options.labels) : null;

  if (!isFolder) {
    const { header, fileBytes } = await readNpyHeader(path);
    const fileShape = header.shape;
    // A file holding exactly one sample without a leading count dim is one sample; otherwise dim 0 is the count.
    const single = fileShape.length === expected.length && shapeFits(fileShape, expected) && !shapeFits(fileShape.slice(1), expected);
    const count = single ? 1 : (fileShape[0] ?? 0);
    const sampleShape = single ? fileShape : fileShape.slice(1);
    if (fileShape.length === 0 || !shapeFits(sampleShape, expected)) throw shapeMismatch(path, fileShape, sampleShape, input);
    if (count === 0) throw new OctetError(path, 'holds no samples (first dimension is 0)');
    const sampleBytes = perSample * header.dtype.size;
    if (fileBytes < header.dataOffset + count * sampleBytes) {
      throw new OctetError(path, `is truncated: shape ${formatShape(fileShape)} needs ${count * sampleBytes} bytes of data, the file holds ${fileBytes - header.dataOffset}`);
    }
    const labels = labelsFile ? await readNpyLabels(labelsFile, count) : null;
    const name = basename(path);
    return {
      info: { path, kind: 'npy', count, labelled: labels !== null, labelsSource: labelsFile },
      size: count,
      warnings: sink.warnings,
      async read(index) {
        checkIndex(index, count, path);
        const bytes = await readBytesAt(path, header.dataOffset + index * sampleBytes, sampleBytes);
        return { id: `${name}#${index}`, label: labels ? labels[index] : null, data: npyValuesToFloat32(bytes, header.dtype, perSample) };
      },
    };
  }

  const { files } = await listDir(path);
  const autoLabels = !labelsFile && files.includes('labels.npy') ? join(path, 'labels.npy') : null;
  const labelsPath = labelsFile ?? autoLabels;
  const sampleFiles = files.filter((f) => extname(f).toLowerCase() === '.npy' && join(path, f) !== labelsPath);
  if (sampleFiles.length === 0) throw new OctetError(path, 'holds no .npy sample files');
  const readSample = async (file: string): Promise<Float32Array> => {
    const { header, fileBytes } = await readNpyHeader(file);
    if (!shapeFits(header.shape, expected)) throw shapeMismatch(file, header.shape, header.shape, input);
    const bytes = perSample * header.dtype.size;
    if (fileBytes < header.dataOffset + bytes) throw new OctetError(file, `is truncated: shape ${formatShape(header.shape)} needs ${bytes} bytes of data`);
    return npyValuesToFloat32(await readBytesAt(file, header.dataOffset, bytes), header.dtype, perSample);
  };
  await readSample(join(path, sampleFiles[0])); // fail at open, not mid-run, when the first file does not fit
  const labels = labelsPath ? await readNpyLabels(labelsPath, sampleFiles.length) : null;
  return {
    info: { path, kind: 'npy', count: sampleFiles.length, labelled: labels !== null, labelsSource: labelsPath },
    size: sampleFiles.length,
    warnings: sink.warnings,
    async read(index) {
      checkIndex(index, sampleFiles.length, path);
      const name = sampleFiles[index];
      return { id: name, label: labels ? labels[index] : null, data: await readSample(join(path, name)) };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// ONNX test_data_set_* folders

async function readPbTensor(file: string): Promise<{ dims: number[]; values: Float32Array }> {
  const bytes = await readFileNamed(file);
  try {
    const tensor = decodeTensor(bytes);
    return { dims: tensor.dims.map(Number), values: tensorToFloat32(tensor) };
  } catch (err) {
    throw new OctetError(file, `is not a readable ONNX TensorProto: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function openOnnxPb(path: string, options: DatasetOptions): Promise<Dataset> {
  const { input } = options;
  if (options.labels) throw new OctetError(options.labels, 'ONNX test data sets carry no labels; --labels applies to image folders, IDX and .npy data');
  const expected = input.shape.slice(1);
  const perSample = sampleLength(input);
  const setDirs = TEST_DATA_SET.test(basename(path))
    ? [path]
    : (await listDir(path)).dirs.filter((d) => TEST_DATA_SET.test(d))
      .sort((a, b) => Number(TEST_DATA_SET.exec(a)?.[1]) - Number(TEST_DATA_SET.exec(b)?.[1]))
      .map((d) => join(path, d));
  // One entry per sample: a set's input_0.pb may hold a batch of several.
  const entries: { file: string; id: string; offset: number }[] = [];
  for (const dir of setDirs) {
    const file = join(dir, 'input_0.pb');
    if (!(await exists(file))) throw new OctetError(dir, 'has no input_0.pb');
    const { dims } = await readPbTensor(file);
    const batched = dims.length === expected.length + 1;
    const sampleShape = batched ? dims.slice(1) : dims;
    if (!shapeFits(sampleShape, expected)) throw shapeMismatch(file, dims, sampleShape, input);
    const count = batched ? dims[0] : 1;
    for (let k = 0; k < count; k++) entries.push({ file, id: count === 1 ? basename(dir) : `${basename(dir)}#${k}`, offset: k * perSample });
  }
  if (entries.length === 0) throw new OctetError(path, 'holds no test_data_set_* folders with input_0.pb');
  return {
    info: { path, kind: 'onnx-pb', count: entries.length, labelled: false, labelsSource: null },
    size: entries.length,
    warnings: [],
    async read(index) {
      checkIndex(index, entries.length, path);
      const entry = entries[index];
      const { values } = await readPbTensor(entry.file);
      return { id: entry.id, label: null, data: values.slice(entry.offset, entry.offset + perSample) };
    },
  };
}

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
 * Reads `indices` into one batch (samples concatenated in order), decoding up to READ_CONCURRENCY samples at once.
 * The first failure rejects (naming the sample's file); remaining reads stop.
 */
export async function readBatch(ds: Dataset, indices: number[], input: InputSpec): Promise<Batch> {
  const perSample = sampleLength(input);
  const data = new Float32Array(indices.length * perSample);
  const labels: (number | null)[] = new Array<number | null>(indices.length).fill(null);
  const ids: string[] = new Array<string>(indices.length).fill('');
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < indices.length) {
      const slot = next++;
      try {
        const sample = await ds.read(indices[slot]);
        if (sample.data.length !== perSample) {
          throw new OctetError(`${ds.info.path} (${sample.id})`, `sample has ${sample.data.length} values; model input '${input.name}' ${formatShape(input.shape)} takes ${perSample}`);
        }
        data.set(sample.data, slot * perSample);
        labels[slot] = sample.label;
        ids[slot] = sample.id;
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, indices.length) }, worker));
  return { data, labels, ids };
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
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`splitIndices: size must be a whole number >= 0, got ${size}`);
  if (!(count >= 0) || (!Number.isInteger(count) && count !== Infinity)) throw new RangeError(`splitIndices: count must be a whole number >= 0 or Infinity, got ${count}`);
  if (!Number.isInteger(skip) || skip < 0) throw new RangeError(`splitIndices: skip must be a whole number >= 0, got ${skip}`);
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
