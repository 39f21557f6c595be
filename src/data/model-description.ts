// describeModel(): what Octet makes of a model from its summary alone (no weights, no ORT) — the image input (layout,
// channels, fixed and free dims), each output's kind, and a guess at the preprocessing it was trained with, with the
// reason. `quantize`, `eval`, `inspect` and the extension's prompts all ask this, so they say the same thing.
import { OctetError } from '../common/errors';
import type { ImageFit, Layout, OutputKind, Preprocessing } from '../common/report';
import type { ModelSummary, TensorSummary } from '../onnx/model-summary';
import { DataType } from '../onnx/proto';
import { outputKindOfShape } from './output-kind';
import { expandPreset, Normalization, PRESET_NAMES, PresetName, presetOf, PreprocessingGuess } from './preprocessing';

export interface DescribedInput {
  name: string;
  /** As declared: numbers where fixed, names or '?' where free. */
  dims: (number | string)[];
  layout: Layout;
  channels: number;
  /** Spatial dims the model fixes; null where it leaves them free. */
  height: number | null;
  width: number | null;
  /** Batch size the model fixes, or null (any). */
  fixedBatch: number | null;
}

export interface DescribedOutput { name: string; shape: (number | string)[] | null; kind: OutputKind }

export interface ModelDescription {
  /** The model file (errors name it). */
  label: string;
  /** The image input, or null when Octet cannot feed this model (see `problem`). */
  input: DescribedInput | null;
  problem: string | null;
  outputs: DescribedOutput[];
  /** The preprocessing the model was probably trained with, and why (null without an input). */
  guess: PreprocessingGuess | null;
}

export interface DescribeOptions {
  /** The model file, for errors and for names that tell a model's family (e.g. "resnet50_keras.onnx"). */
  label: string;
  layout?: Layout | null;
}

const fixed = (d: number | string | undefined): number | null => (typeof d === 'number' && d > 0 ? d : null);

function describeInput(inputs: TensorSummary[], layoutOverride: Layout | null): DescribedInput | string {
  if (inputs.length !== 1) return `Octet quantizes models with one input tensor; this one has ${inputs.length} (${inputs.map((i) => i.name).join(', ')})`;
  const { name, elemType, shape } = inputs[0];
  if (elemType !== DataType.FLOAT) return `input '${name}' is not float32; Octet calibrates float32 models`;
  if (!shape) return `input '${name}' has no shape information`;
  let layout: Layout = 'NCHW';
  let channels: number | null;
  let height: number | null;
  let width: number | null;
  if (shape.length === 4) {
    const nhwc = layoutOverride === 'NHWC' || (!layoutOverride && [1, 3].includes(fixed(shape[3]) ?? -1) && ![1, 3].includes(fixed(shape[1]) ?? -1));
    layout = nhwc ? 'NHWC' : 'NCHW';
    [channels, height, width] = nhwc ? [fixed(shape[3]), fixed(shape[1]), fixed(shape[2])] : [fixed(shape[1]), fixed(shape[2]), fixed(shape[3])];
  } else if (shape.length === 3 || shape.length === 2) {
    // [N, H, W] grey images or [N, features] vectors: a one-channel NCHW tensor.
    channels = 1;
    height = shape.length === 3 ? fixed(shape[1]) : 1;
    width = fixed(shape[shape.length - 1]);
  } else {
    return `input '${name}' has rank ${shape.length} [${shape.join(', ')}]; Octet supports [N,C,H,W], [N,H,W,C], [N,H,W] and [N,F] inputs`;
  }
  if (channels === null) return `input '${name}' has a free channel count [${shape.join(', ')}]`;
  return { name, dims: shape, layout, channels, height, width, fixedBatch: fixed(shape[0]) };
}

/** What Octet sees in a model: its image input (or why there is none), its outputs' kinds, the preprocessing guess. */
export function describeModel(summary: ModelSummary, options: DescribeOptions): ModelDescription {
  const described = describeInput(summary.inputs, options.layout ?? null);
  const input = typeof described === 'string' ? null : described;
  const layout = input?.layout ?? 'NCHW';
  const outputs = summary.outputs.map((o) => ({ name: o.name, shape: o.shape, kind: outputKindOfShape(o.shape, layout) }));
  return {
    label: options.label, input, problem: typeof described === 'string' ? described : null, outputs,
    guess: input ? guessPreprocessing(summary, input, outputs, options.label) : null,
  };
}

/** The image input, or the OctetError (naming the model) that says why Octet cannot feed it. */
export function requireInput(description: ModelDescription): DescribedInput {
  if (!description.input) throw new OctetError(description.label, description.problem ?? 'has no input Octet can feed');
  return description.input;
}

/** `input 'x' [N,3,48,W]`. */
export function describeDims(input: DescribedInput): string {
  return `input '${input.name}' [${input.dims.join(',')}]`;
}

/** How to give a size to a model that leaves height or width free (the same flags for quantize, eval and inspect). */
export function sizeAdvice(input: DescribedInput): string {
  const free = [input.height === null ? 'height' : '', input.width === null ? 'width' : ''].filter(Boolean).join(' and ');
  const both = input.height === null && input.width === null;
  return `${describeDims(input)} leaves its ${free} free: pass --input-size HxW`
    + (both ? ' (e.g. 640x640), or --size-multiple N --max-side S to give each image its own size (keeps its ratio)' : ` (e.g. ${input.height ?? 48}x${input.width ?? 192})`);
}

