// The preprocessing spec file (`--preprocess-file spec.json`): the preprocessing fields per model input, written by the
// VS Code extension beside the report and read by the CLI. Every field is optional (a field left out comes from the
// flags, a preset or the guess, see preprocessing.ts); unknown fields and bad values are errors naming the file.
//   { "octetPreprocessing": 1,
//     "inputs": { "x": { "preset": "tf", "channelOrder": "bgr", "mean": [127.5, 127.5, 127.5], "std": [127.5, 127.5, 127.5],
//                        "size": [48, 192], "fit": "pad-right", "padValue": 0 } } }
import { OctetError } from '../common/errors';
import { readRegularFileSync } from '../common/safe-read';
import {
  CHANNEL_ORDERS, checkPixelValues, checkSize, FIELD_NAMES, FieldSource, IMAGE_FITS, PRESET_NAMES, PreprocessingFields,
} from './preprocessing';

export const PREPROCESS_FILE_VERSION = 1;
const FILE_LIMIT = { what: 'a preprocessing spec file', maxBytes: 2 ** 20 };

/** The file's text for one input (what the extension writes). */
export function formatPreprocessFile(inputName: string, fields: PreprocessingFields): string {
  const entry = Object.fromEntries(FIELD_NAMES.filter((f) => fields[f] !== undefined).map((f) => [f, fields[f]]));
  return `${JSON.stringify({ octetPreprocessing: PREPROCESS_FILE_VERSION, inputs: { [inputName]: entry } }, null, 2)}\n`;
}

function checkEntry(value: unknown, where: string, path: string): PreprocessingFields {
  const fail = (field: string, must: string): never => { throw new OctetError(path, `${where}.${field} must be ${must} (got ${JSON.stringify((value as Record<string, unknown>)[field])})`); };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new OctetError(path, `${where} must be an object of preprocessing fields`);
  const entry = value as Record<string, unknown>;
  const unknown = Object.keys(entry).filter((k) => !(FIELD_NAMES as readonly string[]).includes(k));
  if (unknown.length > 0) throw new OctetError(path, `${where} has unknown field(s) ${unknown.join(', ')}; known: ${FIELD_NAMES.join(', ')}`);
  const fields: PreprocessingFields = {};
  const subject = (field: string) => `${path} (${where}.${field})`;
  const wholeNumber = (field: 'resize' | 'crop' | 'sizeMultiple' | 'maxSide'): void => {
    const v = entry[field];
    if (v === undefined || v === null) return;
    if (!Number.isInteger(v) || (v as number) < 1) fail(field, 'a whole number ≥ 1');
    fields[field] = v as number;
  };
  if (entry.preset !== undefined && entry.preset !== null) {
    if (!(PRESET_NAMES as readonly unknown[]).includes(entry.preset)) fail('preset', `one of ${PRESET_NAMES.join(', ')}`);
    fields.preset = entry.preset as PreprocessingFields['preset'];
  }
  if (entry.channelOrder !== undefined) {
    if (!(CHANNEL_ORDERS as readonly unknown[]).includes(entry.channelOrder)) fail('channelOrder', `one of ${CHANNEL_ORDERS.join(', ')}`);
    fields.channelOrder = entry.channelOrder as PreprocessingFields['channelOrder'];
  }
  if (entry.mean !== undefined) fields.mean = checkPixelValues(entry.mean, subject('mean'), false);
  if (entry.std !== undefined) fields.std = checkPixelValues(entry.std, subject('std'), true);
  if (entry.fit !== undefined) {
    if (!(IMAGE_FITS as readonly unknown[]).includes(entry.fit)) fail('fit', `one of ${IMAGE_FITS.join(', ')}`);
    fields.fit = entry.fit as PreprocessingFields['fit'];
  }
  if (entry.size !== undefined && entry.size !== null) fields.size = checkSize(entry.size, subject('size'));
  if (entry.padValue !== undefined) {
    if (typeof entry.padValue !== 'number' || !(entry.padValue >= 0 && entry.padValue <= 255)) fail('padValue', 'a number in [0, 255] (pixel units)');
    fields.padValue = entry.padValue as number;
  }
  for (const field of ['resize', 'crop', 'sizeMultiple', 'maxSide'] as const) wholeNumber(field);
  return fields;
}

/** Every input's fields in a spec file's text; `path` names the file in errors. */
export function parsePreprocessFile(text: string, path: string): Map<string, PreprocessingFields> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new OctetError(path, `is not JSON (${err instanceof Error ? err.message : String(err)}); a preprocessing spec file is written by the Octet extension`);
  }
  const file = json as { octetPreprocessing?: unknown; inputs?: unknown };
  if (typeof json !== 'object' || json === null || file.octetPreprocessing !== PREPROCESS_FILE_VERSION) {
    throw new OctetError(path, `is not an Octet preprocessing spec (expected "octetPreprocessing": ${PREPROCESS_FILE_VERSION})`);
  }
  if (typeof file.inputs !== 'object' || file.inputs === null || Array.isArray(file.inputs)) {
    throw new OctetError(path, 'has no "inputs" object (input name → preprocessing fields)');
  }
  return new Map(Object.entries(file.inputs).map(([name, entry]) => [name, checkEntry(entry, `inputs.${name}`, path)]));
}

/** The spec file's fields for the model input `inputName`, as a source for resolvePreprocessing. */
export function preprocessFileSource(path: string, inputName: string): FieldSource {
  const inputs = parsePreprocessFile(readRegularFileSync(path, FILE_LIMIT).toString('utf8'), path);
  const fields = inputs.get(inputName);
  if (!fields) {
    throw new OctetError(path, `has no entry for the model input '${inputName}' (it describes ${[...inputs.keys()].map((n) => `'${n}'`).join(', ') || 'no input'})`);
  }
  return { fields, name: () => path };
}
