// Preprocessing: exact pixel math per preset and for custom channel order/mean/std, layouts, geometry of every fit
// (crop, stretch, letterbox, pad-right, sizes of their own) with exact sizes and padding values, colour handling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { OctetError } from '../../src/common/errors';
import type { ImageFit, Layout, Preprocessing } from '../../src/common/report';
import type { InputSpec } from '../../src/data/dataset';
import type { Pixels } from '../../src/data/image-decode';
import { GeometryPlan, planGeometry, resizePixels } from '../../src/data/image-geometry';
import { decodeImage, imageToTensor, pixelsToSample, pixelsToTensor } from '../../src/data/preprocess';
import { expandPreset, PRESET_NAMES, presetOf, type PresetName } from '../../src/data/preprocessing';
import { presetPreprocessing } from '../fixtures/models';

function spec(height: number, width: number, channels = 3, layout: Layout = 'NCHW'): InputSpec {
  const shape = layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels];
  return { name: 'x', layout, channels, height, width, shape, modelDims: shape.slice(1) };
}

/** A preset at height x width (fit crop ≥ 64 px, else stretch), with `extra` fields over it. */
function prep(preset: PresetName, height: number, width: number, extra: Partial<Preprocessing> = {}): Preprocessing {
  return presetPreprocessing(preset, [height, width], extra);
}

/** A preset at the input's size, with `extra` fields over it. */
function prepFor(input: InputSpec, preset: PresetName, extra: Partial<Preprocessing> = {}): Preprocessing {
  return prep(preset, input.height, input.width, extra);
}

/** `width` x `height` pixels of `channels` interleaved, pixel colour `colourAt(x, y)`. */
function raster(width: number, height: number, colourAt: (x: number, y: number) => number[], channels: number): Buffer {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = colourAt(x, y);
      for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = colour[c];
    }
  }
  return raw;
}

const PNG_COLOUR_TYPE = { 1: 0, 3: 2, 4: 6 } as const; // grey, RGB, RGBA

/** An image of `width` x `height` whose pixel colour is `colourAt(x, y)`, encoded as PNG (lossless). */
async function png(width: number, height: number, colourAt: (x: number, y: number) => number[], channels: 1 | 3 | 4 = 3): Promise<Buffer> {
  const image = new PNG({ width, height });
  image.data = raster(width, height, colourAt, channels);
  const colorType = PNG_COLOUR_TYPE[channels];
  return PNG.sync.write(image, { colorType, inputColorType: colorType, inputHasAlpha: channels === 4 });
}

/** The same as a JPEG (jpeg-js: 4:4:4, JFIF). */
function jpeg(width: number, height: number, colourAt: (x: number, y: number) => number[], quality = 100): Buffer {
  const rgba = raster(width, height, (x, y) => [...colourAt(x, y).slice(0, 3), 255], 4);
  return encodeJpeg({ width, height, data: rgba }, quality).data;
}

/** `jpegBytes` with an APP1 Exif segment (TIFF header in either byte order) whose IFD0 holds one Orientation tag. */
function withOrientation(jpegBytes: Buffer, orientation: number, littleEndian = false): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  const u16 = (value: number, at: number): number => (littleEndian ? tiff.writeUInt16LE(value, at) : tiff.writeUInt16BE(value, at));
  const u32 = (value: number, at: number): number => (littleEndian ? tiff.writeUInt32LE(value, at) : tiff.writeUInt32BE(value, at));
  tiff.write(littleEndian ? 'II' : 'MM', 0, 'latin1');
  u16(42, 2);
  u32(8, 4); // IFD0 right after the header
  u16(1, 8); // one entry
  u16(0x0112, 10); // Orientation
  u16(3, 12); // SHORT
  u32(1, 14); // count
  u16(orientation, 18); // value, left-justified in the 4-byte field
  const body = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const segment = Buffer.alloc(4);
  segment.writeUInt16BE(0xffe1, 0);
  segment.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpegBytes.subarray(0, 2), segment, body, jpegBytes.subarray(2)]);
}

/** The CRC-32 PNG chunks carry. */
function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** The PNG with a chunk inserted right after IHDR. */
function withChunk(pngBytes: Buffer, type: string, data: Buffer): Buffer {
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write(type, 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const afterIhdr = 8 + 12 + pngBytes.readUInt32BE(8);
  return Buffer.concat([pngBytes.subarray(0, afterIhdr), chunk, pngBytes.subarray(afterIhdr)]);
}

/** A rolling hash of pixel bytes (h = h * 31 + v, 32 bits), to compare with reference outputs compactly. */
function hash31(data: Uint8Array): number {
  let h = 0;
  for (const v of data) h = (Math.imul(h, 31) + v) >>> 0;
  return h;
}

/** A deterministic test pattern (the same formula made the Pillow references below). */
function pattern(width: number, height: number, channels: 1 | 3): Pixels {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0, i = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) data[i++] = (x * 7 + y * 13 + c * 101 + ((x * y) % 17) * 5) & 255;
    }
  }
  return { data, width, height, channels };
}