const TF_PRODUCER = /keras|tf2onnx|tensorflow|tfjs|onnx-tf|tflite/i;

/** ONNX's image metadata convention (`Image.NominalPixelRange`). */
const PIXEL_RANGES: Readonly<Record<string, PresetName>> = { NominalRange_0_255: 'raw', Normalized_0_1: 'unit', Normalized_1_1: 'tf' };

/** A text line: a short fixed height and a free width, or a width of at least three heights. */
function isTextLine(input: DescribedInput): boolean {
  return input.height !== null && input.height <= 64 && (input.width === null || input.width >= 3 * input.height);
}

/** The normalization a model was probably trained with, from its metadata, producer, name and input shape. */
function guessNormalization(summary: ModelSummary, input: DescribedInput, label: string): { normalization: Normalization; reason: string } {
  const preset = (name: PresetName, reason: string) => ({ normalization: expandPreset(name), reason: `${reason}: ${name}` });
  for (const [key, value] of Object.entries(summary.metadata)) {
    const named = value.trim().toLowerCase() as PresetName;
    if (/preprocess/i.test(key) && PRESET_NAMES.includes(named)) return preset(named, `model metadata ${key}=${value}`);
  }
  const range = summary.metadata['Image.NominalPixelRange'];
  if (range && PIXEL_RANGES[range]) return preset(PIXEL_RANGES[range], `model metadata Image.NominalPixelRange=${range}`);
  const producer = summary.producerName.trim();
  const producerText = producer ? `producer '${producer}'` : 'no producer recorded';
  const size = `${input.channels}x${input.height ?? '?'}x${input.width ?? '?'}`;
  if (input.channels === 1 && Math.max(input.height ?? Infinity, input.width ?? Infinity) <= 32) {
    if (/cntk/i.test(producer)) return preset('raw', `guess: ${size} greyscale input and ${producerText} (ONNX model zoo MNIST takes 0..255)`);
    return preset('unit', `guess: ${size} greyscale digit-sized input, ${producerText}; assuming x/255`);
  }
  if (/paddle/i.test(producer)) {
    if (isTextLine(input)) {
      return { normalization: { channelOrder: 'bgr', mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5] },
        reason: `guess: ${producerText} and a text-line input ${size} (PaddleOCR recognizers and classifiers take BGR, (x/255 − 0.5)/0.5)` };
    }
    if (input.height === null && input.width === null) {
      return { normalization: { ...expandPreset('torch'), channelOrder: 'bgr' },
        reason: `guess: ${producerText} and a free height and width (PaddleOCR detectors take BGR with the ImageNet mean/std)` };
    }
    return preset('torch', `guess: ${producerText} (PaddleClas models take RGB with the ImageNet mean/std)`);
  }
  if (/caffe/i.test(producer)) return preset('caffe', `guess: ${producerText}`);
  if (TF_PRODUCER.test(producer)) {
    const name = `${label.split(/[\\/]/).pop() ?? ''} ${summary.graphName}`;
    const family = /resnet|vgg/i.exec(name);
    if (family && !/v2/i.test(name)) {
      return preset('caffe', `guess: ${producerText} and the name '${name.trim()}' (Keras ResNet/VGG use caffe BGR mean subtraction)`);
    }
    return preset('tf', `guess: ${producerText} (Keras/TensorFlow models usually take x/127.5 − 1)`);
  }
  if (!producer && input.layout === 'NHWC') return preset('tf', `guess: ${size} channels-last input, ${producerText} (the TensorFlow convention)`);
  return preset('torch', `guess: ${producerText}; assuming the ImageNet mean/std (torchvision)`);
}

/** How images fit the sample: from the input's fixed and free dims and what the outputs are. */
function guessFit(input: DescribedInput, outputs: DescribedOutput[]): { fit: ImageFit; reason: string } {
  if (isTextLine(input)) return { fit: 'pad-right', reason: 'a text line: keep the ratio, fill the height, pad on the right' };
  if (input.height !== null && input.width !== null) {
    return Math.min(input.height, input.width) >= 64
      ? { fit: 'crop', reason: 'resize the shorter side, centre crop' }
      : { fit: 'stretch', reason: 'a small input: resize the whole image' };
  }
  return outputs[0]?.kind === 'classification'
    ? { fit: 'crop', reason: 'a free size and a class output: resize the shorter side, centre crop' }
    : { fit: 'letterbox', reason: 'a free size and map/detection outputs: keep the ratio, pad (letterbox)' };
}

function guessPreprocessing(summary: ModelSummary, input: DescribedInput, outputs: DescribedOutput[], label: string): PreprocessingGuess {
  const { normalization, reason } = guessNormalization(summary, input, label);
  const bgr = /^bgra?8$/i.test(summary.metadata['Image.BitmapPixelFormat'] ?? '');
  const fit = guessFit(input, outputs);
  const chosen: Normalization = bgr ? { ...normalization, channelOrder: 'bgr' } : normalization;
  const preprocessing: Preprocessing = {
    preset: presetOf(chosen), ...chosen,
    fit: fit.fit, size: input.height !== null && input.width !== null ? [input.height, input.width] : null,
    resize: null, crop: null, padValue: 0, sizeMultiple: null, maxSide: null,
  };
  const normalizationReason = `${reason}${bgr ? ' (BGR: model metadata Image.BitmapPixelFormat)' : ''}`;
  const fitReason = `guess: fit ${fit.fit}, ${fit.reason}`;
  return { preprocessing, reason: `${normalizationReason}; ${fitReason}`, normalizationReason, fitReason };
}
