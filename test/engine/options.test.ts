// The engine-options table (src/engine/options.ts) against everything that restates it: package.json's VS Code
// settings, docs/cli.md, the CLI's parser and exit codes, and the extension's settings reader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OctetError } from '../../src/common/errors';
import { OptionSpec, OptionTable, readCommandLine } from '../../src/engine/option-kinds';
import { EVAL_COMMAND, INSPECT_COMMAND, QUANTIZE_COMMAND, QUANTIZE_OPTIONS, readSettingValues, settingOptions } from '../../src/engine/options';
import { resolveRequest } from '../../src/engine/request';

const REPO = join(__dirname, '..', '..', '..');
const COMMANDS: Record<string, OptionTable> = { quantize: QUANTIZE_COMMAND, eval: EVAL_COMMAND, inspect: INSPECT_COMMAND };

interface SettingSchema { type: string | string[]; default: unknown; enum?: string[]; enumDescriptions?: string[]; minimum?: number; maximum?: number }

function settingsSchema(): Record<string, SettingSchema> {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, SettingSchema> } } };
  return pkg.contributes.configuration.properties;
}

function flagsOf(option: OptionSpec): string[] {
  return [option.flag, ...(option.kind === 'choice' ? (option.aliases ?? []).map((a) => a.flag) : [])];
}

test('the table is consistent: defaults among the values, unique flags, onlyWhen names an option', () => {
  for (const [name, table] of Object.entries(COMMANDS)) {
    const flags = Object.values(table).flatMap(flagsOf);
    assert.equal(new Set(flags).size, flags.length, `${name}: a flag is defined twice`);
    for (const [field, option] of Object.entries(table)) {
      if (option.kind === 'choice') {
        assert.ok(option.values.includes(option.default), `${field}: default ${option.default} is not among its values`);
        for (const v of option.setting?.values ?? []) assert.ok(option.values.includes(v), `${field}: setting value ${v} is not an engine value`);
      }
      if (option.onlyWhen) {
        const other = table[option.onlyWhen.option];
        assert.ok(other, `${field}: onlyWhen names ${option.onlyWhen.option}, which ${name} does not have`);
      }
    }
  }
  const keys = settingOptions().map(([, o]) => o.setting.key);
  assert.equal(new Set(keys).size, keys.length, 'two options share a VS Code setting');
});

test("package.json's settings carry the table's defaults, enums and bounds", () => {
  const schema = settingsSchema();
  const linked = settingOptions();
  assert.ok(linked.length >= 10);
  for (const [field, option] of linked) {
    const setting = schema[`octet.${option.setting.key}`];
    assert.ok(setting, `package.json has no octet.${option.setting.key} (carries ${field})`);
    const name = `octet.${option.setting.key}`;
    const baseType = { integer: 'integer', number: 'number', choice: 'string', switch: 'boolean', text: 'string', list: 'array' }[option.kind];
    const nullable = option.kind !== 'switch' && option.default === null;
    assert.deepEqual(setting.type, nullable ? [baseType, 'null'] : baseType, `${name}: type`);
    assert.deepEqual(setting.default, option.default, `${name}: default`);
    if (option.kind === 'choice') {
      assert.deepEqual(setting.enum, [...(option.setting.values ?? option.values)], `${name}: enum`);
      if (setting.enumDescriptions) assert.equal(setting.enumDescriptions.length, setting.enum?.length, `${name}: one description per value`);
    } else {
      assert.equal(setting.enum, undefined, `${name}: enum`);
    }
    const bounds = option.kind === 'integer' || option.kind === 'number' ? { min: option.min, max: option.max } : {};
    assert.equal(setting.minimum, bounds.min, `${name}: minimum`);
    assert.equal(setting.maximum, bounds.max, `${name}: maximum`);
  }
  const carried = new Set(linked.map(([, o]) => `octet.${o.setting.key}`));
  const engineSettings = Object.keys(schema).filter((k) => /^octet\.[A-Za-z]+$/.test(k));
  for (const key of engineSettings) assert.ok(carried.has(key), `${key} is in package.json but no engine option names it as its setting`);
});

