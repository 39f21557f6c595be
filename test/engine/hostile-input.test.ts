// Hostile or careless input through the real CLI (dist/engine.js), one test per case of the hardening sweep (issue 13):
// each finishes in seconds with exit 1 and one clear message, reads nothing outside the model's or data set's folder,
// leaves the source untouched and writes nothing (no temp files, no temp folder).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';
import { makeNode } from '../../src/onnx/graph';
import { valueInfo } from '../../src/onnx/build';
import { AttributeProto, encodeModel, GraphProto, ModelProto, NodeProto, TensorProto } from '../../src/onnx/proto';
import { makeTensor } from '../../src/onnx/tensor';
import { smallCnn, tempDir, workspace } from '../fixtures/models';
import { realisticReport } from '../report/fixture';

const engine = resolve(process.cwd(), 'dist/engine.js');

interface Run { code: number | null; stderr: string; stdout: string; seconds: number; tmpLeft: string[] }

/** Runs octet with a private TMPDIR (to see that its temp folder is removed), timing the run. */
function octet(args: string[]): Run {
  const tmp = tempDir('octet-tmp-');
  const started = performance.now();
  const r = spawnSync(process.execPath, [engine, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, TMPDIR: tmp } });
  // Octet's own temp folders only: onnxruntime-node 1.30 leaves mat-debug-PID.log and .ses in TMPDIR by itself.
  const tmpLeft = readdirSync(tmp).filter((name) => name.startsWith('octet-'));
  rmSync(tmp, { recursive: true, force: true });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout, seconds: (performance.now() - started) / 1000, tmpLeft };
}

/** Exit 1 within seconds, one error naming `subject` with `cause`, no stack trace, no temp folder left. */
function expectRefusal(args: string[], subject: string, cause: RegExp): Run {
  const r = octet(args);
  assert.equal(r.code, 1, `exit code for ${args.join(' ')}:\n${r.stderr}`);
  assert.ok(r.stderr.includes(`error: ${subject}`), `error names ${subject}:\n${r.stderr}`);
  assert.match(r.stderr, cause);
  assert.doesNotMatch(r.stderr, /internal error|at .*\.js:\d+/, 'no stack trace');
  assert.ok(r.seconds < 15, `finished in ${r.seconds.toFixed(1)} s`);
  assert.deepEqual(r.tmpLeft, [], 'temp folder removed');
  return r;
}

/** smallCnn with initializer 'w1' (its first conv's weights) kept as external data at `location`. */
function externalModel(location: string, length?: number): { model: ModelProto; bytes: Buffer } {
  const model = smallCnn();
  const w1 = model.graph!.initializer.find((t) => t.name === 'w1')!;
  const bytes = Buffer.from(w1.raw_data!);
  w1.raw_data = undefined;
  w1.data_location = 1;
  w1.external_data = [{ key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: String(length ?? bytes.length) }];
  return { model, bytes };
}