const f32 = Math.fround;

test('presets are pixel-unit shorthands: the same values as x/255 - mean/std; presetOf names them back', () => {
  const torch = expandPreset('torch');
  [0.485, 0.456, 0.406].forEach((m, c) => assert.ok(Math.abs(torch.mean[c] - m * 255) < 1e-9));
  [0.229, 0.224, 0.225].forEach((s, c) => assert.ok(Math.abs(torch.std[c] - s * 255) < 1e-9));
  assert.deepEqual(expandPreset('tf'), { channelOrder: 'rgb', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] });
  assert.deepEqual(expandPreset('caffe'), { channelOrder: 'bgr', mean: [103.939, 116.779, 123.68], std: [1, 1, 1] });
  assert.deepEqual(expandPreset('unit'), { channelOrder: 'rgb', mean: [0, 0, 0], std: [255, 255, 255] });
  for (const name of PRESET_NAMES) assert.equal(presetOf(expandPreset(name)), name);
  assert.equal(presetOf({ ...expandPreset('tf'), channelOrder: 'bgr' }), 'custom');
  const copy = expandPreset('torch');
  copy.mean[0] = 0;
  assert.equal(expandPreset('torch').mean[0], 123.675, 'expandPreset hands out copies');
});

test('pixelsToTensor: exact values for every preset, NCHW and NHWC order', () => {
  // 2x1 image: pixel 0 = (10, 20, 30), pixel 1 = (200, 100, 0).
  const pixels: Pixels = { data: Uint8Array.from([10, 20, 30, 200, 100, 0]), width: 2, height: 1, channels: 3 };
  const expected = (preset: PresetName, p: number, c: number): number => {
    const [r, g, b] = p === 0 ? [10, 20, 30] : [200, 100, 0];
    const rgb = [r, g, b];
    switch (preset) {
      case 'torch': return f32((rgb[c] - [123.675, 116.28, 103.53][c]) / [58.395, 57.12, 57.375][c]);
      case 'tf': return f32((rgb[c] - 127.5) / 127.5);
      case 'caffe': return f32([b, g, r][c] - [103.939, 116.779, 123.68][c]);
      case 'unit': return f32(rgb[c] / 255);
      default: return rgb[c];
    }
  };
  for (const preset of PRESET_NAMES) {
    const nchw = pixelsToTensor(pixels, spec(1, 2, 3, 'NCHW'), prep(preset, 1, 2)).data;
    const nhwc = pixelsToTensor(pixels, spec(1, 2, 3, 'NHWC'), prep(preset, 1, 2)).data;
    for (let p = 0; p < 2; p++) {
      for (let c = 0; c < 3; c++) {
        assert.equal(nchw[c * 2 + p], expected(preset, p, c), `${preset} NCHW p${p} c${c}`);
        assert.equal(nhwc[p * 3 + c], expected(preset, p, c), `${preset} NHWC p${p} c${c}`);
      }
    }
  }
});

test('pixelsToTensor: custom per-channel mean/std after BGR order, hand-computed', () => {
  // Pixel (R, G, B) = (10, 20, 30), (250, 0, 128). BGR: model channel 0 = B, 1 = G, 2 = R; mean/std in that order.
  const pixels: Pixels = { data: Uint8Array.from([10, 20, 30, 250, 0, 128]), width: 2, height: 1, channels: 3 };
  const p = prep('raw', 1, 2, { channelOrder: 'bgr', mean: [10, 20, 30], std: [2, 4, 5] });
  const { data, shape } = pixelsToTensor(pixels, spec(1, 2), p);
  assert.deepEqual(shape, [3, 1, 2]);
  // B: (30-10)/2 = 10, (128-10)/2 = 59; G: (20-20)/4 = 0, (0-20)/4 = -5; R: (10-30)/5 = -4, (250-30)/5 = 44.
  assert.deepEqual(Array.from(data), [10, 59, 0, -5, -4, 44]);
  // PaddleOCR's (x/255 − 0.5)/0.5 is mean 127.5, std 127.5: 0 → −1, 255 → 1, BGR.
  const paddle = pixelsToTensor(pixels, spec(1, 2, 3, 'NHWC'), prep('raw', 1, 2, { channelOrder: 'bgr', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] }));
  assert.deepEqual(Array.from(paddle.data.subarray(3, 6)), [128, 0, 250].map((v) => f32((v - 127.5) / 127.5)));
});

