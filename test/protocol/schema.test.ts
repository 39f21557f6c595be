// The schema mechanism (src/common/schema.ts): errors name the path and what was expected; depth and size are
// bounded without recursion (a 100,000-deep array fails cleanly); and, checked by the typecheck of this file
// (`@ts-expect-error` lines fail it if the error goes away), a description can't be looser than its type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  anyOf, array, boolean, check, integer, literal, nullable, number, object, optional, partialRecord, record, Schema, string, variants,
} from '../../src/common/schema';

interface Settings { name: string; exclude: string[]; size?: number; mode: 'a' | 'b'; limit: number | null }
const settings: Schema<Settings> = object({
  name: string(), exclude: array(string()), size: optional(number()), mode: literal('a', 'b'), limit: nullable(number()),
});
const good: Settings = { name: 'n', exclude: ['x', 'y'], mode: 'a', limit: null };

function error<T>(schema: Schema<T>, value: unknown): string {
  const result = check(schema, value);
  assert.equal(result.ok, false, 'expected the value to be refused');
  return result.ok ? '' : result.error;
}

test('a value that fits comes back as is; fields the description does not mention are left alone', () => {
  const value = { ...good, size: 3, extra: { anything: [1, 'two'] } };
  const result = check(settings, value);
  assert.ok(result.ok);
  assert.equal(result.value, value);
});

test('errors name the path of the first mismatch and what was expected', () => {
  const nested = object({ settings, list: array(object({ id: integer() })) });
  assert.equal(error(nested, { settings: { ...good, exclude: ['a', 'b', 'c', ['d']] }, list: [] }),
    'settings.exclude[3]: expected a string, got an array');
  assert.equal(error(nested, { settings: good, list: [{ id: 1 }, { id: 1.5 }] }), 'list[1].id: expected a whole number, got 1.5');
  assert.equal(error(settings, { ...good, mode: 'c' }), "mode: expected one of 'a', 'b', got 'c'");
  assert.equal(error(settings, { ...good, limit: '5' }), 'limit: expected a number, got a string');
  assert.equal(error(settings, { ...good, size: null }), 'size: expected a number, got null');
  assert.equal(error(settings, { name: 'n', exclude: [], mode: 'a' }), 'limit: missing (expected a number or null)');
  assert.equal(error(settings, [good]), 'expected an object, got an array');
  assert.equal(error(settings, { ...good, limit: Number.NaN }), 'limit: expected a number, got NaN');
  assert.equal(error(record(boolean()), { 'a b': true, 'c.d': 'no' }), '["c.d"]: expected true or false, got a string');
  assert.equal(error(partialRecord(['x', 'y'], number()), { x: 1, z: 2 }), "unexpected key 'z' (expected one of 'x', 'y')");
  assert.equal(error(array(anyOf(number(), string())), [1, 'a', true]), '[2]: expected a number or a string, got true');
});

test('variants: the tag picks the fields checked; an unknown tag is named', () => {
  type Message = { type: 'ready'; age?: number } | { type: 'paint'; ms: number; nodes: number };
  const message: Schema<Message> = variants('type', { ready: { age: optional(number()) }, paint: { ms: number(), nodes: integer() } });
  assert.ok(check(message, { type: 'ready' }).ok);
  assert.ok(check(message, { type: 'paint', ms: 3, nodes: 2 }).ok);
  assert.equal(error(message, { type: 'paint', ms: 3 }), 'nodes: missing (expected a whole number)');
  assert.equal(error(message, { type: 'paint', ms: 3, nodes: 'many' }), 'nodes: expected a whole number, got a string');
  assert.equal(error(message, { type: 'toString' }), "type: expected one of 'ready', 'paint', got 'toString'");
  assert.equal(error(message, { kind: 'ready' }), "type: expected one of 'ready', 'paint', got nothing");
});

test('depth is bounded without recursion: a 100,000-deep array in any field fails cleanly', () => {
  const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
  const message = error(settings, { ...good, exclude: deep });
  assert.match(message, /^exclude(\[0\]){11}…: nested deeper than 32 levels$/);
  // Fields not in the description are bounded too (they would reach JSON.stringify or postMessage later).
  assert.match(error(settings, { ...good, unknown: deep }), /^unknown\[0\].*nested deeper than 32 levels$/);
  assert.ok(check(settings, { ...good, unknown: [[[1]]] }, { maxDepth: 4, maxSize: 1000 }).ok);
  assert.match(error(array(string()), [[['x']]]), /^\[0\]: expected a string, got an array$/);
});

test('total size is bounded: values, strings and keys all count', () => {
  const limits = { maxDepth: 8, maxSize: 1000 };
  assert.ok(check(settings, good, limits).ok);
  const longName = check(settings, { ...good, name: 'x'.repeat(2000) }, limits);
  assert.ok(!longName.ok && /^name: too large: more than 1000 values and characters$/.test(longName.error), JSON.stringify(longName));
  const manyValues = check(settings, { ...good, exclude: Array.from({ length: 2000 }, () => 'a') }, limits);
  assert.ok(!manyValues.ok && /too large/.test(manyValues.error));
  // A cycle (structured clone keeps them) is stopped by the size bound instead of looping.
  const cyclic: Record<string, unknown> = { ...good };
  cyclic.self = cyclic;
  assert.match(error(settings, cyclic), /too large|nested deeper/);
});

// ---- compile-time: each line below must fail the typecheck (tsc -p test) ----
interface Typed { a: string; b?: number; c: 'x' | 'y'; d: { e: number | null }[] }
export const exact: Schema<Typed> = object({ a: string(), b: optional(number()), c: literal('x', 'y'), d: array(object({ e: nullable(number()) })) });
// @ts-expect-error an optional field left out
export const missingOptional: Schema<Typed> = object({ a: string(), c: literal('x', 'y'), d: array(object({ e: nullable(number()) })) });
// @ts-expect-error a field required in the description but optional in the type
export const tooStrict: Schema<Typed> = object({ a: string(), b: number(), c: literal('x', 'y'), d: array(object({ e: nullable(number()) })) });
// @ts-expect-error any string where the type allows two
export const looseLiteral: Schema<Typed> = object({ a: string(), b: optional(number()), c: string(), d: array(object({ e: nullable(number()) })) });
// @ts-expect-error null not allowed by the description at d[].e
export const notNullable: Schema<Typed> = object({ a: string(), b: optional(number()), c: literal('x', 'y'), d: array(object({ e: number() })) });
// @ts-expect-error a field the type does not have
export const extraField: Schema<Typed> = object({ a: string(), b: optional(number()), c: literal('x', 'y'), d: array(object({ e: nullable(number()) })), z: optional(string()) });
type Tagged = { type: 'ready'; age?: number } | { type: 'go'; n: number };
// @ts-expect-error a variant left out
export const missingVariant: Schema<Tagged> = variants('type', { ready: { age: optional(number()) } });
// @ts-expect-error a variant's optional field left out
export const missingVariantField: Schema<Tagged> = variants('type', { ready: {}, go: { n: number() } });
