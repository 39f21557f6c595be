// Data set readers: image folders (labels file / class folders / none), IDX, .npy, ONNX test data; batches and splits;
// the errors users hit; and the real assets in ../shared/assets when present.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { InternalError, OctetError } from '../../src/common/errors';
import type { Layout, Preprocessing } from '../../src/common/report';
import type { PresetName } from '../../src/data/preprocessing';
import { presetPreprocessing } from '../fixtures/models';
import { encodeTensor } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import {
  openDataset, readBatch, readBatches, splitIndices, type Dataset, type InputSpec, type Sample,
} from '../../src/data/dataset';
import { parseLabelsText } from '../../src/data/dataset-images';

const root = mkdtempSync(join(tmpdir(), 'octet-dataset-test-'));
after(() => rmSync(root, { recursive: true, force: true }));
let folderCount = 0;
/** A fresh empty folder under the test's temp dir. */
function folder(name = 'data'): string {
  const dir = join(root, `${folderCount++}`, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function spec(height: number, width: number, channels = 3, layout: Layout = 'NCHW'): InputSpec {
  const shape = layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels];
  return { name: 'x', layout, channels, height, width, shape, modelDims: shape.slice(1) };
}

/** Data set options: `input`, preprocessed by `preset` at the input's size. */
function opts(input: InputSpec, preset: PresetName): { input: InputSpec; preprocessing: Preprocessing } {
  return { input, preprocessing: presetPreprocessing(preset, [input.height, input.width]) };
}

/** Writes a solid-colour image file (format from the extension: .png, else JPEG quality 100). */
async function writeImage(file: string, colour: number[], size = 8): Promise<void> {
  const channels = colour.length as 1 | 3;
  if (file.toLowerCase().endsWith('.png')) {
    const image = new PNG({ width: size, height: size });
    image.data = Buffer.alloc(size * size * channels);
    for (let i = 0; i < image.data.length; i++) image.data[i] = colour[i % channels];
    const colorType = channels === 1 ? 0 : 2;
    writeFileSync(file, PNG.sync.write(image, { colorType, inputColorType: colorType, inputHasAlpha: false }));
    return;
  }
  const rgba = Buffer.alloc(size * size * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = i % 4 === 3 ? 255 : colour[channels === 1 ? 0 : i % 4];
  writeFileSync(file, encodeJpeg({ width: size, height: size, data: rgba }, 100).data);
}

/** The first bytes of a WebP file: enough for Octet to recognise (and refuse) the format. */
const WEBP_HEADER = Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8L\x18\x00\x00\x00', 'latin1');

/** IDX bytes: magic 0 0 0x08 ndims, big-endian dims, data. */
function idxBytes(dims: number[], data: Uint8Array): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** .npy v1.0 bytes for a C-order array. */
function npyBytes(descr: string, shape: number[], data: ArrayBufferView): Buffer {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

const isOctetError = (subject: string, pattern: RegExp) => (err: unknown): boolean => {
  assert.ok(err instanceof OctetError, `expected OctetError, got ${String(err)}`);
  assert.equal(err.subject, subject);
  assert.match(err.message, pattern);
  return true;
};

async function readAll(ds: Dataset): Promise<Sample[]> {
  const out: Sample[] = [];
  for (let i = 0; i < ds.size; i++) out.push(await ds.read(i));
  return out;
}

// ------------------------------------------------------------------------------------------------ image folders

test('image folder without labels: sorted, case-insensitive extensions, hidden and foreign files ignored', async () => {
  const dir = folder();
  await writeImage(join(dir, 'b.PNG'), [20, 20, 20]);
  await writeImage(join(dir, 'a.jpg'), [10, 10, 10]);
  await writeImage(join(dir, 'C.Jpeg'), [30, 30, 30]);
  writeFileSync(join(dir, 'd.webp'), WEBP_HEADER);
  await writeImage(join(dir, '.hidden.png'), [0, 0, 0]);
  writeFileSync(join(dir, 'notes.md'), 'not an image');
  writeFileSync(join(dir, 'old.bmp'), 'BM...');
  const ds = await openDataset(dir, { ...opts(spec(8, 8), 'raw') });
  assert.deepEqual(ds.info, { path: dir, kind: 'image-folder', count: 3, labelled: false, labelsSource: null });
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => s.id), ['C.Jpeg', 'a.jpg', 'b.PNG']); // code-point order
  assert.deepEqual(samples.map((s) => s.label), [null, null, null]);
  assert.equal(samples[2].data[0], 20); // PNG: exact
  assert.ok(Math.abs(samples[1].data[0] - 10) <= 2); // JPEG: near
  assert.equal(ds.warnings.length, 1);
  assert.match(ds.warnings[0], /2 file\(s\).*cannot decode.*skipped, e\.g\. d\.webp/);
});

test('image folder with labels.txt: order of the file, comments and blank lines, names with spaces', async () => {
  const dir = folder();
  for (const name of ['x.png', 'y.png', 'with space.png', 'extra.png']) await writeImage(join(dir, name), [1, 2, 3]);
  writeFileSync(join(dir, 'labels.txt'), '# file class\n\ny.png 7\nx.png 3\r\nwith space.png 0\n');
  const ds = await openDataset(dir, { ...opts(spec(8, 8), 'raw') });
  assert.deepEqual(ds.info, { path: dir, kind: 'image-folder', count: 3, labelled: true, labelsSource: join(dir, 'labels.txt') });
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => [s.id, s.label]), [['y.png', 7], ['x.png', 3], ['with space.png', 0]]);
  assert.ok(ds.warnings.some((w) => /1 image\(s\).*not in.*extra\.png/.test(w)));
});

