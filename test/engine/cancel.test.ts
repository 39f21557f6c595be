// Cancellation at every stage. In process: the run is aborted exactly when a stage starts (read, calibrate, convert,
// evaluate, benchmark, write) and must stop with CancelledError, leaving only its inputs. Through the real CLI:
// SIGTERM and SIGINT give exit 130, nothing written and Octet's temp folder removed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CancelledError } from '../../src/engine/cancel';
import { Stage } from '../../src/engine/events';
import { quantizeModel } from '../../src/engine/commands/quantize';
import type { QuantizeRequest } from '../../src/engine/request';
import { encodeModel } from '../../src/onnx/proto';
import { smallCnn, tempDir, writeImageNpy } from '../fixtures/models';

function setup(samples: number) {
  const dir = tempDir();
  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, encodeModel(smallCnn()));
  const data = writeImageNpy(dir, samples);
  return { dir, model, data };
}

function request(model: string, calib: string, overrides: Partial<QuantizeRequest> = {}): QuantizeRequest {
  return {
    model, calib, calibCount: 16, calibBatch: 8, method: 'minmax', percentile: 99.999, perChannel: true,
    activations: 'u8', weightRange: 'pair-safe', equalize: true, equalizeStrength: 0.5, biasCorrection: 'off', preprocess: 'raw', evalCount: 16,
    evaluate: true, benchmark: true, benchRuns: 2, threads: 1, maxDrop: null, tuneTimeout: 60, ...overrides,
  };
}

// 'optimize' starts with reading the model.
for (const stage of ['optimize', 'calibrate', 'convert', 'evaluate', 'benchmark', 'write'] as Stage[]) {
  test(`cancelled when the ${stage} stage starts: CancelledError, only the inputs left`, async () => {
    const { dir, model, data } = setup(48);
    const source = readFileSync(model);
    const controller = new AbortController();
    const seen: Stage[] = [];
    const run = quantizeModel(request(model, data, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type !== 'progress') return;
        seen.push(e.stage);
        if (e.stage === stage) controller.abort();
      },
    }));
    await assert.rejects(run, CancelledError);
    assert.ok(seen.includes(stage), `reached ${stage} (saw ${[...new Set(seen)].join(', ')})`);
    assert.ok(!seen.includes('write') || stage === 'write', 'stopped before writing');
    assert.deepEqual(readdirSync(dir).sort(), ['cnn.onnx', 'data.npy'], 'nothing written, no temp files');
    assert.deepEqual(readFileSync(model), source);
  });
}

test('cancelled at the write stage with --out in a new folder: the folder is not left behind either', async () => {
  const { dir, model, data } = setup(16);
  const controller = new AbortController();
  const run = quantizeModel(request(model, data, {
    evaluate: false, benchmark: false, out: join(dir, 'new', 'deeper', 'm.int8.onnx'), signal: controller.signal,
    onEvent: (e) => { if (e.type === 'progress' && e.stage === 'write') controller.abort(); },
  }));
  await assert.rejects(run, CancelledError);
  assert.deepEqual(readdirSync(dir).sort(), ['cnn.onnx', 'data.npy']);
});

const engine = resolve(process.cwd(), 'dist/engine.js');

/** Runs the CLI with --progress json and sends `signal` when `stage` first reports; resolves with the exit code. */
function signalAt(args: string[], stage: Stage, signal: NodeJS.Signals, tmp: string): Promise<{ code: number | null; stderr: string; signalled: boolean }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [engine, ...args, '--progress', 'json'], { env: { ...process.env, TMPDIR: tmp } });
    let stderr = '';
    let signalled = false;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
      if (!signalled && stderr.includes(`"stage":"${stage}"`)) {
        signalled = true;
        child.kill(signal);
      }
    });
    const timer = setTimeout(() => { child.kill('SIGKILL'); fail(new Error(`no exit within 60 s:\n${stderr}`)); }, 60_000);
    child.on('exit', (code) => { clearTimeout(timer); done({ code, stderr, signalled }); });
  });
}

for (const [signal, stage] of [['SIGTERM', 'optimize'], ['SIGTERM', 'calibrate'], ['SIGINT', 'evaluate']] as [NodeJS.Signals, Stage][]) {
  test(`CLI: ${signal} during ${stage === 'optimize' ? 'reading' : stage} exits 130, writes nothing, removes its temp folder`, async () => {
    // Enough samples that the run is still going when the signal lands.
    const { dir, model, data } = setup(3000);
    const tmp = tempDir('octet-tmp-');
    const r = await signalAt(['quantize', model, '--calib', data, '--calib-count', '1000', '--eval-count', '2000', '--preprocess', 'raw',
      '--bench-runs', '200'], stage, signal, tmp);
    assert.ok(r.signalled, `the run reached ${stage}:\n${r.stderr}`);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /"type":"error","subject":"cancel"/);
    assert.deepEqual(readdirSync(dir).sort(), ['cnn.onnx', 'data.npy'], 'nothing written');
    const left = readdirSync(tmp).filter((name) => name.startsWith('octet-'));
    rmSync(tmp, { recursive: true, force: true });
    assert.deepEqual(left, [], 'temp folder removed');
  });
}
