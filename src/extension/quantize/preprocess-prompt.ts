// The preprocessing question of the quantize prompts: the model's guess (with its reason), the presets, the answer used
// last for this model, and Custom… (channel order, mean, std, size, fit); then, for a model that leaves its height or
// width free, the size. Answers are resolved with the engine's own rules (src/data/preprocessing.ts), so the prompt
// shows exactly what the engine will do and never accepts what it would refuse.
import { OctetError } from '../../common/errors';
import type { ImageFit } from '../../common/report';
import { describeDims, type DescribedInput, sizeAdvice } from '../../data/model-description';
import {
  CHANNEL_ORDERS, describePreprocessing, fieldsOf, IMAGE_FITS, parsePixelValues, parseSize, PRESET_NAMES, PRESETS, PresetName,
  PreprocessingFields, PreprocessingGuess, ResolvedPreprocessing, resolvePreprocessing,
} from '../../data/preprocessing';
import { askText, Choice, pickOne } from './quick-input';

export interface PreprocessPromptContext {
  /** The model's image input and its preprocessing guess (src/data/model-description.ts). */
  input: DescribedInput;
  guess: PreprocessingGuess;
  /** The step's title, e.g. "Octet: Quantize m.onnx to INT8 (3/5)". */
  title: string;
  /** The answer of a re-run, or the one used last for this model: offered first and pre-selected. */
  last?: PreprocessingFields;
  /** The `octet.preprocess` setting ('auto': pre-select the guess). */
  defaultPreset: PresetName | 'auto';
}

const FIT_DESCRIPTIONS: Record<ImageFit, string> = {
  crop: 'resize the shorter side, centre crop (torchvision)',
  stretch: 'resize to the size, ratio not kept',
  letterbox: 'keep the ratio, pad to the size, centred (detectors)',
  'pad-right': 'keep the ratio, fill the height, pad right (text lines)',
};

type Answer = { fields: PreprocessingFields } | 'custom';

/** The preprocessing these fields give this model (the engine's resolution), or the error that says why not. */
export function resolveAnswer(input: DescribedInput, guess: PreprocessingGuess, fields: PreprocessingFields): ResolvedPreprocessing | string {
  try {
    return resolvePreprocessing(input, guess, [{ fields, name: () => 'the answer' }]);
  } catch (err) {
    if (err instanceof OctetError) return err.reason;
    throw err;
  }
}

const errorText = (err: unknown): string => (err instanceof OctetError ? err.reason : String(err));

/** Asks for the preprocessing; undefined when the person pressed Escape. */
export async function askPreprocessing(ctx: PreprocessPromptContext): Promise<PreprocessingFields | undefined> {
  const { input, guess } = ctx;
  const described = (fields: PreprocessingFields): string => {
    const resolved = resolveAnswer(input, guess, fields);
    return typeof resolved === 'string' ? resolved : describePreprocessing(resolved.preprocessing);
  };
  const guessed = fieldsOf(guess.preprocessing);
  const items: Choice<Answer>[] = [];
  // The last answer, unless it no longer fits the model (it may have changed since).
  const lastItem: Choice<Answer> | undefined = ctx.last && typeof resolveAnswer(input, guess, ctx.last) !== 'string'
    ? { value: { fields: ctx.last }, label: '$(history) Last used for this model', description: described(ctx.last) } : undefined;
  if (lastItem) items.push(lastItem);
  const guessedDetail = `$(lightbulb) Guessed — ${guess.reason.replace(/guess: /g, '')}`;
  const guessIsPreset = guess.preprocessing.preset !== 'custom';
  if (!guessIsPreset) {
    items.push({ value: { fields: guessed }, label: '$(lightbulb) guess', description: described(guessed), detail: guessedDetail });
  }
  for (const preset of PRESET_NAMES) {
    const isGuess = guess.preprocessing.preset === preset;
    items.push({
      value: { fields: isGuess ? guessed : { preset } }, label: preset, description: PRESETS[preset].doc,
      detail: isGuess ? guessedDetail : undefined,
    });
  }
  items.push({ value: 'custom', label: '$(edit) Custom…', description: 'channel order, mean, std, size, fit' });
  const guessItem = items.find((i) => i.detail === guessedDetail);
  const settingItem = ctx.defaultPreset !== 'auto' ? items.find((i) => i.label === ctx.defaultPreset) : undefined;
  const preferred = lastItem ?? settingItem ?? guessItem ?? items[0];
  const ordered = [preferred, ...items.filter((i) => i !== preferred)];
  const answer = await pickOne({ title: ctx.title, placeholder: `Preprocessing for ${describeDims(input)}`, items: ordered, active: ordered[0] });
  if (answer === undefined) return undefined;
  const fields = answer === 'custom' ? await askCustom(ctx) : answer.fields;
  if (!fields) return undefined;
  const resolved = resolveAnswer(input, guess, fields);
  if (typeof resolved !== 'string' && !resolved.preprocessing.size && resolved.preprocessing.sizeMultiple === null) {
    const size = await askSize(ctx, fields, true);
    return size ? { ...fields, size } : undefined;
  }
  return fields;
}

