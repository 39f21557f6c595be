// JSON shapes described once. A description (`object({ name: string(), size: optional(number()) })`) gives:
// - a validator, `check(schema, value)`, that names the path of the first mismatch
//   (`settings.exclude[3]: expected a string, got an array`) and bounds nesting depth and total size with an
//   iterative walk, so a deeply nested or huge value fails cleanly instead of overflowing the stack;
// - a compile-time guarantee that it is exactly as strict as the TypeScript type it guards: `Schema<T>` is
//   invariant in T and in T with every optional field made required, so `const s: Schema<Report> = object({...})`
//   fails to compile when a field of Report (optional or not) is missing, of another kind, optional on one side
//   only, or when the description has a field Report lacks.
// Fields a description does not mention are accepted and left alone (the depth and size bounds still cover them).

export type Primitive = string | number | boolean;

type FieldNode = { readonly name: string; readonly node: SchemaNode; readonly optional: boolean };

/** The runtime description the validator walks. */
export type SchemaNode =
  | { readonly kind: 'string' }
  | { readonly kind: 'number'; readonly integer: boolean }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'null' }
  | { readonly kind: 'literal'; readonly values: readonly Primitive[] }
  | { readonly kind: 'array'; readonly items: SchemaNode }
  | { readonly kind: 'object'; readonly fields: readonly FieldNode[] }
  | { readonly kind: 'record'; readonly keys: readonly string[] | null; readonly values: SchemaNode }
  | { readonly kind: 'anyOf'; readonly options: readonly SchemaNode[] }
  | { readonly kind: 'variants'; readonly tag: string; readonly variants: Readonly<Record<string, readonly FieldNode[]>> };

/** T with every optional field, at any depth, made required: compared too, so a description can't skip one. */
export type EveryField<T> = T extends readonly (infer E)[] ? EveryField<E>[]
  : T extends object ? { [K in keyof T]-?: EveryField<T[K]> } : T;

export interface Schema<T> {
  readonly node: SchemaNode;
  /** Never set: makes Schema<T> invariant in T and EveryField<T> (see the top of this file). */
  readonly __type?: (value: T, everyField: EveryField<T>) => [T, EveryField<T>];
}

/** A field that may be absent (or undefined); only meaningful inside `object` and `variants`. */
export interface Optional<T> { readonly optional: Schema<T> }

// `any` here only bounds what may be passed; every schema keeps its own exact type.
type AnySchema = Schema<any>;
type Fields = Record<string, AnySchema | Optional<any>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type Infer<S> = S extends Schema<infer T> ? T : never;
type InferFields<F extends Fields> = Simplify<
  { [K in keyof F as F[K] extends Optional<infer _> ? never : K]: F[K] extends Schema<infer T> ? T : never }
  & { [K in keyof F as F[K] extends Optional<infer _> ? K : never]?: F[K] extends Optional<infer T> ? T : never }>;

const make = <T>(node: SchemaNode): Schema<T> => ({ node });

export const string = (): Schema<string> => make({ kind: 'string' });
export const number = (): Schema<number> => make({ kind: 'number', integer: false });
export const integer = (): Schema<number> => make({ kind: 'number', integer: true });
export const boolean = (): Schema<boolean> => make({ kind: 'boolean' });
export const literal = <const V extends readonly Primitive[]>(...values: V): Schema<V[number]> => make({ kind: 'literal', values });
export const array = <T>(items: Schema<T>): Schema<T[]> => make({ kind: 'array', items: items.node });
export const nullable = <T>(inner: Schema<T>): Schema<T | null> => make({ kind: 'anyOf', options: [inner.node, { kind: 'null' }] });
export const optional = <T>(inner: Schema<T>): Optional<T> => ({ optional: inner });
/** One of several schemas, tried in order (for primitives: `anyOf(number(), string())`). */
export const anyOf = <S extends AnySchema[]>(...options: S): Schema<Infer<S[number]>> =>
  make({ kind: 'anyOf', options: options.map((o) => o.node) });

function fieldNodes(fields: Fields): FieldNode[] {
  return Object.entries(fields).map(([name, field]) => ('optional' in field
    ? { name, node: field.optional.node, optional: true }
    : { name, node: field.node, optional: false }));
}