test('docs/cli.md names every flag, with the table\'s defaults and values where it states them', () => {
  const doc = readFileSync(join(REPO, 'docs', 'cli.md'), 'utf8');
  for (const [name, table] of Object.entries(COMMANDS)) {
    const section = doc.split(/^## /m).find((s) => s.startsWith(`${name}\n`));
    assert.ok(section, `docs/cli.md has no "## ${name}" section`);
    for (const option of Object.values(table)) {
      for (const flag of flagsOf(option)) assert.match(section, new RegExp(`--${flag}(?![\\w-])`), `${name}: --${flag} is not documented`);
      const f = option.flag;
      for (const m of section.matchAll(new RegExp(`--${f} [A-Z.,]+=([^\\]\\s]+)`, 'g'))) {
        assert.equal(m[1], String(option.default), `${name}: docs say --${f} defaults to ${m[1]}`);
      }
      for (const m of section.matchAll(new RegExp(`\`--${f}\` \\(default \`([^\`]+)\``, 'g'))) {
        assert.equal(m[1], String(option.default), `${name}: docs say --${f} defaults to ${m[1]}`);
      }
      if (option.kind === 'choice') {
        for (const m of section.matchAll(new RegExp(`--${f} ([\\w-]+(?:\\|[\\w-]+)+)`, 'g'))) {
          assert.deepEqual(m[1].split('|').sort(), [...option.values].sort(), `${name}: docs list other values for --${f}`);
        }
      }
    }
  }
});

test('the command line is read from the table: defaults, flags, aliases, errors that name the flag', () => {
  const read = (given: Record<string, string | boolean>) => readCommandLine(QUANTIZE_COMMAND, { calib: '/c', ...given });
  const plain = read({});
  for (const [field, option] of Object.entries<OptionSpec>(QUANTIZE_OPTIONS)) {
    const expected = option.kind === 'choice' && option.nullValue === option.default ? null : option.default;
    assert.deepEqual(plain[field as keyof typeof plain], field === 'calib' ? '/c' : expected, field);
  }
  assert.equal(read({ 'per-tensor': true }).perChannel, false);
  assert.equal(read({ 'no-eval': true }).evaluate, false);
  assert.equal(read({ sensitivity: true }).sensitivity, true);
  assert.equal(read({ 'reduce-range': true, 'weight-range': 'full' }).weightRange, '7bit');
  assert.equal(read({ layout: 'NHWC' }).layout, 'NHWC');
  assert.equal(read({ layout: 'auto' }).layout, null);
  assert.deepEqual(read({ 'op-types': 'Conv, Gemm' }).opTypes, ['Conv', 'Gemm']);
  assert.deepEqual(read({ exclude: ',' }).exclude, []);
  assert.equal(read({ 'max-drop': '0.5' }).maxDrop, 0.5);
  const fails = (given: Record<string, string>, subject: string, message: RegExp) => assert.throws(() => read(given),
    (err: unknown) => err instanceof OctetError && err.subject === subject && message.test(err.message), JSON.stringify(given));
  fails({ percentile: '20' }, '--percentile', /--percentile: must be a number in \[50, 100\] \(got '20'\)/);
  fails({ percentile: 'x' }, '--percentile', /must be a number in \[50, 100\]/);
  fails({ 'calib-count': '2.5' }, '--calib-count', /must be an integer ≥ 1 \(got '2.5'\)/);
  fails({ 'calib-batch': '' }, '--calib-batch', /must be an integer ≥ 1/);
  fails({ method: 'magic' }, '--method', /must be one of minmax, entropy, percentile, mse, auto \(got 'magic'\)/);
  fails({ 'max-drop': '101' }, '--max-drop', /must be a number in \[0, 100\]/);
  assert.throws(() => readCommandLine(QUANTIZE_COMMAND, {}), /--calib: a calibration data set is required/);
});

test('a caller that leaves options out gets the defaults the command line gets', () => {
  const { progress, json, ...fromCli } = readCommandLine(QUANTIZE_COMMAND, { calib: '/c' });
  assert.equal(progress, 'text');
  assert.equal(json, false);
  assert.deepEqual(resolveRequest({ model: '/m.onnx', calib: '/c' }), { model: '/m.onnx', ...fromCli });
  const given = resolveRequest({ model: '/m.onnx', calib: '/c', calibCount: 7, maxDrop: null, exclude: ['a'] });
  assert.equal(given.calibCount, 7);
  assert.deepEqual(given.exclude, ['a']);
  assert.equal(given.maxDrop, null);
  const a = resolveRequest({ model: '/m.onnx', calib: '/c' });
  a.exclude.push('x');
  assert.deepEqual(resolveRequest({ model: '/m.onnx', calib: '/c' }).exclude, [], 'defaults are not shared between requests');
});

test('the real CLI: a bad value exits 1 naming the flag, an unknown flag exits 2, help lists every flag', () => {
  const engine = join(REPO, 'dist', 'engine.js');
  const run = (...args: string[]) => spawnSync(process.execPath, [engine, ...args], { encoding: 'utf8', timeout: 60_000 });
  const bad = run('quantize', '/nowhere/m.onnx', '--calib', '/nowhere', '--percentile', '101');
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stderr, /octet: error: --percentile: must be a number in \[50, 100\] \(got '101'\)/);
  const unknown = run('quantize', '/nowhere/m.onnx', '--calib', '/nowhere', '--percentil', '99');
  assert.equal(unknown.status, 2, unknown.stderr);
  for (const [name, table] of Object.entries(COMMANDS)) {
    const help = run('help', name);
    assert.equal(help.status, 0);
    for (const flag of Object.values(table).flatMap(flagsOf)) assert.match(help.stdout, new RegExp(`--${flag}(?![\\w-])`), `${name} help: --${flag}`);
  }
  assert.match(run('--help').stdout, /\[--calib-count N=100\]/);
});

test('the extension reads its settings through the table: out-of-range values fall back to the default', () => {
  const defaults = readSettingValues(() => undefined);
  assert.equal(defaults.percentile, 99.999);
  assert.equal(defaults.calibCount, 100);
  assert.equal(defaults.maxDrop, null);
  assert.equal(defaults.perChannel, true);
  const settings: Record<string, unknown> = {
    percentile: 20, calibrationCount: 1.5, method: 'auto', maxDrop: 2, preprocess: 'tf', perChannel: 'yes', evaluationCount: 0,
  };
  const read = readSettingValues((key) => settings[key]);
  assert.equal(read.percentile, 99.999, 'the CLI range [50, 100] holds in VS Code too');
  assert.equal(read.calibCount, 100);
  assert.equal(read.method, 'mse', "'auto' is not offered as a setting");
  assert.equal(read.maxDrop, 2);
  assert.equal(read.preprocess, 'tf');
  assert.equal(read.perChannel, true);
  assert.equal(read.evalCount, 0);
  assert.equal(readSettingValues((key) => (key === 'percentile' ? 50 : undefined)).percentile, 50);
});