test('pixelsToTensor: colour into a grey model uses PIL luma and reports it; grey stays exact', () => {
  const colour: Pixels = { data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 7, 7, 7]), width: 4, height: 1, channels: 3 };
  const out = pixelsToTensor(colour, spec(1, 4, 1), prep('raw', 1, 4));
  assert.deepEqual(Array.from(out.data), [76, 150, 29, 7]); // round(0.299*255), round(0.587*255), round(0.114*255)
  assert.equal(out.convertedToGrey, true);
  const greyRgb: Pixels = { data: Uint8Array.from([0, 0, 0, 128, 128, 128, 255, 255, 255]), width: 3, height: 1, channels: 3 };
  const grey = pixelsToTensor(greyRgb, spec(1, 3, 1), prep('torch', 1, 3));
  assert.equal(grey.convertedToGrey, false);
  // A 1-channel model takes the average mean and std.
  const [mean, std] = [(123.675 + 116.28 + 103.53) / 3, (58.395 + 57.12 + 57.375) / 3];
  assert.deepEqual(Array.from(grey.data), [0, 128, 255].map((v) => f32((v - mean) / std)));
  // One grey channel into a 3-channel model is replicated.
  const single: Pixels = { data: Uint8Array.from([50]), width: 1, height: 1, channels: 1 };
  assert.deepEqual(Array.from(pixelsToTensor(single, spec(1, 1, 3), prep('caffe', 1, 1)).data), [f32(50 - 103.939), f32(50 - 116.779), f32(50 - 123.68)]);
});

test('pixelsToTensor: refuses inputs that are not 1 or 3 channels', () => {
  const pixels: Pixels = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 };
  assert.throws(() => pixelsToTensor(pixels, spec(1, 1, 4), prep('raw', 1, 1)), (err: unknown) => err instanceof OctetError && /4 channels/.test(err.message));
});

/** The plan's geometry in one line: resize WxH, window, canvas, place. */
function geometry(plan: GeometryPlan): string {
  return `${plan.resizeWidth}x${plan.resizeHeight} window ${plan.cropLeft},${plan.cropTop} ${plan.cropWidth}x${plan.cropHeight}${plan.finalResize ? ' final' : ''}`
    + ` canvas ${plan.canvasWidth}x${plan.canvasHeight} at ${plan.placeLeft},${plan.placeTop}`;
}

test('planGeometry crop: shorter side to crop/0.875 (floor on the long side), centre crop with half-to-even offsets', () => {
  const torch224 = prep('torch', 224, 224);
  assert.equal(geometry(planGeometry(500, 375, torch224)), '341x256 window 58,16 224x224 canvas 224x224 at 0,0');
  assert.equal(geometry(planGeometry(375, 500, torch224)), '256x341 window 16,58 224x224 canvas 224x224 at 0,0');
  // Overrides: resize 300, crop 200 (then resized to the size, 224).
  assert.equal(geometry(planGeometry(400, 300, { ...torch224, resize: 300, crop: 200 })), '400x300 window 100,50 200x200 final canvas 224x224 at 0,0');
  // crop alone sets the resize: round(200 / 0.875) = 229.
  assert.equal(planGeometry(300, 300, { ...torch224, crop: 200 }).resizeWidth, 229);
  assert.throws(() => planGeometry(300, 300, { ...torch224, resize: 200 }), (err: unknown) => err instanceof OctetError && err.subject === '--resize');
  // A wide window (48x192) from a square image: the resize grows until it covers the window.
  assert.equal(geometry(planGeometry(100, 100, prep('torch', 48, 192, { fit: 'crop' }))), '192x192 window 0,72 192x48 canvas 192x48 at 0,0');
});

test('planGeometry stretch, letterbox, pad-right: sizes and offsets exact', () => {
  // Stretch: the whole image to the size.
  assert.equal(geometry(planGeometry(500, 375, prep('torch', 32, 32))), '32x32 window 0,0 32x32 canvas 32x32 at 0,0');
  // Letterbox 640x480 into 320x320: scale 0.5 → 320x240, centred at y = 40.
  assert.equal(geometry(planGeometry(640, 480, prep('raw', 320, 320, { fit: 'letterbox' }))), '320x240 window 0,0 320x240 canvas 320x320 at 0,40');
  // Letterbox 100x300 into 64x64: scale 64/300 → 21.33 → 21 wide, x = floor(43 / 2) = 21.
  assert.equal(geometry(planGeometry(100, 300, prep('raw', 64, 64, { fit: 'letterbox' }))), '21x64 window 0,0 21x64 canvas 64x64 at 21,0');
  // Pad-right 48x192: a 100x40 word → height 48, width ceil(48 * 100 / 40) = 120, at the left.
  assert.equal(geometry(planGeometry(100, 40, prep('raw', 48, 192, { fit: 'pad-right' }))), '120x48 window 0,0 120x48 canvas 192x48 at 0,0');
  // … a 1000x40 line is squeezed to the width.
  assert.equal(geometry(planGeometry(1000, 40, prep('raw', 48, 192, { fit: 'pad-right' }))), '192x48 window 0,0 192x48 canvas 192x48 at 0,0');
});

