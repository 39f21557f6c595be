// The kinds of option the engine takes (integer, number, choice, switch, text, list) and the pure helpers every option
// table (options.ts) is read with: typed values from a command line, checks of values from elsewhere (VS Code
// settings), and the command line that asks for given values. No ORT, no fs, no vscode.
import { OctetError } from '../common/errors';

/** The VS Code setting `octet.<key>` that carries an option. */
export interface SettingLink {
  readonly key: string;
  /** The option in words, for the extension's messages ("number of calibration images"). */
  readonly label: string;
  /** The values VS Code offers, when fewer than the engine takes. */
  readonly values?: readonly string[];
}

interface Fields {
  /** Command-line flag without the leading `--`. */
  readonly flag: string;
  /** One line for the usage text. */
  readonly doc: string;
  /** Placeholder of the value in the usage text (N, DIR, FILE). */
  readonly valueName?: string;
  readonly setting?: SettingLink;
  /** The engine reads the value only when another option has one of these values; argument builders leave it out otherwise. */
  readonly onlyWhen?: { readonly option: string; readonly values: readonly (string | boolean)[] };
}
export interface IntegerSpec extends Fields { readonly kind: 'integer'; readonly default: number | null; readonly min: number; readonly max?: number }
export interface NumberSpec extends Fields { readonly kind: 'number'; readonly default: number | null; readonly min: number; readonly max?: number }
/** A boolean flag that `--<flag>` sets to `!default`. */
export interface SwitchSpec extends Fields { readonly kind: 'switch'; readonly default: boolean }
/** A path or name; `required` is the error when it is missing. */
export interface TextSpec extends Fields { readonly kind: 'text'; readonly default: null; readonly required?: string }
/** Comma-separated names. */
export interface ListSpec extends Fields { readonly kind: 'list'; readonly default: readonly [] | null }
export interface ChoiceSpec extends Fields {
  readonly kind: 'choice';
  readonly values: readonly string[];
  readonly default: string;
  /** The value that the request holds as null ('auto' = let the engine decide). */
  readonly nullValue?: string;
  /** Boolean flags that stand for one value (`--reduce-range` = `--weight-range 7bit`); they win over the flag. */
  readonly aliases?: readonly { readonly flag: string; readonly value: string; readonly doc: string }[];
}
export type OptionSpec = IntegerSpec | NumberSpec | SwitchSpec | TextSpec | ListSpec | ChoiceSpec;
export type OptionTable = Readonly<Record<string, OptionSpec>>;

declare const VALUE: unique symbol;
/** Type-only mark of the value an option yields. */
interface Typed<V> { readonly [VALUE]?: V }
export type ValueOf<O> = O extends Typed<infer V> ? Exclude<V, undefined> : never;

/** A table's values keyed by field, every one present (defaults filled in). */
export type OptionValues<T> = { -readonly [K in keyof T]: ValueOf<T[K]> };

/** What a caller gives: required text options, and any others it wants off their default. */
export type OptionInput<T> =
  & { -readonly [K in keyof T as T[K] extends { required: string } ? K : never]: ValueOf<T[K]> }
  & { -readonly [K in keyof T as T[K] extends { required: string } ? never : K]?: ValueOf<T[K]> };

type Without<S, K extends string> = Omit<S, 'kind' | K>;

export function integer<const F extends Without<IntegerSpec, never>>(fields: F): F & { kind: 'integer' } & Typed<F['default'] extends number ? number : number | null> {
  return { ...fields, kind: 'integer' };
}

export function number<const F extends Without<NumberSpec, never>>(fields: F): F & { kind: 'number' } & Typed<F['default'] extends number ? number : number | null> {
  return { ...fields, kind: 'number' };
}

export function switchFlag<const F extends Without<SwitchSpec, never>>(fields: F): F & { kind: 'switch' } & Typed<boolean> {
  return { ...fields, kind: 'switch' };
}

export function text<const F extends Without<TextSpec, 'default'>>(fields: F): F & { kind: 'text'; default: null } & Typed<F extends { required: string } ? string : string | null> {
  return { ...fields, kind: 'text', default: null };
}

export function list<const F extends Without<ListSpec, never>>(fields: F): F & { kind: 'list' } & Typed<F['default'] extends null ? string[] | null : string[]> {
  return { ...fields, kind: 'list' };
}

export function choice<const F extends Without<ChoiceSpec, never>>(
  fields: F,
): F & { kind: 'choice' } & Typed<F extends { nullValue: infer N } ? Exclude<F['values'][number], N> | null : F['values'][number]> {
  return { ...fields, kind: 'choice' };
}

/** The value a request holds for a value of the option (a choice's `nullValue` becomes null). */
export function requestValue(option: OptionSpec, value: unknown): unknown {
  if (option.kind === 'choice' && option.nullValue !== undefined && value === option.nullValue) return null;
  if (option.kind === 'list' && Array.isArray(value)) return [...value];
  return value;
}

/** The option's default as a request holds it. */
export function defaultValue(option: OptionSpec): unknown {
  return requestValue(option, option.default);
}

/** `given` with every option it leaves out (or undefined) at its default; other fields are kept. */
export function withDefaults<T extends OptionTable, G extends OptionInput<T>>(table: T, given: G): G & OptionValues<T> {
  const values: Record<string, unknown> = { ...given };
  for (const [field, option] of Object.entries(table)) if (values[field] === undefined) values[field] = defaultValue(option);
  return values as G & OptionValues<T>;
}

