// The decoding threads give exactly what decoding on this thread gives (imageToTensor): the same float32 values, bit for
// bit, for JPEG (EXIF-rotated, and the 4:2:0 photos of ../shared when present), PNG (grey, alpha), every layout, preset
// and a grey model fed colour; the same errors (naming the file, ImageTooLargeError kept as such); and a Buffer that
// shares memory with others is copied, not taken away from them.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import type { Layout } from '../../src/common/report';
import type { InputSpec } from '../../src/data/dataset';
import { closeDecodePool, decodeImageTensor, decodeWorkers } from '../../src/data/decode-pool';
import { ImageTooLargeError } from '../../src/data/image-decode';
import type { Preprocessing } from '../../src/common/report';
import { imageToTensor } from '../../src/data/preprocess';
import { presetPreprocessing } from '../fixtures/models';

after(() => closeDecodePool());

function spec(height: number, width: number, channels = 3, layout: Layout = 'NCHW'): InputSpec {
  const shape = layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels];
  return { name: 'x', layout, channels, height, width, shape, modelDims: shape.slice(1) };
}

/** Pixel (x, y) channel c of a busy pattern (edges and gradients, so resampling and chroma both matter). */
const shade = (x: number, y: number, c: number): number => (x * 7 + y * 13 + c * 101 + ((x * y) % 17) * 5) & 255;

function png(width: number, height: number, channels: 1 | 3 | 4): Buffer {
  const image = new PNG({ width, height });
  image.data = Buffer.alloc(width * height * channels);
  for (let i = 0; i < image.data.length; i++) image.data[i] = shade(Math.floor(i / channels) % width, Math.floor(i / channels / width), i % channels);
  const colorType = ({ 1: 0, 3: 2, 4: 6 } as const)[channels];
  return PNG.sync.write(image, { colorType, inputColorType: colorType, inputHasAlpha: channels === 4 });
}

function jpeg(width: number, height: number, quality = 90): Buffer {
  const rgba = Buffer.alloc(width * height * 4);
  for (let i = 0; i < rgba.length; i++) rgba[i] = i % 4 === 3 ? 255 : shade(Math.floor(i / 4) % width, Math.floor(i / 4 / width), i % 4);
  return encodeJpeg({ width, height, data: rgba }, quality).data;
}

/** The JPEG with an Exif segment whose IFD0 holds Orientation = 6 (rotate 90 clockwise), big-endian TIFF. */
function rotated(bytes: Buffer): Buffer {
  const tiff = Buffer.from([0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0]);
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const header = Buffer.from([0xff, 0xe1, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([bytes.subarray(0, 2), header, body, bytes.subarray(2)]);
}

interface Case { name: string; bytes: Buffer; input: InputSpec; preprocess: Preprocessing }

async function assertSame({ name, bytes, input, preprocess }: Case): Promise<void> {
  const here = imageToTensor(Uint8Array.from(bytes), name, input, preprocess);
  const pooled = await decodeImageTensor(Uint8Array.from(bytes), name, input, preprocess);
  assert.equal(pooled.convertedToGrey, here.convertedToGrey, name);
  assert.deepEqual(pooled.shape, here.shape, name);
  assert.equal(pooled.data.length, here.data.length, name);
  assert.ok(pooled.seconds >= 0, name);
  assert.deepEqual(Buffer.from(pooled.data.buffer, pooled.data.byteOffset, pooled.data.byteLength),
    Buffer.from(here.data.buffer, here.data.byteOffset, here.data.byteLength), `${name}: identical float32 bits`);
}

test('decoding threads: the same tensors as imageToTensor on this thread, bit for bit', async () => {
  assert.ok(decodeWorkers() >= 1);
  const presets = ['torch', 'tf', 'caffe', 'raw'] as const;
  const cases: Case[] = [
    { name: 'rot6.jpg', bytes: rotated(jpeg(61, 37)), input: spec(24, 24), preprocess: presetPreprocessing('torch', [24, 24]) },
    { name: 'q50.jpg', bytes: jpeg(90, 70, 50), input: spec(64, 64, 3, 'NHWC'), preprocess: presetPreprocessing('caffe', [64, 64], { resize: 80, crop: 72 }) },
    { name: 'grey.png', bytes: png(33, 29, 1), input: spec(16, 16), preprocess: presetPreprocessing('tf', [16, 16]) },
    { name: 'alpha.png', bytes: png(40, 44, 4), input: spec(20, 20, 3, 'NHWC'), preprocess: presetPreprocessing('raw', [20, 20], { fit: 'letterbox', padValue: 114 }) },
    { name: 'colour-into-grey.png', bytes: png(30, 30, 3), input: spec(28, 28, 1), preprocess: presetPreprocessing('unit', [28, 28]) },
  ];
  for (const c of cases) await assertSame(c);
  const photos = resolve(process.cwd(), '../shared/assets/images/imagenet-sample');
  if (!existsSync(photos)) {
    console.log(`# skipped the real photos: ${photos} is absent`);
    return;
  }
  const files = readdirSync(photos).filter((f) => f.endsWith('.JPEG')).slice(0, 12);
  await Promise.all(files.map((f, i) => assertSame({ name: f, bytes: readFileSync(join(photos, f)), input: spec(224, 224, 3, i % 2 ? 'NHWC' : 'NCHW'),
    preprocess: presetPreprocessing(presets[i % presets.length], [224, 224]) })));
});

test('decoding threads: the same errors, naming the file; too-large images stay ImageTooLargeError', async () => {
  const input = spec(16, 16);
  const errorOf = (run: () => unknown): Promise<Error> => Promise.resolve().then(run).then(() => { throw new Error('expected a failure'); }, (err: Error) => err);
  const torch = presetPreprocessing('torch', [16, 16]);
  const truncated = jpeg(64, 64).subarray(0, 300);
  const huge = png(8, 8, 3);
  huge.writeUInt32BE(9000, 16); // IHDR width and height: 81 megapixels
  huge.writeUInt32BE(9000, 20);
  const webp = Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8L\x18\x00\x00\x00', 'latin1');
  for (const [name, bytes] of [['cut.jpg', truncated], ['huge.png', huge], ['pic.webp', webp], ['empty.png', Buffer.alloc(0)]] as const) {
    const here = await errorOf(() => imageToTensor(Uint8Array.from(bytes), name, input, torch));
    const pooled = await errorOf(() => decodeImageTensor(Uint8Array.from(bytes), name, input, torch));
    assert.equal(pooled.message, here.message, name);
    assert.equal(pooled.constructor, here.constructor, `${name}: ${here.constructor.name}`);
    assert.ok(pooled.message.startsWith(`${name}: `), pooled.message);
  }
  const tooLarge = await errorOf(() => decodeImageTensor(Uint8Array.from(huge), 'huge.png', input, torch));
  assert.ok(tooLarge instanceof ImageTooLargeError);
});

test('decoding threads: a Buffer sharing its memory is copied, the others sharing it are left intact', async () => {
  const small = png(4, 4, 3);
  const pooled = Buffer.from(small); // small Buffers come from Node's shared pool
  const neighbour = Buffer.from('still here');
  const result = await decodeImageTensor(pooled, 'tiny.png', spec(4, 4), presetPreprocessing('raw', [4, 4]));
  assert.equal(result.data.length, 48);
  assert.deepEqual(pooled, small, 'the caller\'s bytes are untouched');
  assert.equal(neighbour.toString(), 'still here');
});
