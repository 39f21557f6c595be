// The preprocessing of image samples as one plain object (Preprocessing, src/common/report.ts): channel order, mean and
// std in 0..255 pixel units, how the image fits the sample size, padding, per-sample sizes. Presets are shorthands
// for these numbers, expanded here and nowhere else. resolvePreprocessing() merges what was set — command-line flags
// over a spec file over a preset over the model's guess, field by field — and checks the result against the model's
// input. Pure (no fs): the extension, the engine and decoding workers all use it.
import { OctetError } from '../common/errors';
import type { ChannelOrder, ImageFit, Preprocessing, PreprocessPreset } from '../common/report';

export type PresetName = Exclude<PreprocessPreset, 'none' | 'custom'>;
export const PRESET_NAMES: readonly PresetName[] = ['torch', 'tf', 'caffe', 'raw', 'unit'];
export const CHANNEL_ORDERS: readonly ChannelOrder[] = ['rgb', 'bgr'];
export const IMAGE_FITS: readonly ImageFit[] = ['crop', 'stretch', 'letterbox', 'pad-right'];

export type Normalization = Pick<Preprocessing, 'channelOrder' | 'mean' | 'std'>;

const triple = (v: number): number[] => [v, v, v];

/** What each preset stands for, in pixel units: (pixel − mean[c]) / std[c] in the model's channel order. */
export const PRESETS: Readonly<Record<PresetName, Normalization & { doc: string }>> = {
  torch: { channelOrder: 'rgb', mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], doc: 'RGB, ImageNet mean/std (PyTorch, torchvision)' },
  tf: { channelOrder: 'rgb', mean: triple(127.5), std: triple(127.5), doc: 'RGB, x/127.5 − 1 (TensorFlow, Keras MobileNet/Inception)' },
  caffe: { channelOrder: 'bgr', mean: [103.939, 116.779, 123.68], std: triple(1), doc: 'BGR minus the ImageNet mean (Caffe, Keras ResNet/VGG)' },
  raw: { channelOrder: 'rgb', mean: triple(0), std: triple(1), doc: 'pixel values 0..255 as they are' },
  unit: { channelOrder: 'rgb', mean: triple(0), std: triple(255), doc: 'x/255 (0..1)' },
};

/** The normalization of a preset (a fresh copy). */
export function expandPreset(name: PresetName): Normalization {
  const { channelOrder, mean, std } = PRESETS[name];
  return { channelOrder, mean: [...mean], std: [...std] };
}

const sameNumbers = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

/** The preset whose numbers these are, or 'custom'. */
export function presetOf(n: Normalization): PreprocessPreset {
  return PRESET_NAMES.find((name) => PRESETS[name].channelOrder === n.channelOrder && sameNumbers(PRESETS[name].mean, n.mean)
    && sameNumbers(PRESETS[name].std, n.std)) ?? 'custom';
}

/** What a caller may set (flags, a spec file entry, the extension's answer); a field left out is not set. */
export interface PreprocessingFields {
  preset?: PresetName;
  channelOrder?: ChannelOrder;
  mean?: number[];
  std?: number[];
  fit?: ImageFit;
  size?: number[];
  resize?: number;
  crop?: number;
  padValue?: number;
  sizeMultiple?: number;
  maxSide?: number;
}

export const FIELD_NAMES: readonly (keyof PreprocessingFields)[] = [
  'preset', 'channelOrder', 'mean', 'std', 'fit', 'size', 'resize', 'crop', 'padValue', 'sizeMultiple', 'maxSide',
];

/** The command-line flag of each field (errors and reasons name it). */
export const FIELD_FLAGS: Readonly<Record<keyof PreprocessingFields, string>> = {
  preset: '--preprocess', channelOrder: '--channel-order', mean: '--mean', std: '--std', fit: '--fit', size: '--input-size',
  resize: '--resize', crop: '--crop', padValue: '--pad-value', sizeMultiple: '--size-multiple', maxSide: '--max-side',
};

/** `A,B,C` or one number for all channels (pixel units); std must be > 0. */
export function parsePixelValues(text: string, subject: string, positive: boolean): number[] {
  const values = text.split(',').map((s) => (s.trim() === '' ? NaN : Number(s)));
  return checkPixelValues(values, subject, positive, `'${text}'`);
}

/** One or three finite numbers (std: each > 0) → three. */
export function checkPixelValues(values: unknown, subject: string, positive: boolean, shown = JSON.stringify(values)): number[] {
  const list = typeof values === 'number' ? [values] : values;
  const ok = Array.isArray(list) && (list.length === 1 || list.length === 3)
    && list.every((v) => typeof v === 'number' && Number.isFinite(v) && (!positive || v > 0));
  if (!ok) {
    throw new OctetError(subject, `must be one number for all channels or three (A,B,C) in 0..255 pixel units${positive ? ', each > 0' : ''} (got ${shown})`);
  }
  return list.length === 1 ? triple(list[0] as number) : [...(list as number[])];
}

