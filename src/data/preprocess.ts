// Image -> model input tensor: decodeImage() decodes (image-decode) and resizes and crops to the model's H x W
// (image-geometry); pixelsToTensor() applies colour (RGB/BGR/greyscale) and the normalization presets, pure pixel
// math so it can be tested exactly; guessPreset() guesses the preset a model was trained with from its metadata.
import { InternalError, OctetError } from '../common/errors';
import type { PreprocessPreset } from '../common/report';
import type { InputSpec } from './dataset';
import { decodePixels, type Pixels } from './image-decode';
import { resizePixels } from './image-geometry';

export interface PreprocessOptions {
  preset: PreprocessPreset;
  /** Shorter-side target before the centre crop; null/undefined = round(crop / 0.875) (or plain resize for inputs < 64 px). */
  resize?: number | null;
  /** Square centre-crop size; null/undefined = the model's H x W. */
  crop?: number | null;
}

/** value = (pixel / divisor - mean[c]) / std[c], with mean/std in the model's channel order. */
export interface Normalization {
  /** True when the model's 3 channels are B, G, R. */
  bgr: boolean;
  divisor: number;
  mean: number[];
  std: number[];
}

const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];
/** Caffe means in B, G, R order. */
const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];

const average = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

/** The normalization a preset applies for a model with `channels` (1 = greyscale: single mean/std, the average). */
export function normalizationFor(preset: PreprocessPreset, channels: number): Normalization {
  const grey = channels === 1;
  const perChannel = (values: number[]): number[] => (grey ? [average(values)] : values);
  const constant = (value: number): number[] => new Array<number>(grey ? 1 : 3).fill(value);
  switch (preset) {
    case 'torch': return { bgr: false, divisor: 255, mean: perChannel(TORCH_MEAN), std: perChannel(TORCH_STD) };
    case 'tf': return { bgr: false, divisor: 127.5, mean: constant(1), std: constant(1) };
    case 'caffe': return { bgr: !grey, divisor: 1, mean: perChannel(CAFFE_MEAN_BGR), std: constant(1) };
    case 'unit': return { bgr: false, divisor: 255, mean: constant(0), std: constant(1) };
    // 'none' means "no normalization": on images that is the raw 0..255 values.
    case 'raw': case 'none': return { bgr: false, divisor: 1, mean: constant(0), std: constant(1) };
  }
}

/**
 * Decodes an encoded JPEG or PNG to 8-bit RGB, EXIF orientation applied (JPEG), alpha dropped, 16-bit PNG rounded
 * to 8 bits, then resized and cropped to the model's H x W. Always 3 channels (grey sources are replicated);
 * pixelsToTensor makes grey. Other formats and corrupt files are OctetErrors naming `name` (the file).
 */
export async function decodeImage(bytes: Uint8Array, name: string, input: InputSpec, options: PreprocessOptions): Promise<Pixels> {
  return resizePixels(decodePixels(bytes, name), input, options);
}

/** value lookup per (model channel, 8-bit pixel value): exact float32 of the preset formula, no per-pixel arithmetic. */
function lookupTable(norm: Normalization): Float32Array[] {
  return norm.mean.map((mean, c) => {
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = (v / norm.divisor - mean) / norm.std[c];
    return table;
  });
}

/** ITU-R 601-2 luma in PIL's integer form (PIL `convert('L')`, torchvision Grayscale); exact for grey pixels. */
function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

/**
 * 8-bit pixels of exactly the model's H x W -> one sample in the model's layout and channel order, normalized by
 * `preset`. Grey pixels feed a 3-channel model by replication; colour pixels feed a 1-channel model through luma
 * (`convertedToGrey` tells the caller, who warns).
 */