test('image folder with --labels elsewhere: paths relative to the folder, may reach into subfolders', async () => {
  const dir = folder();
  mkdirSync(join(dir, 'sub'));
  await writeImage(join(dir, 'sub', 'p.png'), [5, 5, 5]);
  await writeImage(join(dir, 'q.png'), [6, 6, 6]);
  const labels = join(folder('labels'), 'my-labels.txt');
  writeFileSync(labels, 'q.png 1\nsub/p.png 2\n');
  const ds = await openDataset(dir, { ...opts(spec(8, 8), 'raw'), labels });
  assert.equal(ds.info.labelsSource, labels);
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => [s.id, s.label, s.data[0]]), [['q.png', 1, 6], ['sub/p.png', 2, 5]]);
});

test('image folder with class subfolders: class index = sorted folder order, images one level down', async () => {
  const dir = folder();
  for (const [cls, n] of [['dog', 2], ['cat', 1], ['zebra', 1]] as const) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < n; i++) await writeImage(join(dir, cls, `${i}.png`), [i, i, i]);
  }
  mkdirSync(join(dir, 'empty'));
  const ds = await openDataset(dir, { ...opts(spec(8, 8), 'raw') });
  assert.equal(ds.info.labelsSource, 'class subfolders');
  assert.equal(ds.info.labelled, true);
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => [s.id, s.label]), [['cat/0.png', 0], ['dog/0.png', 1], ['dog/1.png', 1], ['zebra/0.png', 3]]);
  assert.ok(ds.warnings.some((w) => /empty.*no images.*class index 2/.test(w)));
});

test('image folder: a grey model fed colour images converts them and warns once', async () => {
  const dir = folder();
  await writeImage(join(dir, 'a.png'), [255, 0, 0]);
  await writeImage(join(dir, 'b.png'), [0, 255, 0]);
  const ds = await openDataset(dir, { ...opts(spec(8, 8, 1), 'raw') });
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => s.data[0]), [76, 150]);
  assert.equal(samples[0].data.length, 64);
  assert.equal(ds.warnings.length, 1);
  assert.match(ds.warnings[0], /takes 1 channel.*greyscale.*a\.png/);
});

test('image folder: caffe preset on a solid colour gives exactly value - mean, BGR, NHWC', async () => {
  const dir = folder();
  await writeImage(join(dir, 'solid.png'), [255, 128, 0], 100);
  const ds = await openDataset(dir, { ...opts(spec(64, 64, 3, 'NHWC'), 'caffe') });
  const { data } = await ds.read(0);
  assert.deepEqual(Array.from(data.subarray(0, 3)), [Math.fround(0 - 103.939), Math.fround(128 - 116.779), Math.fround(255 - 123.68)]);
  assert.deepEqual(Array.from(data.subarray(data.length - 3)), Array.from(data.subarray(0, 3)));
});

