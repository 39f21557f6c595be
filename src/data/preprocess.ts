// Image -> model input sample: decodeImage() decodes (image-decode) and resizes/crops as the preprocessing's fit says
// (image-geometry); pixelsToTensor() places the pixels in the sample (padding the rest), orders the channels (RGB/BGR,
// greyscale) and normalizes them, (pixel − mean[c]) / std[c]: pure pixel math, tested exactly. imageToTensor() is the
// whole way, a pure function of (bytes, name, input spec, preprocessing) — plain data in, so it can run in a worker.
import { InternalError, OctetError } from '../common/errors';
import type { Preprocessing } from '../common/report';
import type { InputSpec } from './dataset';
import { sampleShapeOf } from './dataset-common';
import { decodePixels, type Pixels } from './image-decode';
import { applyPlan, planGeometry } from './image-geometry';

/** One sample in the model's layout, its shape (no batch dim), and whether colour pixels were made grey. */
export interface ImageSample {
  data: Float32Array;
  shape: number[];
  convertedToGrey: boolean;
}

const average = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** Mean and std per model channel: the three given, or (1-channel model) their averages. */
function channelNormalization(p: Preprocessing, channels: number): { mean: number[]; std: number[] } {
  return channels === 1 ? { mean: [average(p.mean)], std: [average(p.std)] } : { mean: p.mean, std: p.std };
}

/**
 * Decodes an encoded JPEG or PNG to 8-bit RGB, EXIF orientation applied (JPEG), alpha dropped, 16-bit PNG rounded
 * to 8 bits, then resized and cropped as `p` says: the image part of the sample. Always 3 channels (grey sources are
 * replicated); pixelsToTensor makes grey. Other formats and corrupt files are OctetErrors naming `name` (the file).
 */
export function decodeImage(bytes: Uint8Array, name: string, p: Preprocessing): Pixels {
  const pixels = decodePixels(bytes, name);
  return applyPlan(pixels, planGeometry(pixels.width, pixels.height, p));
}

/** value lookup per (model channel, 8-bit pixel value): (v − mean) / std as float32, no per-pixel arithmetic. */
function lookupTable(mean: readonly number[], std: readonly number[]): Float32Array[] {
  return mean.map((m, c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v - m) / std[c];
    return table;
  });
}

/** ITU-R 601-2 luma in PIL's integer form (PIL `convert('L')`, torchvision Grayscale); exact for grey pixels. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/** Where the pixels go in the sample: a canvas of width x height, the pixels at (left, top). */
export interface Placement { width: number; height: number; left: number; top: number }

/**
 * 8-bit pixels -> one sample in the model's layout and channel order, normalized by `p`, the pixels at `place` on a
 * canvas whose other values are the pad value, normalized (default: the pixels fill the canvas). Grey pixels feed a
 * 3-channel model by replication; colour pixels feed a 1-channel model through luma (`convertedToGrey` tells the
 * caller, who warns).
 */
export function pixelsToTensor(pixels: Pixels, input: InputSpec, p: Preprocessing,
  place: Placement = { width: pixels.width, height: pixels.height, left: 0, top: 0 }): ImageSample {
  const { channels, layout } = input;
  if (channels !== 1 && channels !== 3) {
    throw new OctetError(`input '${input.name}'`, `has ${channels} channels; images can feed only 1- or 3-channel inputs`);
  }
  if (place.left < 0 || place.top < 0 || place.left + pixels.width > place.width || place.top + pixels.height > place.height) {
    throw new InternalError(`pixelsToTensor: ${pixels.width}x${pixels.height} pixels at (${place.left}, ${place.top}) overflow a ${place.width}x${place.height} sample`);
  }
  const { mean, std } = channelNormalization(p, channels);
  const tables = lookupTable(mean, std);
  const plane = place.height * place.width;
  const out = new Float32Array(plane * channels);
  const padded = pixels.width !== place.width || pixels.height !== place.height;
  // Where model channel c of canvas pixel q goes: q * step + c * stride.
  const step = layout === 'NCHW' ? 1 : channels;
  const stride = layout === 'NCHW' ? plane : 1;
  if (padded) {
    for (let c = 0; c < channels; c++) {
      const value = Math.fround((p.padValue - mean[c]) / std[c]);
      for (let q = 0; q < plane; q++) out[q * step + c * stride] = value;
    }
  }
  const src = pixels.data;
  const srcChannels = pixels.channels;
  let convertedToGrey = false;
  // Source channel feeding model channel 0, 1, 2 (grey sources feed all three).
  const [s0, s1, s2] = srcChannels === 1 ? [0, 0, 0] : p.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const [t0, t1, t2] = tables;
  for (let y = 0; y < pixels.height; y++) {
    let i = y * pixels.width * srcChannels;
    let o = ((place.top + y) * place.width + place.left) * step;
    for (let x = 0; x < pixels.width; x++, i += srcChannels, o += step) {
      if (channels === 1) {
        if (srcChannels === 1) {
          out[o] = t0[src[i]];
        } else {
          const r = src[i], g = src[i + 1], b = src[i + 2];
          if (r !== g || g !== b) convertedToGrey = true;
          out[o] = t0[luma(r, g, b)];
        }
        continue;
      }
      out[o] = t0[src[i + s0]];
      out[o + stride] = t1[src[i + s1]];
      out[o + 2 * stride] = t2[src[i + s2]];
    }
  }
  return { data: out, shape: sampleShapeOf(input, place.height, place.width), convertedToGrey };
}

/** Oriented source pixels -> one sample: geometry (resize, crop, place) then pixelsToTensor. */
export function pixelsToSample(pixels: Pixels, input: InputSpec, p: Preprocessing): ImageSample {
  const plan = planGeometry(pixels.width, pixels.height, p);
  return pixelsToTensor(applyPlan(pixels, plan), input, p,
    { width: plan.canvasWidth, height: plan.canvasHeight, left: plan.placeLeft, top: plan.placeTop });
}

/** Encoded image -> one normalized sample in model layout with its shape: pure, (bytes, name, input, preprocessing). */
export function imageToTensor(bytes: Uint8Array, name: string, input: InputSpec, p: Preprocessing): ImageSample {
  return pixelsToSample(decodePixels(bytes, name), input, p);
}
