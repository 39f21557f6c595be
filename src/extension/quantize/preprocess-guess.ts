// Guesses the preprocessing preset from what the model says about itself: standard ONNX image metadata, the
// exporter's name and the input's channel count. The guess is only pre-selected; the person confirms it.
import type { ModelSummary } from './model-inputs';
import type { PreprocessChoice } from './quantize-request';

export interface PreprocessGuess {
  preset: PreprocessChoice;
  /** Why, in words shown next to the choice. */
  reason: string;
}

/** ONNX's image metadata convention (`Image.NominalPixelRange`). */
const PIXEL_RANGE_PRESETS: Record<string, PreprocessChoice> = {
  NominalRange_0_255: 'raw',
  Normalized_0_1: 'unit',
  Normalized_1_1: 'tf',
};

const KNOWN_PRESETS: readonly PreprocessChoice[] = ['torch', 'tf', 'caffe', 'raw', 'unit'];

/** Channels and layout of a 4-D image input, or null when the shape does not look like images. */
export function imageLayout(shape: (number | string)[]): { channels: number; layout: 'NCHW' | 'NHWC'; size: string } | null {
  if (shape.length !== 4) return null;
  const [, d1, d2, d3] = shape;
  if (typeof d1 === 'number' && d1 >= 1 && d1 <= 4) return { channels: d1, layout: 'NCHW', size: `${d2}×${d3}` };
  if (typeof d3 === 'number' && d3 >= 1 && d3 <= 4) return { channels: d3, layout: 'NHWC', size: `${d1}×${d2}` };
  return null;
}

export function describeInputShape(shape: (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

export function guessPreprocess(summary: ModelSummary): PreprocessGuess {
  const explicit = summary.metadata['octet.preprocess'] ?? summary.metadata.preprocess;
  const named = KNOWN_PRESETS.find((p) => p === explicit);
  if (named) return { preset: named, reason: `the model's metadata says "${named}"` };
  const range = summary.metadata['Image.NominalPixelRange'];
  if (range && PIXEL_RANGE_PRESETS[range]) {
    return { preset: PIXEL_RANGE_PRESETS[range], reason: `the model's metadata says Image.NominalPixelRange=${range}` };
  }
  const input = summary.inputs[0];
  const layout = input ? imageLayout(input.shape) : null;
  const producer = summary.producerName.toLowerCase();
  const shapeText = input ? `input ${describeInputShape(input.shape)}` : 'no image input';
  if (layout && layout.channels === 1) {
    if (producer.includes('cntk')) return { preset: 'raw', reason: `1-channel ${shapeText} exported by CNTK (pixels 0..255)` };
    return { preset: 'unit', reason: `1-channel ${shapeText} (grey images scaled to 0..1)` };
  }
  if (producer.includes('pytorch') || producer.includes('torch')) {
    return { preset: 'torch', reason: `exported by ${summary.producerName}, ${shapeText}` };
  }
  if (producer.includes('caffe')) return { preset: 'caffe', reason: `exported by ${summary.producerName}, ${shapeText}` };
  if (/tf2onnx|keras|tensorflow|tflite|tfjs/.test(producer) || layout?.layout === 'NHWC') {
    const why = producer ? `exported by ${summary.producerName}` : 'channels-last layout';
    return { preset: 'tf', reason: `${why}, ${shapeText}` };
  }
  return { preset: 'auto', reason: `no hint in the model (${shapeText}${producer ? `, producer ${summary.producerName}` : ''}): the engine decides` };
}