test('image folder errors: empty folder, folder of non-images', async () => {
  const empty = folder('empty');
  await assert.rejects(openDataset(empty, { ...opts(spec(8, 8), 'raw') }), isOctetError(empty, /no images found/));
  const text = folder('texts');
  writeFileSync(join(text, 'readme.txt'), 'hello');
  mkdirSync(join(text, 'sub'));
  await assert.rejects(openDataset(text, { ...opts(spec(8, 8), 'raw') }), isOctetError(text, /no images found/));
});

test('labels file naming missing files: names the labels file, the first missing files and the count', async () => {
  const dir = folder();
  await writeImage(join(dir, 'here.png'), [1, 1, 1]);
  writeFileSync(join(dir, 'labels.txt'), 'here.png 1\ngone1.png 2\ngone2.png 3\ngone3.png 4\ngone4.png 5\n');
  await assert.rejects(openDataset(dir, { ...opts(spec(8, 8), 'raw') }),
    isOctetError(join(dir, 'labels.txt'), /names 4 file\(s\) not found.*gone1\.png, gone2\.png, gone3\.png, \.\.\./));
});

test('labels file with a malformed line: names the line number', async () => {
  const dir = folder();
  await writeImage(join(dir, 'a.png'), [1, 1, 1]);
  writeFileSync(join(dir, 'labels.txt'), 'a.png 1\n\na.png cat\n');
  await assert.rejects(openDataset(dir, { ...opts(spec(8, 8), 'raw') }), isOctetError(join(dir, 'labels.txt'), /line 3: expected "FILE CLASS_INDEX".*"a\.png cat"/));
  assert.throws(() => parseLabelsText('a.png -1', 'L'), isOctetError('L', /line 1/));
  assert.deepEqual(parseLabelsText('# c\n a b.png   12 \n', 'L'), [{ file: 'a b.png', label: 12, line: 2 }]);
});

