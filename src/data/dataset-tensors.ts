// Data sets that already hold tensors: .npy files (one array of N samples, or a folder of one-sample files, labels
// from an integer .npy) and ONNX test_data_set_* folders (input_0.pb TensorProtos). No decoding and no preprocessing:
// values are read as they are, after checking that each sample's shape fits the model input — any size in the dims
// the model leaves free (a 48x192 sample for a [N,3,48,W] model), each sample keeping its own.
import { constants as fsConstants, promises as fs } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { OctetError } from '../common/errors';
import { decodeTensor } from '../onnx/proto';
import { elementCount, tensorToFloat32 } from '../onnx/tensor';
import type { Dataset, DatasetOptions, InputSpec } from './dataset';
import { readRegularFile, withRegularFile } from '../common/safe-read';
import { checkIndex, checkLabelRange, FILE_LIMITS, formatModelDims, formatShape, listDir, warningSink } from './dataset-common';

export const TEST_DATA_SET = /^test_data_set_(\d+)$/;

async function exists(file: string): Promise<boolean> {
  return fs.access(file, fsConstants.F_OK).then(() => true, () => false);
}

/**
 * The shape a tensor's sample is fed at, when it fits the model's dims (`expected`, 0 = free): the same rank and equal
 * where the model fixes a dim (the sample's own size where it is free), or — for a model that fixes every dim — equal
 * once size-1 dims are dropped (same memory order, e.g. [28,28] for [1,28,28]). Null when it does not fit.
 */
function fittedShape(got: readonly number[], expected: readonly number[]): number[] | null {
  if (got.length === expected.length && got.every((d, i) => d > 0 && (expected[i] <= 0 || d === expected[i]))) return [...got];
  const squeeze = (s: readonly number[]): string => s.filter((d) => d !== 1).join(',');
  return expected.every((d) => d > 0) && squeeze(got) === squeeze(expected) ? [...expected] : null;
}

const fits = (got: readonly number[], expected: readonly number[]): boolean => fittedShape(got, expected) !== null;

/** Every sample's shape → the data set's shape (when they share one) and the largest dims. */
function shapesOf(shapes: readonly number[][]): { sampleShape: number[] | null; maxSampleShape: number[] } {
  const first = shapes[0];
  const uniform = shapes.every((s) => formatShape(s) === formatShape(first));
  return { sampleShape: uniform ? first : null, maxSampleShape: first.map((_, i) => Math.max(...shapes.map((s) => s[i]))) };
}

/** Error for a tensor whose sample shape does not fit; says so when it is the channel count that differs. */
function shapeMismatch(file: string, fileShape: readonly number[], sampleShape: readonly number[], input: InputSpec): OctetError {
  const expected = input.modelDims;
  let detail = '';
  const channelAxis = input.layout === 'NCHW' ? 0 : expected.length - 1;
  const gotChannels = sampleShape.length === expected.length ? sampleShape[channelAxis] : undefined;
  if (expected.length === 3 && gotChannels !== undefined && gotChannels !== input.channels) {
    detail = ` (${gotChannels} channel(s) where the model takes ${input.channels})`;
  }
  const free = expected.some((d) => d <= 0) ? ' (any size where it shows ?)' : '';
  return new OctetError(file, `holds samples of shape ${formatShape(sampleShape)} (file shape ${formatShape(fileShape)}), `
    + `but model input '${input.name}' ${formatModelDims(input)} ${input.layout} takes ${formatShape(expected.map((d) => (d > 0 ? d : '?') as number))}${free}${detail}`);
}

// ---------------------------------------------------------------------------------------------------------------
// NPY files

interface NpyDtype { descr: string; kind: 'f' | 'i' | 'u' | 'b'; size: number; littleEndian: boolean }
interface NpyHeader { dtype: NpyDtype; shape: number[]; dataOffset: number }