/** What a valid value is, as the end of "must be …". */
export function describeAllowed(option: OptionSpec, values?: readonly string[]): string {
  switch (option.kind) {
    case 'integer':
      return option.max === undefined ? `an integer ≥ ${option.min}` : `an integer in [${option.min}, ${option.max}]`;
    case 'number':
      return option.max === undefined ? `a number ≥ ${option.min}` : `a number in [${option.min}, ${option.max}]`;
    case 'choice':
      return `one of ${(values ?? option.values).join(', ')}`;
    case 'switch':
      return 'true or false';
    case 'text':
      return 'a path';
    case 'list':
      return 'a comma-separated list';
  }
}

/** Null when `value` (a request value, a JSON setting) is valid for the option, else "must be …". */
export function valueProblem(option: OptionSpec, value: unknown, values?: readonly string[]): string | null {
  const nullable = option.kind === 'choice' ? option.nullValue !== undefined : option.kind !== 'switch' && option.default === null;
  if (value === null) return nullable && !(option.kind === 'text' && option.required) ? null : `must be ${describeAllowed(option, values)}`;
  let ok: boolean;
  switch (option.kind) {
    case 'integer':
    case 'number':
      ok = typeof value === 'number' && Number.isFinite(value) && (option.kind === 'number' || Number.isInteger(value))
        && value >= option.min && (option.max === undefined || value <= option.max);
      break;
    case 'choice':
      ok = typeof value === 'string' && (values ?? option.values).includes(value);
      break;
    case 'switch':
      ok = typeof value === 'boolean';
      break;
    case 'text':
      ok = typeof value === 'string' && (value !== '' || !option.required);
      break;
    case 'list':
      ok = Array.isArray(value) && value.every((v) => typeof v === 'string');
      break;
  }
  return ok ? null : `must be ${describeAllowed(option, values)}`;
}

/** The typed value of a flag's text (or `true` for a boolean flag); throws an OctetError naming the flag. */
function fromCommandLine(option: OptionSpec, given: string | boolean): unknown {
  const fail = (): never => { throw new OctetError(`--${option.flag}`, `must be ${describeAllowed(option)} (got '${String(given)}')`); };
  if (option.kind === 'switch') return !option.default;
  if (typeof given !== 'string') return fail();
  switch (option.kind) {
    case 'integer':
    case 'number': {
      const n = given.trim() === '' ? NaN : Number(given);
      return valueProblem(option, n) === null ? n : fail();
    }
    case 'choice':
      return option.values.includes(given) ? given : fail();
    case 'list': {
      const names = given.split(',').map((s) => s.trim()).filter(Boolean);
      return names.length > 0 ? names : option.default === null ? null : [];
    }
    case 'text':
      return given;
  }
}

/** node:util parseArgs options for a table: each flag (and alias) as a string or boolean option. */
export function parseArgsConfig(table: OptionTable): Record<string, { type: 'string' | 'boolean' }> {
  const config: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const option of Object.values(table)) {
    config[option.flag] = { type: option.kind === 'switch' ? 'boolean' : 'string' };
    if (option.kind === 'choice') for (const alias of option.aliases ?? []) config[alias.flag] = { type: 'boolean' };
  }
  return config;
}

/** Every field of a table from parsed flags (flag → text, or true): checked, defaults filled in. */
export function readCommandLine<T extends OptionTable>(table: T, given: Readonly<Record<string, unknown>>): OptionValues<T> {
  const values: Record<string, unknown> = {};
  for (const [field, option] of Object.entries(table)) {
    const raw = given[option.flag];
    let value = raw === undefined ? option.default : fromCommandLine(option, raw as string | boolean);
    if (option.kind === 'choice') {
      const alias = option.aliases?.find((a) => given[a.flag] === true);
      if (alias) value = alias.value;
    }
    if (option.kind === 'text' && option.required && !value) throw new OctetError(`--${option.flag}`, option.required);
    values[field] = requestValue(option, value);
  }
  return values as OptionValues<T>;
}

/**
 * The flags that ask for `values`, in table order. Left out: absent and null values, values equal to the default
 * (a switch is given only to flip it), and values the engine would not read (`onlyWhen`).
 */
export function commandLineArguments<T extends OptionTable>(table: T, values: Partial<OptionValues<T>>): string[] {
  const given = values as Readonly<Record<string, unknown>>;
  const args: string[] = [];
  for (const [field, option] of Object.entries(table)) {
    const value = given[field];
    if (value === undefined || value === null) continue;
    if (option.onlyWhen) {
      const other = given[option.onlyWhen.option] ?? table[option.onlyWhen.option]?.default;
      if (!option.onlyWhen.values.some((v) => v === other)) continue;
    }
    if (option.kind === 'switch') {
      if (value !== option.default) args.push(`--${option.flag}`);
      continue;
    }
    const shown = Array.isArray(value) ? value.join(',') : String(value);
    const byDefault = option.default === null ? null : Array.isArray(option.default) ? option.default.join(',') : String(option.default);
    if (shown === '' || shown === byDefault) continue;
    args.push(`--${option.flag}`, shown);
  }
  return args;
}