test('a corrupt image fails at read time, naming the image and the cause', async () => {
  const dir = folder();
  await writeImage(join(dir, 'good.jpg'), [1, 2, 3], 64);
  writeFileSync(join(dir, 'bad.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0]));
  const ds = await openDataset(dir, { ...opts(spec(8, 8), 'raw') });
  await assert.rejects(ds.read(0), isOctetError(join(dir, 'bad.jpg'), /cannot decode image \(corrupt, truncated or unsupported JPEG\): \S+/));
  await ds.read(1);
  await assert.rejects(readBatch(ds, [1, 0], spec(8, 8)), isOctetError(join(dir, 'bad.jpg'), /cannot decode/));
});

test('formats Octet does not decode: skipped in folders (an error when nothing else is there), an error when named', async () => {
  const only = folder();
  writeFileSync(join(only, 'a.webp'), WEBP_HEADER);
  writeFileSync(join(only, 'b.gif'), 'GIF89a');
  await assert.rejects(openDataset(only, { ...opts(spec(8, 8), 'raw') }),
    isOctetError(only, /no images found.*files such as .*a\.webp are skipped: unsupported image format; use JPEG or PNG/));
  const classes = folder();
  mkdirSync(join(classes, 'cat'));
  writeFileSync(join(classes, 'cat', 'c.webp'), WEBP_HEADER);
  await assert.rejects(openDataset(classes, { ...opts(spec(8, 8), 'raw') }), isOctetError(classes, /files such as .*c\.webp are skipped/));
  // A labels file may name any file: a WebP (even one called .png) fails at read time with the reason.
  const labelled = folder();
  await writeImage(join(labelled, 'ok.png'), [1, 2, 3]);
  writeFileSync(join(labelled, 'disguised.png'), WEBP_HEADER);
  writeFileSync(join(labelled, 'labels.txt'), 'ok.png 0\ndisguised.png 1\n');
  const ds = await openDataset(labelled, { ...opts(spec(8, 8), 'raw') });
  await ds.read(0);
  await assert.rejects(ds.read(1), isOctetError(join(labelled, 'disguised.png'), /unsupported image format; use JPEG or PNG \(this file is WebP\)/));
  await assert.rejects(openDataset(join(only, 'a.webp'), { ...opts(spec(8, 8), 'raw') }), isOctetError(join(only, 'a.webp'), /single image.*unsupported image format/));
});

test('openDataset: missing path and unsupported files', async () => {
  const missing = join(root, 'does-not-exist');
  await assert.rejects(openDataset(missing, { ...opts(spec(8, 8), 'raw') }), isOctetError(missing, /no such file/));
  const dir = folder();
  writeFileSync(join(dir, 'data.csv'), '1,2,3');
  await assert.rejects(openDataset(join(dir, 'data.csv'), { ...opts(spec(8, 8), 'raw') }), isOctetError(join(dir, 'data.csv'), /not a data set/));
});

// ------------------------------------------------------------------------------------------------ IDX

function digits(count: number, rows = 4, cols = 4): Uint8Array {
  return Uint8Array.from({ length: count * rows * cols }, (_, i) => (Math.floor(i / (rows * cols)) * 10 + (i % (rows * cols))) % 256);
}

test('IDX: gzipped images + auto-paired labels, from the file or the folder', async () => {
  const dir = folder('mnist');
  writeFileSync(join(dir, 't10k-images-idx3-ubyte.gz'), gzipSync(idxBytes([3, 4, 4], digits(3))));
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(idxBytes([3], Uint8Array.from([7, 2, 1]))));
  for (const path of [dir, join(dir, 't10k-images-idx3-ubyte.gz')]) {
    const ds = await openDataset(path, { ...opts(spec(4, 4, 1), 'raw') });
    assert.deepEqual(ds.info, { path: join(dir, 't10k-images-idx3-ubyte.gz'), kind: 'idx', count: 3, labelled: true, labelsSource: join(dir, 't10k-labels-idx1-ubyte.gz') });
    const samples = await readAll(ds);
    assert.deepEqual(samples.map((s) => s.label), [7, 2, 1]);
    assert.deepEqual(Array.from(samples[1].data), Array.from(digits(3).subarray(16, 32)));
    assert.equal(samples[1].id, 't10k-images-idx3-ubyte.gz#1');
  }
  const unit = await openDataset(dir, { ...opts(spec(4, 4, 1), 'unit') });
  assert.equal((await unit.read(2)).data[15], Math.fround(35 / 255));
});

test('IDX: uncompressed, unlabelled, resized for a bigger model and replicated for a colour model', async () => {
  const dir = folder();
  const file = join(dir, 'my-images.idx3-ubyte');
  writeFileSync(file, idxBytes([2, 4, 4], new Uint8Array(32).fill(100)));
  const ds = await openDataset(file, { ...opts(spec(8, 8, 3, 'NHWC'), 'raw') });
  assert.equal(ds.info.labelled, false);
  const { data } = await ds.read(1);
  assert.equal(data.length, 8 * 8 * 3);
  assert.ok(data.every((v) => v === 100));
});

test('IDX errors: truncated data, truncated gzip, label count mismatch, labels file given as images', async () => {
  const dir = folder();
  const truncated = join(dir, 'short-images-idx3-ubyte');
  writeFileSync(truncated, idxBytes([10, 28, 28], new Uint8Array(1000)));
  await assert.rejects(openDataset(truncated, { ...opts(spec(28, 28, 1), 'raw') }), isOctetError(truncated, /truncated: header says 10x28x28 \(7840 bytes of data\), the file holds 1000/));
  const gz = join(dir, 'cut-images-idx3-ubyte.gz');
  const full = gzipSync(idxBytes([2, 4, 4], new Uint8Array(32)));
  writeFileSync(gz, full.subarray(0, full.length - 10));
  await assert.rejects(openDataset(gz, { ...opts(spec(4, 4, 1), 'raw') }), isOctetError(gz, /cannot gunzip/));

  const other = folder();
  writeFileSync(join(other, 'train-images-idx3-ubyte'), idxBytes([2, 4, 4], new Uint8Array(32)));
  writeFileSync(join(other, 'train-labels-idx1-ubyte'), idxBytes([3], new Uint8Array(3)));
  await assert.rejects(openDataset(other, { ...opts(spec(4, 4, 1), 'raw') }), isOctetError(join(other, 'train-labels-idx1-ubyte'), /3 labels for the 2 images/));
  await assert.rejects(openDataset(join(other, 'train-labels-idx1-ubyte'), { ...opts(spec(4, 4, 1), 'raw') }), isOctetError(join(other, 'train-labels-idx1-ubyte'), /labels file/));
});

// ------------------------------------------------------------------------------------------------ NPY

test('npy: one float32 file, first dim = samples, C order kept as is; integer labels .npy', async () => {
  const dir = folder();
  const values = Float32Array.from({ length: 3 * 2 * 2 * 2 }, (_, i) => i * 0.5);
  writeFileSync(join(dir, 'x.npy'), npyBytes('<f4', [3, 2, 2, 2], values));
  writeFileSync(join(dir, 'y.npy'), npyBytes('<i8', [3], BigInt64Array.from([4n, 0n, 9n])));
  const ds = await openDataset(join(dir, 'x.npy'), { ...opts(spec(2, 2, 2), 'torch'), labels: join(dir, 'y.npy') });
  assert.deepEqual(ds.info, { path: join(dir, 'x.npy'), kind: 'npy', count: 3, labelled: true, labelsSource: join(dir, 'y.npy') });
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => s.label), [4, 0, 9]);
  assert.deepEqual(Array.from(samples[2].data), Array.from(values.subarray(16, 24)));
  assert.equal(samples[2].id, 'x.npy#2');
});

