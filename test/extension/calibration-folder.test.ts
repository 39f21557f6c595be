// What the prompt tells the person about a calibration folder: image count and where labels come from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeCalibrationFolder, inspectCalibrationFolder } from '../../src/extension/quantize/calibration-folder';
import { tempDir } from '../fixtures/models';

test('class subfolders are detected as labels', () => {
  const dir = tempDir();
  for (const cls of ['cat', 'dog', 'ship']) {
    mkdirSync(join(dir, cls));
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, cls, `${i}.jpg`), 'x');
  }
  const info = inspectCalibrationFolder(dir);
  assert.equal(info.images, 12);
  assert.deepEqual(info.labels, { kind: 'subfolders', classes: 3 });
  assert.match(describeCalibrationFolder(info), /12 images in 3 class subfolders.*top-1\/top-5/);
});

test('a labels.txt beside the images wins over folders', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'labels.txt'), 'a.png 1\nb.png 2\n');
  writeFileSync(join(dir, 'a.png'), 'x');
  writeFileSync(join(dir, 'b.PNG'), 'x');
  const info = inspectCalibrationFolder(dir);
  assert.equal(info.images, 2);
  assert.deepEqual(info.labels, { kind: 'file', path: join(dir, 'labels.txt') });
  assert.match(describeCalibrationFolder(info), /labels from labels\.txt/);
});

test('no labels: the person is told INT8 is compared with FP32 instead', () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'one.jpeg'), 'x');
  writeFileSync(join(dir, 'notes.md'), 'x');
  const info = inspectCalibrationFolder(dir);
  assert.equal(info.images, 1);
  assert.deepEqual(info.labels, { kind: 'none' });
  assert.match(describeCalibrationFolder(info), /1 image, no labels found: INT8 is compared with FP32/);
  assert.equal(inspectCalibrationFolder(join(dir, 'missing')).images, 0);
});