test('planGeometry with --size-multiple: each image its own size, longer side at most max-side, never upscaled', () => {
  const own = (fit: ImageFit) => prep('raw', 0, 0, { size: null, fit, sizeMultiple: 32, maxSide: 128 });
  // 300x200 → scale 128/300: 128 x 85.3; stretch rounds each side to 32: 128 x 96.
  assert.equal(geometry(planGeometry(300, 200, own('stretch'))), '128x96 window 0,0 128x96 canvas 128x96 at 0,0');
  // 50x70 is not upscaled: 50 → 64 (nearest multiple is 64), 70 → 64.
  assert.equal(geometry(planGeometry(50, 70, own('stretch'))), '64x64 window 0,0 64x64 canvas 64x64 at 0,0');
  // Letterbox and pad-right keep the exact ratio and pad up to the multiple: 128x85 on 128x96.
  assert.equal(geometry(planGeometry(300, 200, own('letterbox'))), '128x85 window 0,0 128x85 canvas 128x96 at 0,5');
  assert.equal(geometry(planGeometry(300, 200, own('pad-right'))), '128x85 window 0,0 128x85 canvas 128x96 at 0,0');
});

test('pixelsToSample: padding holds the pad value, normalized per channel; the image sits where the plan says', () => {
  // 4x2 solid (200, 100, 50) letterboxed into 4x4 (rows 1-2), pad value 10, BGR, mean [0, 10, 20], std [1, 2, 5].
  const pixels: Pixels = { data: new Uint8Array(4 * 2 * 3).map((_, i) => [200, 100, 50][i % 3]), width: 4, height: 2, channels: 3 };
  const p = prep('raw', 4, 4, { fit: 'letterbox', padValue: 10, channelOrder: 'bgr', mean: [0, 10, 20], std: [1, 2, 5] });
  const { data, shape } = pixelsToSample(pixels, spec(4, 4), p);
  assert.deepEqual(shape, [3, 4, 4]);
  const pad = [10, 0, -2]; // (10-0)/1, (10-10)/2, (10-20)/5
  const image = [50, 45, 36]; // B 50: 50/1; G 100: 90/2; R 200: 180/5
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < 4; y++) {
      const row = Array.from(data.subarray(c * 16 + y * 4, c * 16 + y * 4 + 4));
      assert.deepEqual(row, new Array(4).fill(y === 1 || y === 2 ? image[c] : pad[c]), `channel ${c} row ${y}`);
    }
  }
  // Pad-right, NHWC, grey model: the pad value uses the average mean/std.
  const word: Pixels = { data: Uint8Array.from([90, 90]), width: 2, height: 1, channels: 1 };
  const grey = pixelsToSample(word, spec(1, 4, 1, 'NHWC'), prep('raw', 1, 4, { fit: 'pad-right', padValue: 30, mean: [0, 0, 30], std: [1, 2, 3] }));
  assert.deepEqual(Array.from(grey.data), [f32(80 / 2), f32(80 / 2), f32(20 / 2), f32(20 / 2)]);
  // Own size: a 300x200 image at max side 128, multiple 32 (stretch) → [3, 96, 128].
  const big: Pixels = { data: new Uint8Array(300 * 200 * 3).fill(7), width: 300, height: 200, channels: 3 };
  const sample = pixelsToSample(big, spec(0, 0), prep('raw', 0, 0, { size: null, fit: 'stretch', sizeMultiple: 32, maxSide: 128 }));
  assert.deepEqual(sample.shape, [3, 96, 128]);
  assert.ok(sample.data.every((v) => v === 7));
});

test('decodeImage/imageToTensor: a solid colour gives exactly (value - mean) in BGR order with caffe', async () => {
  const image = await png(300, 200, () => [255, 128, 0]);
  for (const layout of ['NCHW', 'NHWC'] as const) {
    const input = spec(224, 224, 3, layout);
    const { data, convertedToGrey } = await imageToTensor(image, 'solid.png', input, prepFor(input, 'caffe'));
    assert.equal(convertedToGrey, false);
    assert.equal(data.length, 3 * 224 * 224);
    const want = [f32(0 - 103.939), f32(128 - 116.779), f32(255 - 123.68)]; // B, G, R
    for (let p = 0; p < 224 * 224; p++) {
      for (let c = 0; c < 3; c++) {
        const value = layout === 'NCHW' ? data[c * 224 * 224 + p] : data[p * 3 + c];
        if (value !== want[c]) assert.fail(`${layout}: pixel ${p} channel ${c} is ${value}, want ${want[c]}`);
      }
    }
  }
});