test('npy: float64 and uint8 data, squeezed shapes ([N,28,28] for [1,1,28,28])', async () => {
  const dir = folder();
  writeFileSync(join(dir, 'f64.npy'), npyBytes('<f8', [2, 1, 3, 3], Float64Array.from({ length: 18 }, (_, i) => i / 4)));
  const f64 = await openDataset(join(dir, 'f64.npy'), { ...opts(spec(3, 3, 1), 'raw') });
  assert.deepEqual(Array.from((await f64.read(1)).data), Array.from({ length: 9 }, (_, i) => (9 + i) / 4));
  writeFileSync(join(dir, 'u8.npy'), npyBytes('|u1', [2, 3, 3], Uint8Array.from({ length: 18 }, (_, i) => i * 10)));
  const u8 = await openDataset(join(dir, 'u8.npy'), { ...opts(spec(3, 3, 1), 'raw') });
  assert.deepEqual(Array.from((await u8.read(0)).data), [0, 10, 20, 30, 40, 50, 60, 70, 80]);
});

test('tensors for a model with free dims: any size it accepts, taken as is; samples of other sizes run one at a time', async () => {
  // A text-line model [N,3,48,W]: free width.
  const input: InputSpec = { name: 'x', layout: 'NCHW', channels: 3, height: 0, width: 0, shape: [1, 3, 48, 0], modelDims: [3, 48, 0] };
  const preprocessing = presetPreprocessing('torch', null);
  const dir = folder();
  writeFileSync(join(dir, 'lines.npy'), npyBytes('<f4', [2, 3, 48, 192], new Float32Array(2 * 3 * 48 * 192).map((_, i) => i % 7)));
  const lines = await openDataset(join(dir, 'lines.npy'), { input, preprocessing });
  assert.deepEqual([lines.sampleShape, lines.maxSampleShape], [[3, 48, 192], [3, 48, 192]]);
  const second = await lines.read(1);
  assert.deepEqual(second.shape, [3, 48, 192]);
  assert.equal(second.data[0], (3 * 48 * 192) % 7, 'values as they are, no preprocessing');
  writeFileSync(join(dir, 'tall.npy'), npyBytes('<f4', [1, 3, 64, 192], new Float32Array(3 * 64 * 192)));
  await assert.rejects(openDataset(join(dir, 'tall.npy'), { input, preprocessing }),
    isOctetError(join(dir, 'tall.npy'), /\[3,64,192\].*\[N,3,48,\?\] NCHW takes \[3,48,\?\] \(any size where it shows \?\)/));
  // A folder of samples of two widths: no shared shape (batches of one), the largest for budgets.
  const mixed = folder();
  writeFileSync(join(mixed, 'a.npy'), npyBytes('<f4', [3, 48, 100], new Float32Array(3 * 48 * 100)));
  writeFileSync(join(mixed, 'b.npy'), npyBytes('<f4', [3, 48, 320], new Float32Array(3 * 48 * 320)));
  const ds = await openDataset(mixed, { input, preprocessing });
  assert.deepEqual([ds.sampleShape, ds.maxSampleShape], [null, [3, 48, 320]]);
  assert.deepEqual((await readBatch(ds, [1], input)).shape, [3, 48, 320]);
});

