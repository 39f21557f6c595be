// Report JSON is checked whole before anything renders it (issue 13): through the real CLI, a deeply nested array
// in settings.exclude, a string schemaVersion, a newer schema, a field of the wrong type, a file too big to be a
// report and a FIFO each end in seconds with exit 1 and one line naming the file and the field; older reports
// without the optional fields still load; the extension is told to update itself, the CLI to update Octet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { OctetError } from '../../src/common/errors';
import { REPORT_SCHEMA_VERSION } from '../../src/common/report';
import { MAX_REPORT_BYTES } from '../../src/common/report-schema';
import { loadReport, parseReport } from '../../src/report/load-report';
import { tempDir } from '../fixtures/models';
import { realisticReport, reportWithTuning } from './fixture';

const engine = resolve(process.cwd(), 'dist/engine.js');

function octetReport(path: string, format: 'md' | 'html'): { code: number | null; stderr: string; ms: number } {
  const started = Date.now();
  const r = spawnSync(process.execPath, [engine, 'report', path, '--format', format, '--out', '-'], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr, ms: Date.now() - started };
}

function refused(text: string, reader: 'cli' | 'extension' = 'cli'): string {
  try {
    parseReport(text, 'r.json', reader);
  } catch (err) {
    assert.ok(err instanceof OctetError, String(err));
    return err.message;
  }
  assert.fail('the report was accepted');
}

/** The realistic report as JSON after `change`, which may break it any way it likes (hence `any`). */
const withChange = (change: (report: Record<string, any>) => void): string => {
  const report = structuredClone(realisticReport()) as unknown as Record<string, any>;
  change(report);
  return JSON.stringify(report);
};

test('octet report: a deeply nested array in settings.exclude is exit 1 naming the field, not a stack overflow', () => {
  const dir = tempDir();
  const path = join(dir, 'deep.report.json');
  const depth = 200_000;
  writeFileSync(path, withChange((r) => { r.settings.exclude = 'DEEP'; }).replace('"DEEP"', `${'['.repeat(depth)}${']'.repeat(depth)}`));
  for (const format of ['md', 'html'] as const) {
    const r = octetReport(path, format);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /deep\.report\.json: is not a valid Octet report: settings\.exclude(\[0\])+…: nested deeper than 16 levels/);
    assert.doesNotMatch(r.stderr, /RangeError|Maximum call stack|at /);
    assert.ok(r.ms < 20_000, `${r.ms} ms`);
  }
});

test('wrong types are errors naming the field, not `undefined` on the page', () => {
  assert.match(refused(withChange((r) => { r.accuracy.fp32.top1 = '80%'; })), /^r\.json: is not a valid Octet report: accuracy\.fp32\.top1: expected a number, got a string$/);
  assert.match(refused(withChange((r) => { r.settings.exclude = ['a', 'b', 'c', ['d']]; })), /settings\.exclude\[3\]: expected a string, got an array$/);
  assert.match(refused(withChange((r) => { r.layers[2].method = 'magic'; })), /layers\[2\]\.method: expected one of 'minmax', 'entropy', 'percentile', 'mse', got 'magic'$/);
  assert.match(refused(withChange((r) => { delete r.machine.cores; })), /machine\.cores: missing \(expected a number\)$/);
  assert.match(refused(withChange((r) => { r.calibration.methodScores = { fastest: 3 }; })), /calibration\.methodScores: unexpected key 'fastest'/);
  assert.match(refused('[1, 2]'), /not an Octet report \(no schemaVersion field\)/);
});

test('schemaVersion: a string is called not a number; a newer one says what to update, per reader', () => {
  assert.match(refused(withChange((r) => { r.schemaVersion = '1'; })), /r\.json: is not an Octet report this version can read: schemaVersion: expected a whole number, got a string$/);
  assert.match(refused(withChange((r) => { r.schemaVersion = 0; })), /unknown report schemaVersion 0/);
  const newer = withChange((r) => { r.schemaVersion = REPORT_SCHEMA_VERSION + 1; r.settings = 'changed in a way this reader cannot know'; });
  assert.match(refused(newer, 'cli'), new RegExp(`written by a newer Octet \\(report schema ${REPORT_SCHEMA_VERSION + 1}; this one reads up to ${REPORT_SCHEMA_VERSION}\\)\\. Update Octet\\.$`));
  assert.match(refused(newer, 'extension'), /Update the extension\.$/);
  const dir = tempDir();
  const path = join(dir, 'newer.report.json');
  writeFileSync(path, newer);
  const r = octetReport(path, 'md');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Update Octet\./);
});

test('older reports without the optional fields still load; reports with every optional field load too', () => {
  const old = withChange((r) => {
    delete r.settings.biasCorrection;
    delete r.settings.biasCorrectionRequested;
    delete r.calibration.biasCorrection;
    delete r.calibration.tensorMethods;
    delete r.sensitivity;
    for (const bench of r.bench) delete bench.throughput;
    for (const layer of r.layers) { delete layer.ownSqnrDb; delete layer.localSqnrDb; delete layer.weightSqnrDb; }
    for (const tensor of r.calibration.tensors) delete tensor.method;
  });
  assert.equal(parseReport(old, 'old.json').layers.length, realisticReport().layers.length);
  assert.ok(parseReport(JSON.stringify(reportWithTuning()), 'tuning.json').tuning);
});

test('a file too big to be a report is refused before it is read; a FIFO or a folder does not hang or crash', () => {
  const dir = tempDir();
  const big = join(dir, 'big.report.json');
  writeFileSync(big, '{}');
  truncateSync(big, MAX_REPORT_BYTES + 1024 * 1024);
  const started = Date.now();
  const r = octetReport(big, 'md');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /big\.report\.json: is 65 MB; an Octet report is at most 64 MB/);
  assert.ok(Date.now() - started < 10_000);

  const fifo = join(dir, 'pipe.report.json');
  execFileSync('mkfifo', [fifo]);
  assert.throws(() => loadReport(fifo), /pipe\.report\.json: is not a regular file \(a device, pipe or socket\)/);
  const folder = join(dir, 'folder.report.json');
  mkdirSync(folder);
  assert.throws(() => loadReport(folder), /folder\.report\.json: is not a regular file \(a folder\)/);
});