/** `HxW` (e.g. 48x192) or one number for a square. */
export function parseSize(text: string, subject: string): number[] {
  const match = /^\s*(\d+)\s*(?:[x×X]\s*(\d+)\s*)?$/.exec(text);
  const size = match ? [Number(match[1]), Number(match[2] ?? match[1])] : [];
  return checkSize(size, subject, `'${text}'`);
}

export function checkSize(size: unknown, subject: string, shown = JSON.stringify(size)): number[] {
  const ok = Array.isArray(size) && size.length === 2 && size.every((v) => Number.isInteger(v) && v >= 1 && v <= 16384);
  if (!ok) throw new OctetError(subject, `must be HEIGHTxWIDTH in pixels, e.g. 48x192 (or one number for a square), got ${shown}`);
  return [...(size as number[])];
}

/** The preprocessing flags as the options table reads them (null / 'auto' = not given). */
export interface PreprocessingFlags {
  preprocess: PresetName | 'auto';
  channelOrder: ChannelOrder | null;
  mean: string | null;
  std: string | null;
  inputSize: string | null;
  fit: ImageFit | null;
  padValue: number | null;
  sizeMultiple: number | null;
  maxSide: number | null;
  resize: number | null;
  crop: number | null;
}

/** The fields the flags set (their ranges are the options table's; the text ones are parsed here). */
export function fieldsFromFlags(flags: PreprocessingFlags): PreprocessingFields {
  const fields: PreprocessingFields = {};
  if (flags.preprocess !== 'auto') fields.preset = flags.preprocess;
  if (flags.channelOrder !== null) fields.channelOrder = flags.channelOrder;
  if (flags.mean !== null) fields.mean = parsePixelValues(flags.mean, '--mean', false);
  if (flags.std !== null) fields.std = parsePixelValues(flags.std, '--std', true);
  if (flags.inputSize !== null) fields.size = parseSize(flags.inputSize, '--input-size');
  if (flags.fit !== null) fields.fit = flags.fit;
  if (flags.padValue !== null) fields.padValue = flags.padValue;
  if (flags.sizeMultiple !== null) fields.sizeMultiple = flags.sizeMultiple;
  if (flags.maxSide !== null) fields.maxSide = flags.maxSide;
  if (flags.resize !== null) fields.resize = flags.resize;
  if (flags.crop !== null) fields.crop = flags.crop;
  return fields;
}

/** The spatial dims a model fixes (null where it leaves them free). */
export interface SpatialDims { height: number | null; width: number | null }

export interface PreprocessingGuess {
  preprocessing: Preprocessing;
  /** Why, in words: both parts. */
  reason: string;
  /** Why this channel order, mean and std; why this fit. */
  normalizationReason: string;
  fitReason: string;
}

export interface ResolvedPreprocessing {
  preprocessing: Preprocessing;
  /** Where the numbers came from, in words (for the log line and the Report). */
  reason: string;
  /** True when the normalization (channel order, mean, std) was guessed, wholly or partly. */
  guessed: boolean;
}

/** The largest side a sample of its own size can have (maxSide rounded up to the multiple), or null for one size. */
export function ownSizeBound(p: Preprocessing): number | null {
  return p.sizeMultiple !== null && p.maxSide !== null ? Math.ceil(p.maxSide / p.sizeMultiple) * p.sizeMultiple : null;
}

/** Every field of a preprocessing that has a value (what a spec file records, what the extension remembers). */
export function fieldsOf(p: Preprocessing): PreprocessingFields {
  const fields: PreprocessingFields = p.preset !== 'custom' && p.preset !== 'none' ? { preset: p.preset } : {};
  for (const field of FIELD_NAMES) {
    const value = (p as unknown as Record<string, unknown>)[field];
    if (field !== 'preset' && value !== null && value !== undefined) (fields as Record<string, unknown>)[field] = Array.isArray(value) ? [...value] : value;
  }
  return fields;
}

/** A source of set fields: its fields and how to name it ("--mean", "spec.json"). */
export interface FieldSource { fields: PreprocessingFields; name: (field: keyof PreprocessingFields) => string }

/**
 * The preprocessing to use: each field from the first source that sets it (sources in order, e.g. flags then a spec
 * file), else from the preset one of them names, else from the guess. Checked against the model's spatial dims.
 */