test('decodeImage: the centre crop takes the centre (quadrants land in the right corners, both layouts)', async () => {
  const colours = { tl: [255, 0, 0], tr: [0, 255, 0], bl: [0, 0, 255], br: [255, 255, 0] };
  const image = await png(256, 256, (x, y) => (y < 128 ? (x < 128 ? colours.tl : colours.tr) : x < 128 ? colours.bl : colours.br));
  for (const layout of ['NCHW', 'NHWC'] as const) {
    const input = spec(64, 64, 3, layout);
    const { data } = await imageToTensor(image, 'quadrants.png', input, prepFor(input, 'raw'));
    const at = (x: number, y: number): number[] => [0, 1, 2].map((c) => (layout === 'NCHW' ? data[c * 64 * 64 + y * 64 + x] : data[(y * 64 + x) * 3 + c]));
    assert.deepEqual(at(0, 0), colours.tl, layout);
    assert.deepEqual(at(63, 0), colours.tr, layout);
    assert.deepEqual(at(0, 63), colours.bl, layout);
    assert.deepEqual(at(63, 63), colours.br, layout);
  }
});

test('decodeImage: the crop drops the borders of a wide image; a small model resizes the whole image', async () => {
  // 200x100: red | green (middle 100 columns) | blue. Shorter side 100 -> 73, width 146, crop 64 at x=41: all green.
  const image = await png(200, 100, (x) => (x < 50 ? [255, 0, 0] : x < 150 ? [0, 255, 0] : [0, 0, 255]));
  const cropped = await decodeImage(image, 'bands.png', prepFor(spec(64, 64), 'raw'));
  assert.equal(cropped.width, 64);
  assert.equal(cropped.height, 64);
  for (let p = 0; p < 64 * 64; p++) {
    const px = Array.from(cropped.data.subarray(p * 3, p * 3 + 3));
    if (px.join() !== '0,255,0') assert.fail(`pixel ${p} is ${px}, expected pure green from the centre band`);
  }
  const whole = await decodeImage(image, 'bands.png', prepFor(spec(16, 32), 'raw')); // < 64 px: plain resize
  assert.deepEqual(Array.from(whole.data.subarray(0, 3)), [255, 0, 0]);
  assert.deepEqual(Array.from(whole.data.subarray((32 * 16 - 1) * 3)), [0, 0, 255]);
});

test('decodeImage: a crop override different from the model size is resized to the model size', async () => {
  const image = await png(100, 100, () => [9, 99, 199]);
  const pixels = await decodeImage(image, 'c.png', prepFor(spec(64, 64), 'raw', { resize: 90, crop: 80 }));
  assert.equal(pixels.width, 64);
  assert.equal(pixels.height, 64);
  assert.deepEqual(Array.from(pixels.data.subarray(0, 3)), [9, 99, 199]);
});

