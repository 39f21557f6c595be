// `octet report` through the real CLI (dist/engine.js): Markdown to stdout or a file, HTML beside the JSON by
// default, and one clear error naming the file for anything that is not a readable v1 report.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tempDir } from '../fixtures/models';
import { realisticReport } from './fixture';
import { REPORT_SCHEMA_VERSION } from '../../src/common/report';

const engine = resolve(process.cwd(), 'dist/engine.js');

function octet(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [engine, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeReport(dir: string, value: unknown = realisticReport(), name = 'r20.int8.report.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return path;
}

test('octet report: markdown on stdout by default, or to --out', () => {
  const dir = tempDir();
  const path = writeReport(dir);
  const r = octet(['report', path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# Octet INT8 report — resnet20\\_cifar10\\_akamaster\.onnx/);
  assert.match(r.stdout, /\| Top-1 \| 80\.25% \| 81\.50% \| −1\.25 pts \|/);
  assert.deepEqual(readdirSync(dir), ['r20.int8.report.json'], 'nothing written');

  const out = join(dir, 'summary.md');
  const w = octet(['report', path, '--format', 'md', '--out', out]);
  assert.equal(w.code, 0, w.stderr);
  assert.equal(w.stdout, '');
  assert.match(w.stderr, /wrote .*summary\.md/);
  assert.equal(readFileSync(out, 'utf8').trimEnd(), r.stdout.trimEnd());
});

test('octet report --format html: REPORT.html beside the json by default; --out and - work', () => {
  const dir = tempDir();
  const path = writeReport(dir);
  const r = octet(['report', path, '--format', 'html']);
  assert.equal(r.code, 0, r.stderr);
  const html = join(dir, 'r20.int8.report.html');
  assert.ok(existsSync(html));
  assert.match(readFileSync(html, 'utf8'), /^<!DOCTYPE html>[^]*<canvas id="chart-layers"/);
  assert.deepEqual(readdirSync(dir).sort(), ['r20.int8.report.html', 'r20.int8.report.json'], 'no temp files left');

  const custom = join(dir, 'page.html');
  assert.equal(octet(['report', path, '--format', 'html', '--out', custom]).code, 0);
  assert.ok(existsSync(custom));
  const stdout = octet(['report', path, '--format', 'html', '--out', '-']);
  assert.equal(stdout.code, 0, stdout.stderr);
  assert.match(stdout.stdout, /^<!DOCTYPE html>/);
});

test('octet report: clear errors naming the file', () => {
  const dir = tempDir();
  const expectError = (args: string[], subject: string, cause: RegExp, code = 1) => {
    const r = octet(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(subject), `names ${subject}: ${r.stderr}`);
    assert.match(r.stderr, cause);
    assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/);
  };
  expectError(['report', writeReport(dir, '{ not json', 'bad.json')], join(dir, 'bad.json'), /is not valid JSON/);
  expectError(['report', writeReport(dir, '{"hello": 1}', 'other.json')], join(dir, 'other.json'), /not an Octet report/);
  expectError(['report', writeReport(dir, { ...realisticReport(), schemaVersion: REPORT_SCHEMA_VERSION + 1 }, 'newer.json')], join(dir, 'newer.json'), new RegExp(`newer Octet \\(report schema ${REPORT_SCHEMA_VERSION + 1}`));
  expectError(['report', writeReport(dir, { ...realisticReport(), schemaVersion: 0 }, 'zero.json')], join(dir, 'zero.json'), /unknown report schemaVersion 0/);
  expectError(['report', join(dir, 'missing.json')], join(dir, 'missing.json'), /no such file/);
  const good = writeReport(dir);
  expectError(['report', good, '--format', 'pdf'], '--format', /must be one of md, html/);
  expectError(['report', good, '--out', good], good, /is the report being read/);
  expectError(['report', good, '--format', 'html', '--out', join(dir, 'no', 'such', 'dir', 'x.html')], join(dir, 'no', 'such', 'dir', 'x.html'), /no such file or folder/);
  expectError(['report'], 'usage', /octet report REPORT\.json/);
  expectError(['report', good, '--bogus'], 'bogus', /Unknown option/, 2);
  assert.ok(!readdirSync(dir).some((f) => f.endsWith('.html') || f.endsWith('.tmp')), 'nothing written on error');
});
