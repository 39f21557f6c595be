// After a cancelled or failed run: temp files and outputs written by the run go, earlier outputs stay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findEngineTempFiles, removePartialOutputs, snapshotOutputs } from '../../src/extension/quantize/output-cleanup';
import { tempDir } from '../fixtures/models';

test('removes temp files and outputs the run created, keeps unrelated files', () => {
  const dir = tempDir();
  const model = join(dir, 'm.int8.onnx');
  const report = join(dir, 'm.int8.report.json');
  const snapshot = snapshotOutputs([model, report]);
  const tmp = join(dir, '.m.int8.onnx.1234.abcd.tmp');
  const dataTmp = join(dir, '.m.int8.onnx.data.1234.ef01.tmp');
  const unrelated = join(dir, '.other.onnx.1.2.tmp');
  for (const f of [tmp, dataTmp, unrelated, model]) writeFileSync(f, 'x');
  assert.deepEqual(findEngineTempFiles([model, report]).sort(), [dataTmp, tmp].sort());
  const removed = removePartialOutputs(snapshot);
  assert.deepEqual(removed.sort(), [dataTmp, model, tmp].sort());
  assert.ok(existsSync(unrelated));
  assert.ok(!existsSync(model));
});

test('outputs of an earlier run are kept when this run did not touch them', () => {
  const dir = tempDir();
  const model = join(dir, 'm.int8.onnx');
  writeFileSync(model, 'earlier');
  utimesSync(model, new Date(2020, 1, 1), new Date(2020, 1, 1));
  const snapshot = snapshotOutputs([model]);
  assert.deepEqual(removePartialOutputs(snapshot), []);
  assert.ok(existsSync(model));
});