/** The sample size; `required` when the model leaves a dim free (empty: the model's own size). */
async function askSize(ctx: PreprocessPromptContext, fields: PreprocessingFields, required: boolean): Promise<number[] | undefined | null> {
  const { input, guess } = ctx;
  const fixed = input.height !== null && input.width !== null;
  const text = await askText({
    title: `${ctx.title}: size`,
    prompt: fixed ? `Sample size HxW (empty: the model's ${input.height}x${input.width})` : `${sizeAdvice(input).replace(/: pass .*/, '')}: sample size HxW`,
    value: fields.size ? fields.size.join('x') : fixed ? `${input.height}x${input.width}` : '',
    placeHolder: `e.g. ${input.height ?? 48}x${input.width ?? 192}`,
    validate: (t) => {
      if (t.trim() === '') return required ? 'Enter a size HxW: the model leaves it free.' : null;
      try {
        const resolved = resolveAnswer(input, guess, { ...fields, size: parseSize(t, 'size') });
        return typeof resolved === 'string' ? resolved : null;
      } catch (err) {
        return errorText(err);
      }
    },
  });
  if (text === undefined) return undefined;
  return text.trim() === '' ? null : parseSize(text, 'size');
}

async function askNumbers(ctx: PreprocessPromptContext, what: 'mean' | 'std', value: readonly number[]): Promise<number[] | undefined> {
  const positive = what === 'std';
  const text = await askText({
    title: `${ctx.title}: ${what}`,
    prompt: `${what === 'mean' ? 'Mean' : 'Std'} per channel in 0..255 pixel units, in the model's channel order: value = (pixel − mean) / std (one number: all channels)`,
    value: value.join(','),
    validate: (t) => {
      try {
        parsePixelValues(t, what, positive);
        return null;
      } catch (err) {
        return errorText(err);
      }
    },
  });
  return text === undefined ? undefined : parsePixelValues(text, what, positive);
}

/** Custom…: channel order, mean, std, size, fit, each starting from the guess. */
async function askCustom(ctx: PreprocessPromptContext): Promise<PreprocessingFields | undefined> {
  const base = ctx.guess.preprocessing;
  const orders: Choice<(typeof CHANNEL_ORDERS)[number]>[] = CHANNEL_ORDERS.map((order) => ({
    value: order, label: order.toUpperCase(), description: order === 'bgr' ? 'blue, green, red (OpenCV, Caffe, PaddlePaddle)' : 'red, green, blue (PIL, torchvision, TensorFlow)',
  }));
  const channelOrder = await pickOne({ title: `${ctx.title}: channel order`, placeholder: 'Channel order the model takes', items: orders,
    active: orders.find((o) => o.value === base.channelOrder) });
  if (!channelOrder) return undefined;
  const mean = await askNumbers(ctx, 'mean', base.mean);
  if (!mean) return undefined;
  const std = await askNumbers(ctx, 'std', base.std);
  if (!std) return undefined;
  const fields: PreprocessingFields = { channelOrder, mean, std };
  const size = await askSize(ctx, fields, ctx.input.height === null || ctx.input.width === null);
  if (size === undefined) return undefined;
  if (size) fields.size = size;
  const fits: Choice<ImageFit>[] = IMAGE_FITS.map((fit) => ({ value: fit, label: fit, description: FIT_DESCRIPTIONS[fit] }));
  const fit = await pickOne({ title: `${ctx.title}: fit`, placeholder: 'How an image fits the sample size', items: fits,
    active: fits.find((f) => f.value === base.fit) });
  if (!fit) return undefined;
  return { ...fields, fit };
}