test('images at sizes of their own (--size-multiple, --max-side): each sample its own shape, bounded by the max side', async () => {
  const input: InputSpec = { name: 'x', layout: 'NCHW', channels: 3, height: 0, width: 0, shape: [1, 3, 0, 0], modelDims: [3, 0, 0] };
  const preprocessing = presetPreprocessing('raw', null, { fit: 'stretch', sizeMultiple: 32, maxSide: 100 });
  const dir = folder();
  await writeImage(join(dir, 'a.png'), [10, 20, 30], 40);
  await writeImage(join(dir, 'b.png'), [10, 20, 30], 200);
  const ds = await openDataset(dir, { input, preprocessing });
  assert.deepEqual([ds.sampleShape, ds.maxSampleShape], [null, [3, 128, 128]]);
  const samples = await readAll(ds);
  // 40 px → 32 (nearest multiple); 200 px → 100 (max side) → 96.
  assert.deepEqual(samples.map((x) => x.shape), [[3, 32, 32], [3, 96, 96]]);
  assert.deepEqual([samples[1].data[0], samples[1].data[96 * 96], samples[1].data[2 * 96 * 96]], [10, 20, 30]);
  // No size at all for a model with free dims: the error says how to give one.
  await assert.rejects(openDataset(dir, { input, preprocessing: presetPreprocessing('raw', null) }),
    isOctetError(dir, /leaves its height or width free: pass --input-size HxW, or --size-multiple N --max-side S/));
});

test('npy: a folder of one-sample files, labels.npy picked up and not read as a sample', async () => {
  const dir = folder('npys');
  for (let i = 0; i < 3; i++) writeFileSync(join(dir, `s${i}.npy`), npyBytes('<f4', [1, 3, 2, 2], new Float32Array(12).fill(i)));
  writeFileSync(join(dir, 'labels.npy'), npyBytes('<i4', [3, 1], Int32Array.from([2, 1, 0])));
  const ds = await openDataset(dir, { ...opts(spec(2, 2, 3, 'NCHW'), 'torch') });
  assert.deepEqual(ds.info, { path: dir, kind: 'npy', count: 3, labelled: true, labelsSource: join(dir, 'labels.npy') });
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => [s.id, s.label, s.data[0]]), [['s0.npy', 2, 0], ['s1.npy', 1, 1], ['s2.npy', 0, 2]]);
});

test('npy errors: wrong channel count names the file and both shapes; NHWC data for an NCHW model; truncated', async () => {
  const dir = folder();
  const grey = join(dir, 'grey.npy');
  writeFileSync(grey, npyBytes('<f4', [5, 1, 32, 32], new Float32Array(5 * 32 * 32)));
  await assert.rejects(openDataset(grey, { ...opts(spec(32, 32, 3), 'raw') }),
    isOctetError(grey, /\[1,32,32\] \(file shape \[5,1,32,32\]\).*\[N,3,32,32\].*takes \[3,32,32\] \(1 channel\(s\) where the model takes 3\)/));
  const nhwc = join(dir, 'nhwc.npy');
  writeFileSync(nhwc, npyBytes('<f4', [2, 8, 8, 3], new Float32Array(2 * 8 * 8 * 3)));
  await assert.rejects(openDataset(nhwc, { ...opts(spec(8, 8, 3, 'NCHW'), 'raw') }), isOctetError(nhwc, /\[8,8,3\].*takes \[3,8,8\]/));
  assert.equal((await openDataset(nhwc, { ...opts(spec(8, 8, 3, 'NHWC'), 'raw') })).size, 2);
  const short = join(dir, 'short.npy');
  writeFileSync(short, npyBytes('<f4', [4, 3, 8, 8], new Float32Array(3 * 3 * 8 * 8)));
  await assert.rejects(openDataset(short, { ...opts(spec(8, 8), 'raw') }), isOctetError(short, /truncated/));
  const labels = join(dir, 'labels-bad.npy');
  writeFileSync(labels, npyBytes('<i4', [3], Int32Array.from([1, 2, 3])));
  await assert.rejects(openDataset(nhwc, { ...opts(spec(8, 8, 3, 'NHWC'), 'raw'), labels }), isOctetError(labels, /3 labels for 2 samples/));
});

// ------------------------------------------------------------------------------------------------ ONNX test data

