// Preprocessing: exact pixel math per preset, layouts, geometry (resize + centre crop), colour handling, the guess.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { OctetError } from '../../src/common/errors';
import type { Layout, PreprocessPreset } from '../../src/common/report';
import type { InputSpec } from '../../src/engine/dataset';
import {
  decodeImage, guessPreset, imageToTensor, normalizationFor, pixelsToTensor, planGeometry, resizePixels, type Pixels,
} from '../../src/engine/preprocess';

function spec(height: number, width: number, channels = 3, layout: Layout = 'NCHW'): InputSpec {
  const shape = layout === 'NCHW' ? [1, channels, height, width] : [1, height, width, channels];
  return { name: 'x', layout, channels, height, width, shape };
}

/** An image of `width` x `height` whose pixel colour is `colourAt(x, y)`, encoded as PNG (lossless). */
async function png(width: number, height: number, colourAt: (x: number, y: number) => number[], channels: 1 | 3 | 4 = 3): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const colour = colourAt(x, y);
      for (let c = 0; c < channels; c++) raw[(y * width + x) * channels + c] = colour[c];
    }
  }
  return sharp(raw, { raw: { width, height, channels } }).png().toBuffer();
}

const f32 = Math.fround;

test('normalizationFor: presets and their greyscale forms', () => {
  assert.deepEqual(normalizationFor('torch', 3), { bgr: false, divisor: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
  const torchGrey = normalizationFor('torch', 1);
  assert.ok(Math.abs(torchGrey.mean[0] - 0.449) < 1e-12 && Math.abs(torchGrey.std[0] - 0.226) < 1e-12);
  assert.deepEqual(normalizationFor('caffe', 3), { bgr: true, divisor: 1, mean: [103.939, 116.779, 123.68], std: [1, 1, 1] });
  const caffeGrey = normalizationFor('caffe', 1);
  assert.equal(caffeGrey.bgr, false);
  assert.ok(Math.abs(caffeGrey.mean[0] - (103.939 + 116.779 + 123.68) / 3) < 1e-9);
  assert.deepEqual(normalizationFor('tf', 3), { bgr: false, divisor: 127.5, mean: [1, 1, 1], std: [1, 1, 1] });
  assert.deepEqual(normalizationFor('unit', 1), { bgr: false, divisor: 255, mean: [0], std: [1] });
  assert.deepEqual(normalizationFor('raw', 3), normalizationFor('none', 3));
});

test('pixelsToTensor: exact values for every preset, NCHW and NHWC order', () => {
  // 2x1 image: pixel 0 = (10, 20, 30), pixel 1 = (200, 100, 0).
  const pixels: Pixels = { data: Uint8Array.from([10, 20, 30, 200, 100, 0]), width: 2, height: 1, channels: 3 };
  const expected = (preset: PreprocessPreset, p: number, c: number): number => {
    const [r, g, b] = p === 0 ? [10, 20, 30] : [200, 100, 0];
    const rgb = [r, g, b];
    switch (preset) {
      case 'torch': return f32((rgb[c] / 255 - [0.485, 0.456, 0.406][c]) / [0.229, 0.224, 0.225][c]);
      case 'tf': return f32(rgb[c] / 127.5 - 1);
      case 'caffe': return f32([b, g, r][c] - [103.939, 116.779, 123.68][c]);
      case 'unit': return f32(rgb[c] / 255);
      default: return rgb[c];
    }
  };
  for (const preset of ['torch', 'tf', 'caffe', 'unit', 'raw', 'none'] as const) {
    const nchw = pixelsToTensor(pixels, spec(1, 2, 3, 'NCHW'), preset).data;
    const nhwc = pixelsToTensor(pixels, spec(1, 2, 3, 'NHWC'), preset).data;
    for (let p = 0; p < 2; p++) {
      for (let c = 0; c < 3; c++) {
        assert.equal(nchw[c * 2 + p], expected(preset, p, c), `${preset} NCHW p${p} c${c}`);
        assert.equal(nhwc[p * 3 + c], expected(preset, p, c), `${preset} NHWC p${p} c${c}`);
      }
    }
  }
});

test('pixelsToTensor: colour into a grey model uses PIL luma and reports it; grey stays exact', () => {
  const colour: Pixels = { data: Uint8Array.from([255, 0, 0, 0, 255, 0, 0, 0, 255, 7, 7, 7]), width: 4, height: 1, channels: 3 };
  const out = pixelsToTensor(colour, spec(1, 4, 1), 'raw');
  assert.deepEqual(Array.from(out.data), [76, 150, 29, 7]); // round(0.299*255), round(0.587*255), round(0.114*255)
  assert.equal(out.convertedToGrey, true);
  const greyRgb: Pixels = { data: Uint8Array.from([0, 0, 0, 128, 128, 128, 255, 255, 255]), width: 3, height: 1, channels: 3 };
  const grey = pixelsToTensor(greyRgb, spec(1, 3, 1), 'torch');
  assert.equal(grey.convertedToGrey, false);
  assert.deepEqual(Array.from(grey.data), [0, 128, 255].map((v) => f32((v / 255 - 0.449) / 0.226)));
  // One grey channel into a 3-channel model is replicated.
  const single: Pixels = { data: Uint8Array.from([50]), width: 1, height: 1, channels: 1 };
  assert.deepEqual(Array.from(pixelsToTensor(single, spec(1, 1, 3), 'caffe').data), [f32(50 - 103.939), f32(50 - 116.779), f32(50 - 123.68)]);
});

test('pixelsToTensor: refuses inputs that are not 1 or 3 channels', () => {
  const pixels: Pixels = { data: new Uint8Array(3), width: 1, height: 1, channels: 3 };
  assert.throws(() => pixelsToTensor(pixels, spec(1, 1, 4), 'raw'), (err: unknown) => err instanceof OctetError && /4 channels/.test(err.message));
});

test('planGeometry: shorter side to crop/0.875 (floor on the long side), centre crop with half-to-even offsets', () => {
  const model = spec(224, 224);
  assert.deepEqual(planGeometry(500, 375, model, { preset: 'torch' }),
    { resizeWidth: 341, resizeHeight: 256, cropLeft: 58, cropTop: 16, cropWidth: 224, cropHeight: 224, finalResize: false });
  assert.deepEqual(planGeometry(375, 500, model, { preset: 'torch' }),
    { resizeWidth: 256, resizeHeight: 341, cropLeft: 16, cropTop: 58, cropWidth: 224, cropHeight: 224, finalResize: false });
  // Small inputs: plain resize, no crop.
  assert.deepEqual(planGeometry(500, 375, spec(32, 32), { preset: 'torch' }),
    { resizeWidth: 32, resizeHeight: 32, cropLeft: 0, cropTop: 0, cropWidth: 32, cropHeight: 32, finalResize: false });
  // Overrides: resize 300, crop 200 (then resized to the model's 224).
  assert.deepEqual(planGeometry(400, 300, model, { preset: 'torch', resize: 300, crop: 200 }),
    { resizeWidth: 400, resizeHeight: 300, cropLeft: 100, cropTop: 50, cropWidth: 200, cropHeight: 200, finalResize: true });
  // crop alone sets the resize: round(200 / 0.875) = 229.
  assert.equal(planGeometry(300, 300, model, { preset: 'torch', crop: 200 }).resizeWidth, 229);
  assert.throws(() => planGeometry(300, 300, model, { preset: 'torch', resize: 200 }), (err: unknown) => err instanceof OctetError && err.subject === 'resize');
  assert.throws(() => planGeometry(300, 300, model, { preset: 'torch', crop: 0 }), (err: unknown) => err instanceof OctetError && err.subject === 'crop');
});

test('decodeImage/imageToTensor: a solid colour gives exactly (value - mean) in BGR order with caffe', async () => {
  const image = await png(300, 200, () => [255, 128, 0]);
  for (const layout of ['NCHW', 'NHWC'] as const) {
    const input = spec(224, 224, 3, layout);
    const { data, convertedToGrey } = await imageToTensor(image, 'solid.png', input, { preset: 'caffe' });
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
    const { data } = await imageToTensor(image, 'quadrants.png', input, { preset: 'raw' });
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
  const cropped = await decodeImage(image, 'bands.png', spec(64, 64), { preset: 'raw' });
  assert.equal(cropped.width, 64);
  assert.equal(cropped.height, 64);
  for (let p = 0; p < 64 * 64; p++) {
    const px = Array.from(cropped.data.subarray(p * 3, p * 3 + 3));
    if (px.join() !== '0,255,0') assert.fail(`pixel ${p} is ${px}, expected pure green from the centre band`);
  }
  const whole = await decodeImage(image, 'bands.png', spec(16, 32), { preset: 'raw' }); // < 64 px: plain resize
  assert.deepEqual(Array.from(whole.data.subarray(0, 3)), [255, 0, 0]);
  assert.deepEqual(Array.from(whole.data.subarray((32 * 16 - 1) * 3)), [0, 0, 255]);
});

test('decodeImage: a crop override different from the model size is resized to the model size', async () => {
  const image = await png(100, 100, () => [9, 99, 199]);
  const pixels = await decodeImage(image, 'c.png', spec(64, 64), { preset: 'raw', resize: 90, crop: 80 });
  assert.equal(pixels.width, 64);
  assert.equal(pixels.height, 64);
  assert.deepEqual(Array.from(pixels.data.subarray(0, 3)), [9, 99, 199]);
});

test('decodeImage: EXIF orientation is applied', async () => {
  // Stored 40x20 with red on the left, blue on the right; orientation 6 = display rotated 90 degrees clockwise,
  // so the displayed image is 20x40 with red on top.
  const raw = await png(40, 20, (x) => (x < 20 ? [255, 0, 0] : [0, 0, 255]));
  const jpeg = await sharp(raw).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  const pixels = await decodeImage(jpeg, 'rotated.jpg', spec(40, 20), { preset: 'raw' });
  const top = Array.from(pixels.data.subarray((2 * 20 + 10) * 3, (2 * 20 + 10) * 3 + 3));
  const bottom = Array.from(pixels.data.subarray((37 * 20 + 10) * 3, (37 * 20 + 10) * 3 + 3));
  assert.ok(top[0] > 200 && top[2] < 50, `top should be red, got ${top}`);
  assert.ok(bottom[2] > 200 && bottom[0] < 50, `bottom should be blue, got ${bottom}`);
});

test('decodeImage: alpha is dropped, grey and 16-bit sources come out as 8-bit RGB', async () => {
  const rgba = await png(8, 8, () => [10, 20, 30, 0], 4);
  const fromRgba = await decodeImage(rgba, 'a.png', spec(8, 8), { preset: 'raw' });
  assert.equal(fromRgba.channels, 3);
  assert.deepEqual(Array.from(fromRgba.data.subarray(0, 3)), [10, 20, 30]);

  const grey = await png(8, 8, () => [77], 1);
  const fromGrey = await imageToTensor(grey, 'g.png', spec(8, 8), { preset: 'raw' });
  assert.deepEqual(Array.from(fromGrey.data.subarray(0, 1)), [77]);
  assert.equal(fromGrey.data[64], 77);
  assert.equal(fromGrey.data[128], 77);

  const sixteen = await sharp(new Uint16Array(8 * 8 * 3).fill(65535), { raw: { width: 8, height: 8, channels: 3 } })
    .toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(sixteen).metadata()).depth, 'ushort');
  const from16 = await decodeImage(sixteen, 's.png', spec(8, 8), { preset: 'raw' });
  assert.equal(from16.data.length, 8 * 8 * 3);
  assert.deepEqual(Array.from(from16.data.subarray(0, 3)), [255, 255, 255]);
});

test('imageToTensor: a grey model fed a colour image converts it and says so', async () => {
  const image = await png(28, 28, () => [255, 0, 0]);
  const { data, convertedToGrey } = await imageToTensor(image, 'red.png', spec(28, 28, 1), { preset: 'raw' });
  assert.equal(convertedToGrey, true);
  assert.equal(data.length, 28 * 28);
  assert.equal(data[0], 76);
});

test('resizePixels: grey pixels at the model size pass through; other sizes are resized', async () => {
  const digit: Pixels = { data: new Uint8Array(28 * 28).fill(200), width: 28, height: 28, channels: 1 };
  assert.equal(await resizePixels(digit, spec(28, 28, 1), { preset: 'raw' }), digit);
  const bigger = await resizePixels(digit, spec(32, 32, 1), { preset: 'raw' });
  assert.equal(bigger.width, 32);
  assert.equal(bigger.channels, 1);
  assert.ok(bigger.data.every((v) => v === 200));
});

test('decodeImage: corrupt data is an OctetError naming the image and sharp\'s cause', async () => {
  const good = await sharp(await png(64, 64, (x, y) => [x * 4, y * 4, 0])).jpeg().toBuffer();
  const truncated = good.subarray(0, Math.floor(good.length / 2));
  for (const bytes of [Buffer.from('not an image at all'), truncated]) {
    await assert.rejects(decodeImage(bytes, '/data/broken.jpg', spec(32, 32), { preset: 'raw' }),
      (err: unknown) => err instanceof OctetError && err.subject === '/data/broken.jpg' && /cannot decode image: \S/.test(err.reason));
  }
});

test('guessPreset: documented heuristics', () => {
  const grey28 = spec(28, 28, 1);
  const rgb224 = spec(224, 224);
  assert.equal(guessPreset(grey28, { producer: 'CNTK' }).preset, 'raw');
  assert.equal(guessPreset(grey28, { producer: 'pytorch' }).preset, 'unit');
  assert.equal(guessPreset(rgb224, { producer: 'tfjs_layers_to_onnx.py' }).preset, 'tf');
  assert.equal(guessPreset(rgb224, { producer: 'tf2onnx', modelName: 'resnet50_keras.onnx' }).preset, 'caffe');
  assert.equal(guessPreset(rgb224, { producer: 'tf2onnx', modelName: 'resnet50v2.onnx' }).preset, 'tf');
  assert.equal(guessPreset(rgb224, { producer: 'pytorch' }).preset, 'torch');
  assert.equal(guessPreset(spec(32, 32), {}).preset, 'torch');
  const fromMetadata = guessPreset(rgb224, { producer: 'pytorch', metadata: { 'octet.preprocess': 'caffe' } });
  assert.equal(fromMetadata.preset, 'caffe');
  assert.match(fromMetadata.reason, /metadata/);
  assert.match(guessPreset(rgb224, { producer: 'pytorch' }).reason, /^guess/);
});