export const object = <F extends Fields>(fields: F): Schema<InferFields<F>> => make({ kind: 'object', fields: fieldNodes(fields) });

/** An object used as a map: any keys, every value of one schema. */
export const record = <T>(values: Schema<T>): Schema<Record<string, T>> => make({ kind: 'record', keys: null, values: values.node });

/** A map whose keys, all optional, come from a fixed list. */
export const partialRecord = <const K extends readonly string[], T>(keys: K, values: Schema<T>): Schema<Partial<Record<K[number], T>>> =>
  make({ kind: 'record', keys, values: values.node });

/** A union of objects told apart by a string field `tag`: `variants('type', { ready: {}, export: { format: ... } })`. */
export const variants = <Tag extends string, V extends Record<string, Fields>>(tag: Tag, shapes: V):
  Schema<{ [K in keyof V & string]: Simplify<{ [P in Tag]: K } & InferFields<V[K]>> }[keyof V & string]> =>
  make({ kind: 'variants', tag, variants: Object.fromEntries(Object.entries(shapes).map(([name, fields]) => [name, fieldNodes(fields)])) });

export interface Limits {
  /** Deepest nesting of arrays and objects accepted (the top-level value is depth 1). */
  maxDepth: number;
  /** Most work accepted: every value counts 1, every string and object key its length. */
  maxSize: number;
}

export const DEFAULT_LIMITS: Limits = { maxDepth: 32, maxSize: 64 * 1024 * 1024 };

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/** Checks `value` against `schema` within `limits`; on failure, `error` names the path and what was expected. */
export function check<T>(schema: Schema<T>, value: unknown, limits: Limits = DEFAULT_LIMITS): Checked<T> {
  const bounds = checkBounds(value, limits);
  if (bounds) return { ok: false, error: bounds };
  const path: (string | number)[] = [];
  const error = checkNode(schema.node, value, path);
  return error === undefined ? { ok: true, value: value as T } : { ok: false, error: atPath(path, error) };
}

export function matches<T>(schema: Schema<T>, value: unknown, limits: Limits = DEFAULT_LIMITS): value is T {
  return check(schema, value, limits).ok;
}

// ---- bounds: one iterative walk over the whole value, described or not ----

interface Visit { value: unknown; depth: number; parent: Visit | undefined; key: string | number | undefined }

function checkBounds(root: unknown, limits: Limits): string | undefined {
  const stack: Visit[] = [{ value: root, depth: 1, parent: undefined, key: undefined }];
  let size = 0;
  while (stack.length > 0) {
    const visit = stack.pop() as Visit;
    const { value } = visit;
    size += 1;
    if (typeof value === 'string') size += value.length;
    if (typeof value === 'object' && value !== null) {
      if (visit.depth > limits.maxDepth) return atPath(pathOf(visit), `nested deeper than ${limits.maxDepth} levels`);
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: visit.depth + 1, parent: visit, key: i });
      } else {
        for (const key of Object.keys(value)) {
          size += key.length;
          stack.push({ value: (value as Record<string, unknown>)[key], depth: visit.depth + 1, parent: visit, key });
        }
      }
    }
    if (size > limits.maxSize) return atPath(pathOf(visit), `too large: more than ${limits.maxSize} values and characters`);
  }
  return undefined;
}

function pathOf(visit: Visit): (string | number)[] {
  const path: (string | number)[] = [];
  for (let v: Visit | undefined = visit; v && v.key !== undefined; v = v.parent) path.push(v.key);
  return path.reverse();
}

const MAX_SHOWN_SEGMENTS = 12;

function atPath(path: readonly (string | number)[], message: string): string {
  if (path.length === 0) return message;
  const shown = path.slice(0, MAX_SHOWN_SEGMENTS).map((segment, i) => (typeof segment === 'number' ? `[${segment}]`
    : /^[A-Za-z_$][\w$]*$/.test(segment) ? `${i === 0 ? '' : '.'}${segment}` : `[${JSON.stringify(segment)}]`));
  return `${shown.join('')}${path.length > MAX_SHOWN_SEGMENTS ? '…' : ''}: ${message}`;
}

// ---- types: recursion only as deep as the schema (bounded), never as deep as the value ----