const NPY_MAGIC = '\x93NUMPY';
/** Largest .npy header read (numpy's are a few hundred bytes). */
const NPY_HEADER_LIMIT = 2 ** 20;

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
  return withRegularFile(file, FILE_LIMITS.npy, async ({ size, read }) => {
    const first = await read(0, Math.min(size, 12));
    let head: Uint8Array = first;
    if (first.length >= 12 && first.toString('latin1', 0, 6) === NPY_MAGIC) {
      const headerLength = first[6] === 1 ? first.readUInt16LE(8) + 10 : first.readUInt32LE(8) + 12;
      if (headerLength > NPY_HEADER_LIMIT) throw new OctetError(file, `declares a .npy header of ${headerLength} bytes; numpy writes a few hundred (corrupt file?)`);
      head = await read(0, Math.min(size, headerLength));
    }
    return { header: parseNpyHeader(head, file), fileBytes: size };
  });
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
  return withRegularFile(file, FILE_LIMITS.npy, ({ read }) => read(offset, length));
}

/** An integer .npy of one label per sample. */
async function readNpyLabels(file: string, count: number, input: InputSpec): Promise<number[]> {
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
  checkLabelRange(values, input, file, (i) => `label ${i}`);
  return values;
}

export async function openNpy(path: string, isFolder: boolean, options: DatasetOptions): Promise<Dataset> {
  const { input } = options;
  const expected = input.modelDims;
  const sink = warningSink();
  const labelsFile = options.labels ? resolve(options.labels) : null;

  if (!isFolder) {
    const { header, fileBytes } = await readNpyHeader(path);
    const fileShape = header.shape;
    // A file holding exactly one sample without a leading count dim is one sample; otherwise dim 0 is the count.
    const single = fileShape.length === expected.length && fits(fileShape, expected) && !fits(fileShape.slice(1), expected);
    const count = single ? 1 : (fileShape[0] ?? 0);
    const fileSample = single ? fileShape : fileShape.slice(1);
    const sampleShape = fileShape.length === 0 ? null : fittedShape(fileSample, expected);
    if (!sampleShape) throw shapeMismatch(path, fileShape, fileSample, input);
    if (count === 0) throw new OctetError(path, 'holds no samples (first dimension is 0)');
    const perSample = elementCount(sampleShape);
    const sampleBytes = perSample * header.dtype.size;
    if (fileBytes < header.dataOffset + count * sampleBytes) {
      throw new OctetError(path, `is truncated: shape ${formatShape(fileShape)} needs ${count * sampleBytes} bytes of data, the file holds ${fileBytes - header.dataOffset}`);
    }
    const labels = labelsFile ? await readNpyLabels(labelsFile, count, input) : null;
    const name = basename(path);
    return {
      info: { path, kind: 'npy', count, labelled: labels !== null, labelsSource: labelsFile },
      size: count,
      sampleShape, maxSampleShape: sampleShape,
      warnings: sink.warnings,
      async read(index) {
        checkIndex(index, count, path);
        const bytes = await readBytesAt(path, header.dataOffset + index * sampleBytes, sampleBytes);
        return { id: `${name}#${index}`, label: labels ? labels[index] : null, data: npyValuesToFloat32(bytes, header.dtype, perSample), shape: sampleShape };
      },
    };
  }

  const { files } = await listDir(path);
  const autoLabels = !labelsFile && files.includes('labels.npy') ? join(path, 'labels.npy') : null;
  const labelsPath = labelsFile ?? autoLabels;
  const sampleFiles = files.filter((f) => extname(f).toLowerCase() === '.npy' && join(path, f) !== labelsPath);
  if (sampleFiles.length === 0) throw new OctetError(path, 'holds no .npy sample files');
  /** The shape a sample file is fed at (checked: it fits the model, the file holds its data). */
  const checkSample = async (file: string): Promise<{ header: NpyHeader; shape: number[] }> => {
    const { header, fileBytes } = await readNpyHeader(file);
    const shape = fittedShape(header.shape, expected);
    if (!shape) throw shapeMismatch(file, header.shape, header.shape, input);
    const bytes = elementCount(shape) * header.dtype.size;
    if (fileBytes < header.dataOffset + bytes) throw new OctetError(file, `is truncated: shape ${formatShape(header.shape)} needs ${bytes} bytes of data`);
    return { header, shape };
  };
  // Every file checked at open, not mid-run; their shapes tell whether samples can share a batch.
  const shapes: number[][] = [];
  for (const file of sampleFiles) shapes.push((await checkSample(join(path, file))).shape);
  const labels = labelsPath ? await readNpyLabels(labelsPath, sampleFiles.length, input) : null;
  return {
    info: { path, kind: 'npy', count: sampleFiles.length, labelled: labels !== null, labelsSource: labelsPath },
    size: sampleFiles.length,
    ...shapesOf(shapes),
    warnings: sink.warnings,
    async read(index) {
      checkIndex(index, sampleFiles.length, path);
      const file = join(path, sampleFiles[index]);
      const { header, shape } = await checkSample(file);
      const count = elementCount(shape);
      const data = npyValuesToFloat32(await readBytesAt(file, header.dataOffset, count * header.dtype.size), header.dtype, count);
      return { id: sampleFiles[index], label: labels ? labels[index] : null, data, shape };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// ONNX test_data_set_* folders

async function readPbTensor(file: string): Promise<{ dims: number[]; values: Float32Array }> {
  const bytes = await readRegularFile(file, FILE_LIMITS.tensor);
  try {
    const tensor = decodeTensor(bytes);
    return { dims: tensor.dims.map(Number), values: tensorToFloat32(tensor) };
  } catch (err) {
    throw new OctetError(file, `is not a readable ONNX TensorProto: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export async function openOnnxPb(path: string, options: DatasetOptions): Promise<Dataset> {
  const { input } = options;
  if (options.labels) throw new OctetError(options.labels, 'ONNX test data sets carry no labels; --labels applies to image folders, IDX and .npy data');
  const expected = input.modelDims;
  const setDirs = TEST_DATA_SET.test(basename(path))
    ? [path]
    : (await listDir(path)).dirs.filter((d) => TEST_DATA_SET.test(d))
      .sort((a, b) => Number(TEST_DATA_SET.exec(a)?.[1]) - Number(TEST_DATA_SET.exec(b)?.[1]))
      .map((d) => join(path, d));
  // One entry per sample: a set's input_0.pb may hold a batch of several.
  const entries: { file: string; id: string; offset: number; shape: number[] }[] = [];
  for (const dir of setDirs) {
    const file = join(dir, 'input_0.pb');
    if (!(await exists(file))) throw new OctetError(dir, 'has no input_0.pb');
    const { dims } = await readPbTensor(file);
    const batched = dims.length === expected.length + 1;
    const fileSample = batched ? dims.slice(1) : dims;
    const shape = fittedShape(fileSample, expected);
    if (!shape) throw shapeMismatch(file, dims, fileSample, input);
    const count = batched ? dims[0] : 1;
    const perSample = elementCount(shape);
    for (let k = 0; k < count; k++) entries.push({ file, id: count === 1 ? basename(dir) : `${basename(dir)}#${k}`, offset: k * perSample, shape });
  }
  if (entries.length === 0) throw new OctetError(path, 'holds no test_data_set_* folders with input_0.pb');
  return {
    info: { path, kind: 'onnx-pb', count: entries.length, labelled: false, labelsSource: null },
    size: entries.length,
    ...shapesOf(entries.map((e) => e.shape)),
    warnings: [],
    async read(index) {
      checkIndex(index, entries.length, path);
      const entry = entries[index];
      const { values } = await readPbTensor(entry.file);
      return { id: entry.id, label: null, data: values.slice(entry.offset, entry.offset + elementCount(entry.shape)), shape: entry.shape };
    },
  };
}