test('decodeImage: EXIF orientation is applied (all eight, both TIFF byte orders)', async () => {
  // Stored 48x32 in quadrants of 24x16: TL red, TR green, BL blue, BR white.
  const quadrants = { TL: [255, 0, 0], TR: [0, 255, 0], BL: [0, 0, 255], BR: [255, 255, 255] };
  const stored = jpeg(48, 32, (x, y) => (y < 16 ? (x < 24 ? quadrants.TL : quadrants.TR) : x < 24 ? quadrants.BL : quadrants.BR));
  // Which stored quadrant shows at the displayed TL, TR, BL, BR (EXIF 2.3, tag 0x0112).
  const shown: Record<number, (keyof typeof quadrants)[]> = {
    1: ['TL', 'TR', 'BL', 'BR'], 2: ['TR', 'TL', 'BR', 'BL'], 3: ['BR', 'BL', 'TR', 'TL'], 4: ['BL', 'BR', 'TL', 'TR'],
    5: ['TL', 'BL', 'TR', 'BR'], 6: ['BL', 'TL', 'BR', 'TR'], 7: ['BR', 'TR', 'BL', 'TL'], 8: ['TR', 'BR', 'TL', 'BL'],
  };
  for (const littleEndian of [false, true]) {
    for (let orientation = 1; orientation <= 8; orientation++) {
      const [width, height] = orientation >= 5 ? [32, 48] : [48, 32];
      const pixels = decodeImage(withOrientation(stored, orientation, littleEndian), 'o.jpg', prep('raw', height, width, { fit: 'stretch' }));
      assert.equal(pixels.width, width);
      assert.equal(pixels.height, height);
      const at = (x: number, y: number): number[] => Array.from(pixels.data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
      const corners = [at(4, 4), at(width - 5, 4), at(4, height - 5), at(width - 5, height - 5)];
      corners.forEach((got, k) => {
        const want = quadrants[shown[orientation][k]];
        assert.ok(got.every((v, c) => Math.abs(v - want[c]) <= 8), `orientation ${orientation}${littleEndian ? ' (II)' : ''} corner ${k}: got ${got}, want ${want}`);
      });
    }
  }
});

test('decodeImage: a 4:2:0 JPEG decodes exactly as Pillow (libjpeg-turbo) decodes it', async () => {
  // 24x16, quality 92, 4:2:0, saved by Pillow; expected = Pillow's (libjpeg-turbo's) RGB decode of it.
  const file = Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAQABgDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwBPh1+ytr3jrSJNa0u80m2hhuGtil3JIrlgqsSAsbDGHHfsa0te/YM8capqEV1b634YVEhEZD3FwDkMx7Qn1r6C0HwZrmmQ/ZtN1G+tIWbeY4J3jUtgDOFIGcAc+wqh4s0nxnaatDHD4q1qFDbKxVb+VQTubnG72r8D8P8Ai7ivFcT2yLHU6U3GdnOnzJRsrp66vzPsvGLxMpUcjqVM0m50OePux0le+mp8t+Nv2Wte+GR05dbutLu/7R83y/sLyPt8vZndvRcZ3jGM9D0or6OuPD1/qvlHXdYvL8w58v7TcPLszjONxOM4Gcegor+xsi4xznD5fTpZ3XjVxKvzThFxi/ebjaPS0bJ92mz+F848SsNWxk55cpRpaWUndrRXu/W79D//2Q==', 'base64');
  const expected = Buffer.from('3AAt2QEq3Asq1g8i0xEc0RIZ2hgj1xUe2BwdwyE2ojB1UBJ/KiW1GCzJGiu/HzK/GzC9HTjDGTjEGDzGHT3MG0HKFkHBGUrD4g8w3Q4s2hMq2hop2B0k2iEm4SQq4CYp3CYiyC07pTx3VR6DLy64HDXNHTbEHzvCIEHGGj/DGkLIIUvRG0bJIk/OIFXJG1PC3h8m3B8m3SUt1yQq2Cor2Swo3C0o3DAk3jklykA9qEt3Wi6FMjy4H0XOIEnJH03FGk7EIFjPG1XQGlXNH13MHV7EF1y7IGXC2S0h2TEk3z0u0zgi10Ik1EId2kYg1kcb00wVwlEpo1laXz9kO0qPKlOlL1mjLl2hJFubJV+fK2SrJWSxHmi9GGq+H3HDIXTE3UMr1UIgx0QQzFYOx1kAxFwAxV4Bx2UEymsBvG4MpHIrcVwtUWFGQ2RTRmZRRWVNTHBWS3NZRW1VQXd5JHaoIYHNHX3KHn/M1Eki1lUe1WgT/8dT/9RF/+FJ/9VE/9tJ/9hA/9tG/+Ve6uBk2+l61e+E3vGG3u+F2OuA0+l91vCDw/KuLoWYG4fHIo/QII3Q21wn1WQYxnAA/9o8/+Eh/+of/+Un/+gs/+km/+gk/+8v8e4v5/M54vE86fE86u067fBB7PE/5vA5z/Z1N5OGI5nJIJjKIZvO2mck13IazIEB/944/+Yg/uUW//Aq++oo/+4l9+of9fAl6/Er4/c23/U45fU86PQ84/E65fU84/c2xfZpPaiMIafEIajGJq3N2HEk3oAm0IcW/9hN/+A//+M6/947/+lF/+U4+ek88/FR3OxY0PZvyPl7xPJ2x/h7xPl3xfp2xPpxrvyWNLWZILnBIrnCJLvE4Ikq4pMuzowc0pof0JwSzZ8M0KYWx6EOy60Pv7EaqLEweZ0zYaJOV6piU6plVK9pULJlUbRiU7JhSbp8J7+mHsnBH8jBI8rD2ZQd2pkj158o058l3Kcl2Kce4bAn2a8f1LUcyMAxq8JWaadcRauDNrigMrylLb+oLMKlNMusOcmuLMStKtfDGtPBGtXEI93P3qoj2akj2Kwp3LIs27Am27Aj27Eh4Lsl1Lobx8k4p9BoYbd2N8CmJczFIdDLGtLKGtTGG9XHIdXKJdvOIODHIOfIIOjMH+rN2rUm3Lkn2bsn2L8k1b0d4com38Yk4csn3dElyto8pOFsWch7L9SsGd3JG+HQGOPNHerLGefDG+fGJfHOG+zEI/bLH/bMGvHH28Em3MUn3M0o2c8i2dIh3tcm3tQn29Qk3t4mx+Q8oe5uVdV+LeWzFuvLGvDOGPDLGfDGHvXJIfrNH/vLHPrHG/vFHf3HIv/M5NIq39Ik3dYj29sh2uAk2d8l3+Mu4ucy3OcnyvFApv50WeWCM/W4HfvMI/3JIPvFIvzKJP7MH/zJGfzFGv/NFv/IF//BHP/A5dgp6uEu4+Im5Osr3uoo3u4s4+024+814/Ux0f5JrP98WOmAMPe0Hf3HI//EIv7BIv3HIP3IH/zHHv/KD//HEv/IGP/AG/+8', 'base64');
  const pixels = await decodeImage(file, 'golden.jpg', prepFor(spec(16, 24), 'raw'));
  // libjpeg-turbo decodes it (jpeg-js, the fallback, differs by the IDCT's rounding: up to 3).
  assert.deepEqual(Buffer.from(pixels.data), expected);
});

test('decodeImage: a JPEG libjpeg-turbo only warns about (stray bytes before a marker) still decodes, through jpeg-js', async () => {
  const clean = jpeg(32, 24, (x, y) => [x * 8, y * 10, 128], 90);
  const eoi = clean.length - 2;
  const stray = Buffer.concat([clean.subarray(0, eoi), Buffer.from([0x12, 0x34, 0x56]), clean.subarray(eoi)]);
  const pixels = await decodeImage(stray, 'stray.jpg', prepFor(spec(24, 32), 'raw'));
  const reference = await decodeImage(clean, 'clean.jpg', prepFor(spec(24, 32), 'raw'));
  assert.equal(pixels.data.length, reference.data.length);
  assert.ok(pixels.data.every((v, i) => Math.abs(v - reference.data[i]) <= 3), 'the same picture, up to the IDCT\'s rounding');
});

test('resizePixels: bilinear resampling is Pillow\'s, bit for bit (downscale, upscale, centre crop, grey)', async () => {
  // References from Pillow 9.4 Image.resize(..., BILINEAR) on the same pattern.
  const small = pattern(7, 5, 3);
  assert.deepEqual(Array.from((await resizePixels(small, prepFor(spec(4, 3), 'raw'))).data),
    [10, 111, 212, 28, 129, 211, 46, 147, 184, 31, 132, 210, 61, 162, 118, 91, 192, 37, 51, 152, 134, 93, 194, 46, 118, 219, 64, 71, 172, 109, 122, 178, 68, 124, 183, 70]);
  assert.equal(hash31((await resizePixels(small, prepFor(spec(9, 11), 'raw'))).data), 1246680596);
  // 500x375 -> shorter side 256 (341x256), centre crop 224 at (58, 16): Pillow resize((341, 256)).crop((58, 16, 282, 240)).
  const photo = resizePixels(pattern(500, 375, 3), prep('raw', 224, 224));
  assert.equal(hash31(photo.data), 2186004647);
  const digit = pattern(28, 28, 1);
  assert.equal(hash31((await resizePixels(digit, prepFor(spec(32, 32, 1), 'raw'))).data), 3325659);
  assert.equal(hash31((await resizePixels(digit, prepFor(spec(20, 20, 1), 'raw'))).data), 2795019772);
});

test('decodeImage: alpha is dropped, grey and 16-bit sources come out as 8-bit RGB', async () => {
  const rgba = await png(8, 8, () => [10, 20, 30, 0], 4);
  const fromRgba = await decodeImage(rgba, 'a.png', prepFor(spec(8, 8), 'raw'));
  assert.equal(fromRgba.channels, 3);
  assert.deepEqual(Array.from(fromRgba.data.subarray(0, 3)), [10, 20, 30]);

  const grey = await png(8, 8, () => [77], 1);
  const fromGrey = await imageToTensor(grey, 'g.png', spec(8, 8), prepFor(spec(8, 8), 'raw'));
  assert.deepEqual(Array.from(fromGrey.data.subarray(0, 1)), [77]);
  assert.equal(fromGrey.data[64], 77);
  assert.equal(fromGrey.data[128], 77);

  // 16 bits per sample: values v -> round(v * 255 / 65535).
  const image16 = new PNG({ width: 8, height: 8 });
  image16.data = Buffer.from(Uint16Array.from({ length: 8 * 8 * 3 }, (_, i) => [65535, 40000, 257][i % 3]).buffer);
  const sixteen = PNG.sync.write(image16, { colorType: 2, inputColorType: 2, inputHasAlpha: false, bitDepth: 16 });
  assert.equal(sixteen[24], 16, 'IHDR bit depth');
  const from16 = await decodeImage(sixteen, 's.png', prepFor(spec(8, 8), 'raw'));
  assert.equal(from16.data.length, 8 * 8 * 3);
  assert.deepEqual(Array.from(from16.data.subarray(0, 3)), [255, 156, 1]);

  // A grey JPEG comes out as RGB too.
  const greyJpeg = jpeg(16, 16, () => [90, 90, 90]);
  const fromGreyJpeg = await decodeImage(greyJpeg, 'g.jpg', prepFor(spec(16, 16), 'raw'));
  assert.ok(Array.from(fromGreyJpeg.data.subarray(0, 3)).every((v) => Math.abs(v - 90) <= 1));
});

test('decodeImage: an RGB PNG with a transparent colour (tRNS) keeps that colour when alpha is dropped', async () => {
  const plain = await png(4, 4, (x) => (x < 2 ? [10, 20, 30] : [200, 100, 50]));
  const transparent = withChunk(plain, 'tRNS', Buffer.from([0, 10, 0, 20, 0, 30])); // (10, 20, 30) is transparent
  const pixels = await decodeImage(transparent, 't.png', prepFor(spec(4, 4), 'raw'));
  assert.deepEqual(Array.from(pixels.data.subarray(0, 3)), [10, 20, 30]);
  assert.deepEqual(Array.from(pixels.data.subarray(9, 12)), [200, 100, 50]);
});

test('imageToTensor: a grey model fed a colour image converts it and says so', async () => {
  const image = await png(28, 28, () => [255, 0, 0]);
  const { data, convertedToGrey } = await imageToTensor(image, 'red.png', spec(28, 28, 1), prepFor(spec(28, 28, 1), 'raw'));
  assert.equal(convertedToGrey, true);
  assert.equal(data.length, 28 * 28);
  assert.equal(data[0], 76);
});

test('resizePixels: grey pixels at the model size pass through; other sizes are resized', async () => {
  const digit: Pixels = { data: new Uint8Array(28 * 28).fill(200), width: 28, height: 28, channels: 1 };
  assert.equal(await resizePixels(digit, prepFor(spec(28, 28, 1), 'raw')), digit);
  const bigger = await resizePixels(digit, prepFor(spec(32, 32, 1), 'raw'));
  assert.equal(bigger.width, 32);
  assert.equal(bigger.channels, 1);
  assert.ok(bigger.data.every((v) => v === 200));
});

test('decodeImage: corrupt or truncated data is an OctetError naming the image and the cause', async () => {
  const goodJpeg = jpeg(64, 64, (x, y) => [x * 4, y * 4, 0], 90);
  const goodPng = await png(64, 64, (x, y) => [x * 4, y * 4, 0]);
  const cases: [Buffer, RegExp][] = [
    [Buffer.from('not an image at all'), /cannot decode image: not a JPEG or PNG file/],
    [Buffer.alloc(0), /cannot decode image: the file is empty/],
    [goodJpeg.subarray(0, Math.floor(goodJpeg.length / 2)), /cannot decode image \(corrupt, truncated or unsupported JPEG\): \S/],
    [goodJpeg.subarray(0, 3), /cannot decode image \(corrupt, truncated or unsupported JPEG\): \S/],
    [goodPng.subarray(0, Math.floor(goodPng.length / 2)), /cannot decode image \(corrupt, truncated or unsupported PNG\): the file ends early/],
  ];
  for (const [bytes, reason] of cases) {
    assert.throws(() => decodeImage(bytes, '/data/broken.jpg', prepFor(spec(32, 32), 'raw')),
      (err: unknown) => err instanceof OctetError && err.subject === '/data/broken.jpg' && reason.test(err.reason));
  }
});

test('decodeImage: other image formats are an OctetError naming the file: use JPEG or PNG', async () => {
  const headers: [string, Buffer][] = [
    ['GIF', Buffer.from('GIF89a\x10\x00\x10\x00\x00\x00\x00', 'latin1')],
    ['WebP', Buffer.from('RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00', 'latin1')],
    ['BMP', Buffer.from('BM\x46\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00', 'latin1')],
    ['TIFF', Buffer.from('II*\x00\x08\x00\x00\x00', 'latin1')],
    ['AVIF', Buffer.from('\x00\x00\x00\x1cftypavif\x00\x00\x00\x00', 'latin1')],
  ];
  for (const [format, bytes] of headers) {
    assert.throws(() => decodeImage(bytes, `/data/photo.${format.toLowerCase()}`, prepFor(spec(32, 32), 'raw')),
      (err: unknown) => err instanceof OctetError && err.subject === `/data/photo.${format.toLowerCase()}`
        && err.reason === `unsupported image format; use JPEG or PNG (this file is ${format})`);
  }
});