export function pixelsToTensor(pixels: Pixels, input: InputSpec, preset: PreprocessPreset): { data: Float32Array; convertedToGrey: boolean } {
  const { height, width, channels, layout } = input;
  if (channels !== 1 && channels !== 3) {
    throw new OctetError(`input '${input.name}'`, `has ${channels} channels; images can feed only 1- or 3-channel inputs`);
  }
  if (pixels.width !== width || pixels.height !== height) {
    throw new InternalError(`pixelsToTensor: got ${pixels.width}x${pixels.height} pixels for a ${width}x${height} input`);
  }
  const norm = normalizationFor(preset, channels);
  const tables = lookupTable(norm);
  const plane = height * width;
  const out = new Float32Array(plane * channels);
  const src = pixels.data;
  const srcChannels = pixels.channels;
  let convertedToGrey = false;
  if (channels === 1) {
    const table = tables[0];
    for (let p = 0; p < plane; p++) {
      if (srcChannels === 1) {
        out[p] = table[src[p]];
      } else {
        const r = src[p * 3], g = src[p * 3 + 1], b = src[p * 3 + 2];
        if (r !== g || g !== b) convertedToGrey = true;
        out[p] = table[luma(r, g, b)];
      }
    }
    return { data: out, convertedToGrey };
  }
  // Source channel feeding model channel 0, 1, 2 (grey sources feed all three).
  const [s0, s1, s2] = srcChannels === 1 ? [0, 0, 0] : norm.bgr ? [2, 1, 0] : [0, 1, 2];
  const [t0, t1, t2] = tables;
  // Where model channel c of pixel p goes: p * step + c * stride.
  const step = layout === 'NCHW' ? 1 : 3;
  const stride = layout === 'NCHW' ? plane : 1;
  for (let p = 0, i = 0, o = 0; p < plane; p++, i += srcChannels, o += step) {
    out[o] = t0[src[i + s0]];
    out[o + stride] = t1[src[i + s1]];
    out[o + 2 * stride] = t2[src[i + s2]];
  }
  return { data: out, convertedToGrey };
}

/** Encoded image -> one normalized sample in model layout (decodeImage + pixelsToTensor). */
export async function imageToTensor(bytes: Uint8Array, name: string, input: InputSpec, options: PreprocessOptions): Promise<{ data: Float32Array; convertedToGrey: boolean }> {
  const pixels = await decodeImage(bytes, name, input, options);
  return pixelsToTensor(pixels, input, options.preset);
}

export interface ModelHints {
  /** ModelProto.producer_name, e.g. "pytorch", "tf2onnx", "CNTK". */
  producer?: string;
  /** ModelProto.metadata_props. A key containing "preprocess" whose value is a preset name wins outright. */
  metadata?: Record<string, string>;
  inputName?: string;
  /** Model file or graph name, e.g. "resnet50_keras.onnx" (used to tell Keras ResNet/VGG, which want caffe). */
  modelName?: string;
}

const PRESET_NAMES: readonly PreprocessPreset[] = ['torch', 'tf', 'caffe', 'raw', 'unit', 'none'];
const TF_PRODUCER = /keras|tf2onnx|tensorflow|tfjs|onnx-tf|tflite/i;

/**
 * A GUESS at the preprocessing a model was trained with, from what the ONNX file says about itself. ONNX does not
 * record preprocessing, so this is a heuristic and the reason says why; users override it with --preprocess.
 *  - metadata naming a preset (key containing "preprocess") -> that preset;
 *  - 1-channel input of at most 32 px (MNIST-like): CNTK exports (ONNX model zoo MNIST) -> raw, otherwise -> unit;
 *  - Keras/TensorFlow producers -> tf, except ResNet/VGG by name -> caffe (keras.applications conventions);
 *  - anything else (PyTorch and unknown) -> torch.
 */
export function guessPreset(input: InputSpec, modelHints: ModelHints): { preset: PreprocessPreset; reason: string } {
  for (const [key, value] of Object.entries(modelHints.metadata ?? {})) {
    const named = value.trim().toLowerCase();
    if (/preprocess/i.test(key) && (PRESET_NAMES as readonly string[]).includes(named)) {
      return { preset: named as PreprocessPreset, reason: `model metadata ${key}=${value}` };
    }
  }
  const producer = modelHints.producer?.trim() ?? '';
  const producerText = producer ? `producer '${producer}'` : 'no producer recorded';
  const size = `${input.channels}x${input.height}x${input.width}`;
  if (input.channels === 1 && Math.max(input.height, input.width) <= 32) {
    if (/cntk/i.test(producer)) {
      return { preset: 'raw', reason: `guess: ${size} greyscale input and ${producerText} (ONNX model zoo MNIST takes 0..255)` };
    }
    return { preset: 'unit', reason: `guess: ${size} greyscale digit-sized input, ${producerText}; assuming x/255` };
  }
  if (TF_PRODUCER.test(producer)) {
    const name = modelHints.modelName ?? '';
    if (/resnet|vgg/i.test(name) && !/v2/i.test(name)) {
      return { preset: 'caffe', reason: `guess: ${producerText} and model name '${name}' (Keras ResNet/VGG use caffe BGR mean subtraction)` };
    }
    return { preset: 'tf', reason: `guess: ${producerText} (Keras/TensorFlow models usually take x/127.5-1)` };
  }
  return { preset: 'torch', reason: `guess: ${producerText}; assuming ImageNet mean/std normalization (torchvision)` };
}