/** Returns the problem (and leaves `path` pointing at it), or undefined when `value` fits. */
function checkNode(node: SchemaNode, value: unknown, path: (string | number)[]): string | undefined {
  switch (node.kind) {
    case 'string':
    case 'boolean':
      return typeof value === node.kind ? undefined : mismatch(node, value);
    case 'null':
      return value === null ? undefined : mismatch(node, value);
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) && (!node.integer || Number.isInteger(value)) ? undefined : mismatch(node, value);
    case 'literal':
      return node.values.includes(value as Primitive) ? undefined : mismatch(node, value);
    case 'array': {
      if (!Array.isArray(value)) return mismatch(node, value);
      for (let i = 0; i < value.length; i++) {
        path.push(i);
        const error = checkNode(node.items, value[i], path);
        if (error !== undefined) return error;
        path.pop();
      }
      return undefined;
    }
    case 'object':
      return isPlainObject(value) ? checkFields(node.fields, value, path) : mismatch(node, value);
    case 'record': {
      if (!isPlainObject(value)) return mismatch(node, value);
      for (const [key, entry] of Object.entries(value)) {
        if (node.keys && !node.keys.includes(key)) return `unexpected key ${quote(key)} (expected ${oneOf(node.keys)})`;
        path.push(key);
        const error = checkNode(node.values, entry, path);
        if (error !== undefined) return error;
        path.pop();
      }
      return undefined;
    }
    case 'anyOf': {
      // Null-or-something: the something's own error says more than "expected X or null".
      const [inner, alternative] = node.options;
      if (node.options.length === 2 && alternative.kind === 'null') return value === null ? undefined : checkNode(inner, value, path);
      for (const option of node.options) if (checkNode(option, value, []) === undefined) return undefined;
      return mismatch(node, value);
    }
    case 'variants': {
      if (!isPlainObject(value)) return mismatch(node, value);
      const tag = value[node.tag];
      const fields = typeof tag === 'string' && Object.hasOwn(node.variants, tag) ? node.variants[tag] : undefined;
      if (!fields) {
        path.push(node.tag);
        return mismatch({ kind: 'literal', values: Object.keys(node.variants) }, tag);
      }
      return checkFields(fields, value, path);
    }
  }
}

function checkFields(fields: readonly FieldNode[], value: Record<string, unknown>, path: (string | number)[]): string | undefined {
  for (const field of fields) {
    const entry = value[field.name];
    path.push(field.name);
    if (entry === undefined || !Object.hasOwn(value, field.name)) {
      if (!field.optional) return `missing (expected ${expected(field.node)})`;
    } else {
      const error = checkNode(field.node, entry, path);
      if (error !== undefined) return error;
    }
    path.pop();
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function mismatch(node: SchemaNode, value: unknown): string {
  return `expected ${expected(node)}, got ${got(value, node.kind === 'literal')}`;
}

function expected(node: SchemaNode): string {
  switch (node.kind) {
    case 'string': return 'a string';
    case 'number': return node.integer ? 'a whole number' : 'a number';
    case 'boolean': return 'true or false';
    case 'null': return 'null';
    case 'literal': return oneOf(node.values);
    case 'array': return `an array of ${plural(node.items)}`;
    case 'object': case 'record': case 'variants': return 'an object';
    case 'anyOf': return node.options.map(expected).join(' or ');
  }
}

function plural(node: SchemaNode): string {
  switch (node.kind) {
    case 'string': return 'strings';
    case 'number': return node.integer ? 'whole numbers' : 'numbers';
    case 'array': return 'arrays';
    case 'object': case 'record': case 'variants': return 'objects';
    default: return `(${expected(node)})`;
  }
}

function oneOf(values: readonly Primitive[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? quote(v) : String(v)));
  return shown.length === 1 ? shown[0] : `one of ${shown.join(', ')}`;
}

function quote(text: string): string {
  return `'${text.length > 40 ? `${text.slice(0, 40)}…` : text}'`;
}

function got(value: unknown, showValue: boolean): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  if (showValue && (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')) {
    return typeof value === 'string' ? quote(value) : String(value);
  }
  switch (typeof value) {
    case 'string': return 'a string';
    case 'number': return String(value);
    case 'boolean': return value ? 'true' : 'false';
    case 'object': return 'an object';
    default: return `a ${typeof value}`;
  }
}