test('onnx-pb: test_data_set_* folders in numeric order, or one such folder; batched input_0.pb split', async () => {
  const model = folder('model-test');
  const write = (set: number, dims: number[], fill: (i: number) => number): void => {
    const dir = join(model, `test_data_set_${set}`);
    mkdirSync(dir, { recursive: true });
    const values = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => fill(i));
    writeFileSync(join(dir, 'input_0.pb'), encodeTensor(makeTensor('x', dims, values)));
  };
  write(0, [1, 3, 2, 2], () => 0);
  write(10, [1, 3, 2, 2], () => 10);
  write(2, [2, 3, 2, 2], (i) => (i < 12 ? 2 : 2.5));
  const ds = await openDataset(model, { ...opts(spec(2, 2), 'torch') });
  assert.deepEqual(ds.info, { path: model, kind: 'onnx-pb', count: 4, labelled: false, labelsSource: null });
  const samples = await readAll(ds);
  assert.deepEqual(samples.map((s) => [s.id, s.data[0], s.data.length]),
    [['test_data_set_0', 0, 12], ['test_data_set_2#0', 2, 12], ['test_data_set_2#1', 2.5, 12], ['test_data_set_10', 10, 12]]);
  const one = await openDataset(join(model, 'test_data_set_10'), { ...opts(spec(2, 2), 'torch') });
  assert.equal(one.size, 1);
  await assert.rejects(openDataset(model, { ...opts(spec(4, 4), 'torch') }), isOctetError(join(model, 'test_data_set_0', 'input_0.pb'), /takes \[3,4,4\]/));
});

// ------------------------------------------------------------------------------------------------ batches, splits

/** A data set whose samples are [index, index, ...], counting concurrent reads. */
function fakeDataset(size: number, perSample: number, delayMs = 2, shapeOf = (_index: number) => [perSample]): Dataset & { maxInFlight: number } {
  let inFlight = 0;
  const ds = {
    info: { path: 'fake', kind: 'npy' as const, count: size, labelled: true, labelsSource: null },
    size,
    sampleShape: [perSample],
    maxSampleShape: [perSample],
    warnings: [],
    maxInFlight: 0,
    async read(index: number): Promise<Sample> {
      inFlight++;
      ds.maxInFlight = Math.max(ds.maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, delayMs * ((index % 3) + 1)));
      inFlight--;
      if (index === 666) throw new OctetError('fake#666', 'broken');
      return { id: `s${index}`, label: index % 10, data: new Float32Array(perSample).fill(index), shape: shapeOf(index) };
    },
  };
  return ds;
}

test('readBatch: concatenates in the order asked, bounded concurrency, checks sample length', async () => {
  const input = spec(2, 2, 1);
  const ds = fakeDataset(50, 4);
  const batch = await readBatch(ds, [5, 0, 17, 3, 9, 11, 2, 8, 40, 41], input);
  assert.deepEqual(batch.ids, ['s5', 's0', 's17', 's3', 's9', 's11', 's2', 's8', 's40', 's41']);
  assert.deepEqual(batch.labels, [5, 0, 7, 3, 9, 1, 2, 8, 0, 1]);
  assert.deepEqual(Array.from(batch.data.subarray(8, 12)), [17, 17, 17, 17]);
  assert.equal(batch.data.length, 40);
  assert.ok(ds.maxInFlight > 1 && ds.maxInFlight <= 4, `in flight ${ds.maxInFlight}`);
  assert.deepEqual(batch.shape, [4]);
  await assert.rejects(readBatch(fakeDataset(5, 4, 1, () => [9]), [1], spec(3, 3, 1)), isOctetError('fake (s1)', /4 values.*\[9\] takes 9/));
  await assert.rejects(readBatch(fakeDataset(5, 4, 1, (i) => [i === 2 ? 2 : 4, 1]), [1, 2], input), InternalError);
  await assert.rejects(readBatch(fakeDataset(1000, 4), [1, 666, 2], input), isOctetError('fake#666', /broken/));
  assert.equal((await readBatch(ds, [], input)).data.length, 0);
});

test('readBatches: batches of the asked size, last one smaller, prefetching the next', async () => {
  const input = spec(1, 1, 1);
  const ds = fakeDataset(10, 1);
  const seen: string[][] = [];
  for await (const batch of readBatches(ds, [0, 1, 2, 3, 4, 5, 6], 3, input)) seen.push(batch.ids);
  assert.deepEqual(seen, [['s0', 's1', 's2'], ['s3', 's4', 's5'], ['s6']]);
  const failing = readBatches(fakeDataset(1000, 1), [1, 2, 666], 2, input);
  await assert.rejects((async () => { for await (const batch of failing) void batch; })(), isOctetError('fake#666', /broken/));
});

