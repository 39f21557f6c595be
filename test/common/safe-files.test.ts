// The file-safety primitives every reader and writer goes through: regular files only with their size known first,
// containment by path segments with symlinks followed, same-file by device + inode, and all-or-nothing staged writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StagedFiles } from '../../src/common/atomic-write';
import { OctetError } from '../../src/common/errors';
import { isInsideFolder, resolveInsideFolder, sameFile } from '../../src/common/paths';
import { readRegularFile, readRegularFileSync } from '../../src/common/safe-read';
import { tempDir } from '../fixtures/models';

const limit = { what: 'a test file', maxBytes: 100 };

test('isInsideFolder compares path segments, not string prefixes', () => {
  assert.equal(isInsideFolder('/a/ext', '/a/ext/w.bin'), true);
  assert.equal(isInsideFolder('/a/ext', '/a/ext'), true);
  assert.equal(isInsideFolder('/a/ext', '/a/ext-secret/w.bin'), false);
  assert.equal(isInsideFolder('/a/ext', '/a/ext/../ext-secret'), false);
  assert.equal(isInsideFolder('/a/ext', '/a/ext/..data'), true, 'a name starting with two dots is still inside');
  assert.equal(isInsideFolder('/a/ext', '/etc/passwd'), false);
});

test('resolveInsideFolder follows symlinks: one pointing out is outside, one staying in is fine, a missing file throws ENOENT', () => {
  const dir = tempDir();
  const folder = join(dir, 'ext');
  mkdirSync(folder);
  writeFileSync(join(dir, 'outside.bin'), 'x');
  writeFileSync(join(folder, 'inside.bin'), 'x');
  symlinkSync(join(dir, 'outside.bin'), join(folder, 'out-link.bin'));
  symlinkSync('inside.bin', join(folder, 'in-link.bin'));
  assert.equal(resolveInsideFolder(folder, 'out-link.bin'), 'outside');
  assert.equal(resolveInsideFolder(folder, '../outside.bin'), 'outside');
  assert.equal(resolveInsideFolder(folder, 'in-link.bin'), join(folder, 'inside.bin'));
  assert.throws(() => resolveInsideFolder(folder, 'nope.bin'), (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
});

test('sameFile: symlinks and hard links are the same file; a path that does not exist yet compares by real path', () => {
  const dir = tempDir();
  const file = join(dir, 'm.onnx');
  writeFileSync(file, 'x');
  symlinkSync('m.onnx', join(dir, 'soft.onnx'));
  linkSync(file, join(dir, 'hard.onnx'));
  writeFileSync(join(dir, 'other.onnx'), 'x');
  assert.equal(sameFile(join(dir, 'soft.onnx'), file), true);
  assert.equal(sameFile(join(dir, 'hard.onnx'), file), true);
  assert.equal(sameFile(join(dir, 'other.onnx'), file), false);
  symlinkSync(dir, join(dir, 'again'));
  assert.equal(sameFile(join(dir, 'again', 'new.onnx'), join(dir, 'new.onnx')), true, 'not yet created, reached through a symlinked folder');
});

test('regular files only, within their limit, sync and async', async () => {
  const dir = tempDir();
  const small = join(dir, 'small');
  writeFileSync(small, 'hello');
  assert.equal(readRegularFileSync(small, limit).toString(), 'hello');
  assert.equal((await readRegularFile(small, limit)).toString(), 'hello');
  const big = join(dir, 'big');
  writeFileSync(big, Buffer.alloc(101));
  const tooBig = (err: unknown) => err instanceof OctetError && err.subject === big && /is 101 bytes, more than a test file can be \(at most 100 bytes\)/.test(err.reason);
  assert.throws(() => readRegularFileSync(big, limit), tooBig);
  await assert.rejects(readRegularFile(big, limit), tooBig);
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const notRegular = (what: RegExp) => (err: unknown) => err instanceof OctetError && what.test(err.reason);
  assert.throws(() => readRegularFileSync(fifo, limit), notRegular(/is a FIFO \(named pipe\), not a test file/));
  await assert.rejects(readRegularFile(fifo, limit), notRegular(/FIFO/));
  assert.throws(() => readRegularFileSync('/dev/zero', limit), notRegular(/is a character device/));
  assert.throws(() => readRegularFileSync(dir, limit), notRegular(/is a folder/));
});

test('StagedFiles: nothing visible before commit, both files after; discard leaves nothing', () => {
  const dir = tempDir();
  const staged = new StagedFiles();
  staged.add(join(dir, 'a.onnx'), [Buffer.from('model')]);
  staged.add(join(dir, 'a.report.json'), [Buffer.from('{}')]);
  assert.ok(!existsSync(join(dir, 'a.onnx')) && !existsSync(join(dir, 'a.report.json')), 'nothing at the targets yet');
  staged.commit();
  staged.discard();
  assert.deepEqual(readdirSync(dir).sort(), ['a.onnx', 'a.report.json']);
  assert.equal(readFileSync(join(dir, 'a.onnx'), 'utf8'), 'model');

  const cancelled = new StagedFiles();
  cancelled.add(join(dir, 'b.onnx'), [Buffer.from('model')]);
  cancelled.discard();
  assert.deepEqual(readdirSync(dir).sort(), ['a.onnx', 'a.report.json'], 'no temp file, no target');
});