export function resolvePreprocessing(dims: SpatialDims, guess: PreprocessingGuess, sources: readonly FieldSource[]): ResolvedPreprocessing {
  const set: PreprocessingFields = {};
  const origin = new Map<keyof PreprocessingFields, string>();
  for (const source of sources) {
    for (const field of FIELD_NAMES) {
      const value = source.fields[field];
      if (value === undefined || field in set) continue;
      (set as Record<string, unknown>)[field] = value;
      origin.set(field, source.name(field));
    }
  }
  const base: Preprocessing = set.preset ? { ...guess.preprocessing, ...expandPreset(set.preset) } : guess.preprocessing;
  const normalization: Normalization = {
    channelOrder: set.channelOrder ?? base.channelOrder, mean: set.mean ?? base.mean, std: set.std ?? base.std,
  };
  const fit = set.fit ?? (set.sizeMultiple !== undefined ? 'stretch' : set.crop !== undefined || set.resize !== undefined ? 'crop' : base.fit);
  const preprocessing: Preprocessing = {
    preset: presetOf(normalization), ...normalization, fit,
    size: set.sizeMultiple !== undefined ? null : resolveSize(dims, set, origin),
    resize: set.resize ?? null, crop: set.crop ?? null, padValue: set.padValue ?? base.padValue,
    sizeMultiple: set.sizeMultiple ?? null, maxSide: set.maxSide ?? null,
  };
  checkGeometry(preprocessing, dims, origin);
  const guessed = !set.preset && !(set.channelOrder && set.mean && set.std);
  const given = [...new Set(origin.values())];
  const fitGuessed = fit === guess.preprocessing.fit && !origin.has('fit') && set.sizeMultiple === undefined && set.crop === undefined && set.resize === undefined;
  const rest = [guessed ? guess.normalizationReason : '', fitGuessed ? guess.fitReason : ''].filter(Boolean).join('; ');
  const reason = given.length === 0 ? guess.reason
    : `given: ${given.join(', ')}${set.preset ? ` (preset ${set.preset})` : ''}${rest ? `; the rest ${rest}` : ''}`;
  return { preprocessing, reason, guessed };
}

/** [H, W]: what was set, else the model's fixed dims with a square `crop` filling free ones; null when a dim stays free. */
function resolveSize(dims: SpatialDims, set: PreprocessingFields, origin: Map<keyof PreprocessingFields, string>): number[] | null {
  if (set.size) {
    const [h, w] = set.size;
    for (const [name, fixed, value] of [['height', dims.height, h], ['width', dims.width, w]] as const) {
      if (fixed !== null && fixed !== value) {
        throw new OctetError(origin.get('size') ?? '--input-size', `asks for ${h}x${w}, but the model's input ${name} is fixed at ${fixed}; `
          + `give its own ${name} (the size fills only the dims the model leaves free)`);
      }
    }
    return [h, w];
  }
  const h = dims.height ?? set.crop ?? null;
  const w = dims.width ?? set.crop ?? null;
  return h !== null && w !== null ? [h, w] : null;
}

function checkGeometry(p: Preprocessing, dims: SpatialDims, origin: Map<keyof PreprocessingFields, string>): void {
  const named = (field: keyof PreprocessingFields) => origin.get(field) ?? FIELD_FLAGS[field];
  if ((p.resize !== null || p.crop !== null) && p.fit !== 'crop') {
    throw new OctetError(named(p.crop !== null ? 'crop' : 'resize'), `applies to --fit crop (resize the shorter side, centre crop), not --fit ${p.fit}`);
  }
  if ((p.sizeMultiple === null) !== (p.maxSide === null)) {
    throw new OctetError(named(p.sizeMultiple === null ? 'maxSide' : 'sizeMultiple'), 'goes with --size-multiple N and --max-side S together (each image keeps its ratio, longer side at most S, sides multiples of N)');
  }
  if (p.sizeMultiple === null || p.maxSide === null) return;
  if (origin.has('size')) throw new OctetError(named('sizeMultiple'), `gives each sample its own size; it cannot go with ${named('size')} (one size for all)`);
  if (dims.height !== null || dims.width !== null) {
    throw new OctetError(named('sizeMultiple'), `needs a model whose input height and width are both free; this one fixes ${dims.height ?? '?'}x${dims.width ?? '?'}: use --input-size instead`);
  }
  if (p.fit === 'crop') throw new OctetError(named('fit'), 'crop needs one size for all samples (--input-size); with --size-multiple use stretch, letterbox or pad-right');
  if (p.maxSide < p.sizeMultiple) throw new OctetError(named('maxSide'), `(${p.maxSide}) must be at least --size-multiple (${p.sizeMultiple})`);
}

const formatNumbers = (values: readonly number[]): string => (values.every((v) => v === values[0]) ? String(values[0]) : values.join(','));

/** One line for people: "torch (RGB, mean 123.675,116.28,103.53, std 58.395,57.12,57.375), 224x224, fit crop". */
export function describePreprocessing(p: Preprocessing): string {
  const normalization = `${p.channelOrder.toUpperCase()}, mean ${formatNumbers(p.mean)}, std ${formatNumbers(p.std)}`;
  const size = p.sizeMultiple !== null ? `each image its own size (sides multiples of ${p.sizeMultiple}, at most ${p.maxSide})`
    : p.size ? `${p.size[0]}x${p.size[1]}` : 'size not set';
  const crop = p.fit === 'crop' && (p.resize !== null || p.crop !== null)
    ? ` (${[p.resize !== null ? `shorter side ${p.resize}` : '', p.crop !== null ? `window ${p.crop}` : ''].filter(Boolean).join(', ')})` : '';
  const pad = p.fit === 'letterbox' || p.fit === 'pad-right' ? `, pad ${p.padValue}` : '';
  return `${p.preset} (${normalization}), ${size}, fit ${p.fit}${crop}${pad}`;
}