test('splitIndices: skip/count over a spread order; calibration and evaluation disjoint; every class covered', () => {
  assert.deepEqual(splitIndices(5, Infinity, 0), [0, 1, 2, 3, 4]);
  assert.deepEqual(splitIndices(0, 10, 0), []);
  assert.deepEqual(splitIndices(10, 0, 0), []);
  assert.deepEqual(splitIndices(10, 5, 20), []);
  const calib = splitIndices(2000, 100, 0);
  const evalSet = splitIndices(2000, Infinity, 100);
  assert.equal(calib.length, 100);
  assert.equal(evalSet.length, 1900);
  assert.deepEqual([...calib, ...evalSet].sort((a, b) => a - b), Array.from({ length: 2000 }, (_, i) => i));
  assert.deepEqual(calib, [...calib].sort((a, b) => a - b));
  // CIFAR-style folder: 10 classes of 200, sorted by class. 100 calibration images cover every class about evenly.
  const perClass = new Array<number>(10).fill(0);
  for (const i of calib) perClass[Math.floor(i / 200)]++;
  assert.ok(perClass.every((n) => n >= 8 && n <= 12), `per class ${perClass}`);
  assert.deepEqual(splitIndices(2000, 100, 0), calib); // deterministic
  assert.throws(() => splitIndices(10, -1, 0), InternalError);
  assert.throws(() => splitIndices(10, 1, 0.5), InternalError);
});

// ------------------------------------------------------------------------------------------------ real assets

const assets = resolve(process.cwd(), '../shared/assets');

test('real assets: ImageNet sample folder picks up labels.txt (500 images, even labels 0..998)', async (t) => {
  const dir = join(assets, 'images', 'imagenet-sample');
  if (!existsSync(dir)) return t.skip(`../shared/assets not found: ${dir}`);
  const input = spec(224, 224);
  const ds = await openDataset(dir, opts(input, 'tf'));
  assert.deepEqual(ds.info, { path: dir, kind: 'image-folder', count: 500, labelled: true, labelsSource: join(dir, 'labels.txt') });
  const labels = await Promise.all(Array.from({ length: ds.size }, async (_, i) => (await ds.read(i)).label));
  assert.deepEqual([...labels].sort((a, b) => (a ?? 0) - (b ?? 0)), Array.from({ length: 500 }, (_, i) => 2 * i));
  const batch = await readBatch(ds, [0, 1, 2, 3], input);
  assert.equal(batch.data.length, 4 * 3 * 224 * 224);
  assert.ok(batch.data.every((v) => v >= -1 && v <= 1));
  assert.deepEqual(ds.warnings, []);
});

test('real assets: CIFAR-10 folder has 10 classes by sorted folder name', async (t) => {
  const dir = join(assets, 'images', 'cifar10-test');
  if (!existsSync(dir)) return t.skip(`../shared/assets not found: ${dir}`);
  const ds = await openDataset(dir, { ...opts(spec(32, 32), 'torch') });
  assert.equal(ds.info.labelsSource, 'class subfolders');
  assert.equal(ds.size, 2000);
  const first = await ds.read(0);
  const last = await ds.read(ds.size - 1);
  assert.equal(first.label, 0);
  assert.match(first.id, /^airplane\//);
  assert.equal(last.label, 9);
  assert.match(last.id, /^truck\//);
  assert.equal(first.data.length, 3 * 32 * 32);
});

test('real assets: MNIST t10k IDX gz gives 10000 labelled digits', async (t) => {
  const dir = join(assets, 'images', 'mnist');
  if (!existsSync(dir)) return t.skip(`../shared/assets not found: ${dir}`);
  const ds = await openDataset(dir, { ...opts(spec(28, 28, 1), 'raw') });
  assert.equal(ds.info.kind, 'idx');
  assert.equal(ds.size, 10000);
  assert.equal(ds.info.labelled, true);
  const first = await ds.read(0);
  assert.equal(first.label, 7); // the first t10k digit is a 7
  assert.equal(first.data.length, 784);
  assert.ok(Math.max(...first.data) === 255 && Math.min(...first.data) === 0);
  assert.equal((await ds.read(9999)).label, 6);
});