test('external data that is a symlink to /dev/zero, or a FIFO: refused at once, nothing read', () => {
  const { dir, data } = workspace();
  const ext = join(dir, 'ext');
  mkdirSync(ext);
  const { model } = externalModel('w1.bin');
  const path = join(ext, 'm.onnx');
  writeFileSync(path, encodeModel(model));
  symlinkSync('/dev/zero', join(ext, 'w1.bin'));
  const r = expectRefusal(['quantize', path, '--calib', data], path, /tensor 'w1' keeps its data in 'w1\.bin', outside the model's folder/);
  assert.ok(r.seconds < 5, `well under the old 5 minutes (and 24 GB): ${r.seconds.toFixed(1)} s`);
  assert.deepEqual(readdirSync(ext).sort(), ['m.onnx', 'w1.bin']);
  // inside the folder but not a regular file
  const fifoModel = join(ext, 'fifo.onnx');
  writeFileSync(fifoModel, encodeModel(externalModel('pipe.bin').model));
  execFileSync('mkfifo', [join(ext, 'pipe.bin')]);
  expectRefusal(['quantize', fifoModel, '--calib', data], fifoModel, /tensor 'w1' keeps its data in 'pipe\.bin': .*is a FIFO \(named pipe\), not ONNX external data/);
});

test('a FIFO as the model: refused at once instead of waiting for a writer', () => {
  const { dir, data } = workspace();
  const fifo = join(dir, 'pipe.onnx');
  execFileSync('mkfifo', [fifo]);
  const r = expectRefusal(['quantize', fifo, '--calib', data], fifo, /is a FIFO \(named pipe\), not an ONNX model file/);
  assert.ok(r.seconds < 5, `${r.seconds.toFixed(1)} s`);
  expectRefusal(['inspect', fifo], fifo, /FIFO/);
});

test('external data in a sibling folder whose name starts with the model folder\'s (../ext-secret): refused', () => {
  const { dir, data } = workspace();
  const ext = join(dir, 'ext');
  const secret = join(dir, 'ext-secret');
  mkdirSync(ext);
  mkdirSync(secret);
  const { model, bytes } = externalModel('../ext-secret/secret.bin');
  writeFileSync(join(secret, 'secret.bin'), bytes); // a well-formed file: only the location is wrong
  const path = join(ext, 'm.onnx');
  writeFileSync(path, encodeModel(model));
  expectRefusal(['quantize', path, '--calib', data, '--no-eval', '--no-bench'], path, /tensor 'w1' keeps its data in '\.\.\/ext-secret\/secret\.bin', outside the model's folder/);
  assert.deepEqual(readdirSync(ext), ['m.onnx'], 'no INT8 model made of the outside bytes');
});

/**
 * smallCnn whose logits also add the output of an If: its then-branch reads a 10-value initializer kept as external
 * data at `location` (its bytes returned), its else-branch zeros.
 */
function subgraphExternalModel(location: string): { model: ModelProto; bytes: Buffer } {
  const model = smallCnn();
  const graph = model.graph!;
  graph.node.find((n) => n.op_type === 'Gemm')!.output[0] = 'gemm_out';
  const bytes = Buffer.from(new Float32Array(10).fill(0.5).buffer);
  const shift: TensorProto = { ...makeTensor('shift', [10], new Float32Array(10)), raw_data: undefined, data_location: 1,
    external_data: [{ key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: String(bytes.length) }] };
  const branch = (name: string, nodes: NodeProto[], initializer: TensorProto[]): GraphProto => ({ name, node: nodes, initializer,
    sparse_initializer: [], input: [], output: [valueInfo(`${name}_out`, [10])], value_info: [], quantization_annotation: [] });
  const graphAttribute = (name: string, g: GraphProto): AttributeProto => ({ name, type: 5, g, floats: [], ints: [], strings: [], tensors: [], graphs: [] });
  graph.initializer.push({ ...makeTensor('always', [], Uint8Array.of(1)), data_type: 9 }); // bool
  graph.node.push(
    makeNode('If', ['always'], ['if_out'], 'if', [
      graphAttribute('then_branch', branch('then', [makeNode('Identity', ['shift'], ['then_out'], 'then_id')], [shift])),
      graphAttribute('else_branch', branch('else', [makeNode('Identity', ['zeros10'], ['else_out'], 'else_id')], [makeTensor('zeros10', [10], new Float32Array(10))])),
    ]),
    makeNode('Add', ['gemm_out', 'if_out'], ['logits'], 'add_shift'));
  return { model, bytes };
}

test('a subgraph\'s external data is read as safely as the main graph\'s: outside the folder refused, inside loaded', () => {
  const { dir, data } = workspace();
  const ext = join(dir, 'ext');
  mkdirSync(ext);
  const outside = subgraphExternalModel('../secret.bin');
  writeFileSync(join(dir, 'secret.bin'), outside.bytes);
  const path = join(ext, 'm.onnx');
  writeFileSync(path, encodeModel(outside.model));
  expectRefusal(['quantize', path, '--calib', data, '--no-eval', '--no-bench'], path, /tensor 'shift' keeps its data in '\.\.\/secret\.bin', outside the model's folder/);
  assert.deepEqual(readdirSync(ext), ['m.onnx']);
  const inside = subgraphExternalModel('shift.bin');
  writeFileSync(join(ext, 'shift.bin'), inside.bytes);
  const good = join(ext, 'good.onnx');
  writeFileSync(good, encodeModel(inside.model));
  const r = octet(['quantize', good, '--calib', data, '--no-bench', '--out', join(ext, 'good.int8.onnx')]);
  assert.equal(r.code, 0, r.stderr);
  // Run from another working folder, the branch's bytes still come from the model's folder.
  const other = spawnSync(process.execPath, [engine, 'eval', good, join(ext, 'good.int8.onnx'), '--data', data, '--json'], { encoding: 'utf8', cwd: dir });
  assert.equal(other.status, 0, other.stderr);
});

test('a symlink inside the model folder pointing outside it: refused (symlinks followed)', () => {
  const { dir, data } = workspace();
  const ext = join(dir, 'ext');
  const elsewhere = join(dir, 'elsewhere');
  mkdirSync(ext);
  mkdirSync(elsewhere);
  const { model, bytes } = externalModel('w1.bin');
  writeFileSync(join(elsewhere, 'private.bin'), bytes);
  symlinkSync(join(elsewhere, 'private.bin'), join(ext, 'w1.bin'));
  const path = join(ext, 'm.onnx');
  writeFileSync(path, encodeModel(model));
  expectRefusal(['quantize', path, '--calib', data, '--no-eval', '--no-bench'], path, /outside the model's folder .*symlinks followed/);
  // a symlink that stays inside the folder is fine
  writeFileSync(join(ext, 'real.bin'), bytes);
  const inside = join(ext, 'inside.onnx');
  writeFileSync(inside, encodeModel(externalModel('real.bin').model));
  assert.equal(octet(['inspect', inside]).code, 0);
});

test('external data: a missing file names the model and tensor; a short file names the model, tensor and file', () => {
  const { dir, data } = workspace();
  const { model, bytes } = externalModel('weights.bin');
  const path = join(dir, 'm.onnx');
  writeFileSync(path, encodeModel(model));
  expectRefusal(['quantize', path, '--calib', data], path, /tensor 'w1' keeps its data in 'weights\.bin', which is not in .*copy that file beside the model/);
  writeFileSync(join(dir, 'weights.bin'), bytes.subarray(0, 100));
  expectRefusal(['quantize', path, '--calib', data], path, /tensor 'w1' needs 864 bytes at offset 0 of .*weights\.bin, which holds only 100 bytes/);
  const wrongLength = join(dir, 'wrong.onnx');
  writeFileSync(join(dir, 'weights.bin'), bytes);
  writeFileSync(wrongLength, encodeModel(externalModel('weights.bin', 10 ** 12).model));
  expectRefusal(['quantize', wrongLength, '--calib', data], wrongLength, /declares 1000000000000 bytes of external data, but its shape \[8, 3, 3, 3\] float holds 864/);
});

test('a symlink to the source given as the model, the source as --out: refused before any work, source untouched', () => {
  const { dir, data } = workspace();
  const source = join(dir, 'm.onnx');
  writeFileSync(source, encodeModel(smallCnn()));
  const before = readFileSync(source);
  symlinkSync('m.onnx', join(dir, 'link2.onnx'));
  expectRefusal(['quantize', join(dir, 'link2.onnx'), '--calib', data, '--out', source], source, /--out would overwrite the input model .*link2\.onnx \(the same file\)/);
  symlinkSync('m.onnx', join(dir, 'link3.onnx'));
  expectRefusal(['quantize', source, '--calib', data, '--out', join(dir, 'link3.onnx')], join(dir, 'link3.onnx'), /--out would overwrite the input model .*m\.onnx \(the same file\)/);
  linkSync(source, join(dir, 'hard.onnx'));
  expectRefusal(['quantize', source, '--calib', data, '--report', join(dir, 'hard.onnx')], join(dir, 'hard.onnx'), /--report would overwrite the input model/);
  expectRefusal(['quantize', source, '--calib', data, '--report', data], data, /--report would overwrite the calibration data/);
  assert.deepEqual(readFileSync(source), before, 'source untouched');
  assert.deepEqual(readdirSync(dir).sort(), ['data.npy', 'hard.onnx', 'link2.onnx', 'link3.onnx', 'm.onnx']);
});

test('octet report link.json --format html --out report.json: refused, the JSON untouched', () => {
  const dir = tempDir();
  const report = join(dir, 'report.json');
  writeFileSync(report, JSON.stringify(realisticReport()));
  const before = readFileSync(report);
  symlinkSync('report.json', join(dir, 'link.json'));
  expectRefusal(['report', join(dir, 'link.json'), '--format', 'html', '--out', report], report, /is the report being read/);
  assert.deepEqual(readFileSync(report), before);
  expectRefusal(['report', report, '--format', 'html', '--out', dir], dir, /is a folder; --out must name a file/);
});

test('output locations are checked before the run: --out naming a folder, a folder under a file', () => {
  const { dir, data } = workspace();
  const source = join(dir, 'm.onnx');
  writeFileSync(source, encodeModel(smallCnn()));
  const r = expectRefusal(['quantize', source, '--calib', data, '--out', dir, '--progress', 'json'], dir, /is a folder; --out must name a file/);
  assert.doesNotMatch(r.stderr, /"stage"/, 'refused before the first stage');
  const notFolder = join(dir, 'notes.txt');
  writeFileSync(notFolder, 'x');
  expectRefusal(['quantize', source, '--calib', data, '--report', join(notFolder, 'r.json')], notFolder, /is not a folder, so --report .* cannot be written/);
  if (process.getuid?.() !== 0) {
    const locked = join(dir, 'locked');
    mkdirSync(locked, { mode: 0o555 });
    expectRefusal(['quantize', source, '--calib', data, '--out', join(locked, 'x.onnx')], locked, /cannot be written \(permission denied\)/);
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Data sets

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An 8-bit RGB PNG whose IHDR says width x height; `rows` (filter byte + pixels per row) may hold fewer rows. */
function png(width: number, height: number, rows: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

function goodPng(seed: number): Buffer {
  const rows = Buffer.alloc(16 * (1 + 16 * 3));
  for (let i = 0; i < rows.length; i++) rows[i] = i % 49 === 0 ? 0 : (i * 31 + seed * 17) & 255;
  return png(16, 16, rows);
}

/** 20000 x 20000 declared (1.6 GB of RGBA once decoded); the data holds 100 zero rows, deflated to a few hundred bytes. */
const bomb = (): Buffer => png(20000, 20000, Buffer.alloc(100 * (1 + 20000 * 3)));

function imageFolder(dir: string, images: number): string {
  const folder = join(dir, 'images');
  mkdirSync(folder);
  for (let i = 0; i < images; i++) writeFileSync(join(folder, `img${i}.png`), goodPng(i));
  return folder;
}

test('a PNG bomb (IHDR 20000x20000) among good images: skipped with a warning naming it, from the header, in seconds', () => {
  const dir = tempDir();
  const folder = imageFolder(dir, 8);
  writeFileSync(join(folder, 'bomb.png'), bomb());
  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, encodeModel(smallCnn()));
  const r = octet(['quantize', model, '--calib', folder, '--preprocess', 'raw', '--no-eval', '--no-bench', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.seconds < 15, `${r.seconds.toFixed(1)} s`);
  const warning = /bomb\.png: is 20000x20000 pixels \(400\.0 megapixels\), more than Octet decodes \(64 megapixels\): skipped/;
  assert.ok((JSON.parse(r.stdout) as { warnings: string[] }).warnings.some((w) => warning.test(w)), 'the report names the skipped image');
  // nothing left to decode: an error naming the folder
  const only = join(dir, 'only');
  mkdirSync(only);
  writeFileSync(join(only, 'bomb.png'), bomb());
  expectRefusal(['quantize', model, '--calib', only, '--preprocess', 'raw', '--no-eval', '--no-bench'], only, /every image is over the 64 megapixel decoding budget/);
});

test('labels.txt naming ../../etc/passwd: refused, naming the labels file and line', () => {
  const dir = tempDir();
  const folder = imageFolder(dir, 4);
  writeFileSync(join(folder, 'labels.txt'), 'img0.png 1\nimg1.png 2\n../../etc/passwd 3\n');
  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, encodeModel(smallCnn()));
  const labels = join(folder, 'labels.txt');
  expectRefusal(['quantize', model, '--calib', folder, '--preprocess', 'raw'], labels, /line 3 names '\.\.\/\.\.\/etc\/passwd', which is outside the data folder/);
  // a labels file that is a device is refused before a byte is read
  expectRefusal(['quantize', model, '--calib', folder, '--preprocess', 'raw', '--labels', '/dev/zero'], '/dev/zero', /is a character device, not a labels file/);
  // a symlink in the folder pointing outside it counts as outside too
  symlinkSync('/etc/hostname', join(folder, 'host.png'));
  writeFileSync(labels, 'img0.png 1\nhost.png 2\n');
  expectRefusal(['quantize', model, '--calib', folder, '--preprocess', 'raw'], labels, /line 2 names 'host\.png', which is outside the data folder .*symlinks followed/);
});

test('a class index outside the model\'s classes: an error before calibration, with the count', () => {
  const dir = tempDir();
  const folder = imageFolder(dir, 4);
  writeFileSync(join(folder, 'labels.txt'), 'img0.png 1\nimg1.png 99\nimg2.png 10\nimg3.png 9\n');
  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, encodeModel(smallCnn()));
  const r = expectRefusal(['quantize', model, '--calib', join(folder), '--preprocess', 'raw', '--progress', 'json'], join(folder, 'labels.txt'),
    /2 label\(s\) are outside the model's 10 classes \(0 to 9\), e.g\. line 2 \('img1\.png'\) is 99; the largest is 99/);
  assert.doesNotMatch(r.stderr, /"stage":"calibrate"/, 'before calibration');
});

test('opset 99: Octet\'s one-line cause (file, opset, what to do) before ONNX Runtime\'s text', () => {
  const { dir, data } = workspace();
  const model = smallCnn();
  model.opset_import[0].version = 99;
  const path = join(dir, 'op99.onnx');
  writeFileSync(path, encodeModel(model));
  const r = expectRefusal(['quantize', path, '--calib', data], path, /ONNX Runtime cannot load this model: the model is stamped with opset 99, newer than this ONNX Runtime [\d.]+ supports \(it runs ai\.onnx up to opset \d+\); re-export it with an older opset/);
  const line = r.stderr.split('\n').find((l) => l.includes('error:'))!;
  assert.ok(line.indexOf('re-export') < line.indexOf('ONNX Runtime says:'), 'the cause and what to do come first');
  assert.doesNotMatch(line, /onnxruntime_src|ValidateOpsetForDomain/, 'no C++ source location or signature');
});

test('a graph that fixes the batch its input leaves free: exit 1 naming the node (was an internal error, exit 70)', () => {
  const { dir, data } = workspace();
  const model = smallCnn();
  const graph = model.graph!;
  graph.node[graph.node.findIndex((n) => n.op_type === 'Flatten')] = makeNode('Reshape', ['gap', 'fixed_shape'], ['flat'], 'reshape_fixed');
  graph.initializer.push(makeTensor('fixed_shape', [2], BigInt64Array.of(1n, 16n)));
  const path = join(dir, 'fixed-batch.onnx');
  writeFileSync(path, encodeModel(model));
  const r = expectRefusal(['quantize', path, '--calib', data, '--preprocess', 'raw'], path,
    /ONNX Runtime fails running node 'reshape_fixed' \(Reshape\) on input shape \[8,3,16,16\]; its input leaves the batch free but the graph seems to fix it/);
  assert.doesNotMatch(r.stderr, /onnxruntime_src|ReshapeHelper::ReshapeHelper\(/, 'no C++ source location or signature');
});
