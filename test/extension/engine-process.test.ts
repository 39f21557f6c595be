// The engine as a child process: events stream in, cancel stops it within a second and leaves no output, and a
// child that ignores SIGTERM is killed. Uses the real engine (dist/engine.js, built by `npm test`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeModel } from '../../src/onnx/proto';
import type { EngineEvent } from '../../src/engine/events';
import { EngineProcess } from '../../src/extension/quantize/engine-process';
import { removePartialOutputs, snapshotOutputs } from '../../src/extension/quantize/output-cleanup';
import { smallCnn, tempDir, writeImageNpy } from '../fixtures/models';

const ENGINE = join(__dirname, '..', '..', 'engine.js');
const noEngine = existsSync(ENGINE) ? false : `${ENGINE} is missing (node esbuild.mjs builds it)`;

function setup(samples: number) {
  const dir = tempDir('octet-engine-process-');
  const model = join(dir, 'cnn.onnx');
  writeFileSync(model, encodeModel(smallCnn()));
  const data = writeImageNpy(dir, samples);
  return { dir, model, data, out: join(dir, 'cnn.int8.onnx'), report: join(dir, 'cnn.int8.report.json') };
}

test('a run streams progress and ends with a result event', { skip: noEngine }, async () => {
  const { dir, model, data, out, report } = setup(48);
  const events: EngineEvent[] = [];
  const engine = new EngineProcess({
    nodeExecutable: process.execPath, engineScript: ENGINE, cwd: dir, onEvent: (e) => events.push(e), onText: () => undefined,
    args: ['quantize', model, '--calib', data, '--calib-count', '16', '--preprocess', 'raw', '--eval-count', '16', '--no-bench',
      '--out', out, '--report', report, '--progress', 'json'],
  });
  const exit = await engine.finished;
  assert.equal(exit.exitCode, 0, exit.stderrTail.join('\n'));
  assert.deepEqual(exit.result, { type: 'result', model: out, report });
  assert.ok(events.some((e) => e.type === 'progress' && e.stage === 'calibrate'));
  assert.ok(existsSync(out) && existsSync(report));
});

test('cancel mid-run: the engine exits within a second and nothing is left behind', { skip: noEngine }, async () => {
  const { dir, model, data, out, report } = setup(4000);
  const snapshot = snapshotOutputs([out, report]);
  let cancelAt = 0;
  let cancelling: Promise<unknown> | undefined;
  const engine: EngineProcess = new EngineProcess({
    nodeExecutable: process.execPath, engineScript: ENGINE, cwd: dir, onText: () => undefined,
    onEvent: (e) => {
      if (!cancelling && e.type === 'progress' && e.stage === 'calibrate' && e.done > 0) {
        cancelAt = Date.now();
        cancelling = engine.cancel();
      }
    },
    args: ['quantize', model, '--calib', data, '--calib-count', '4000', '--calib-batch', '1', '--preprocess', 'raw',
      '--eval-count', '4000', '--out', out, '--report', report, '--progress', 'json'],
  });
  const exit = await engine.finished;
  assert.ok(cancelling, `never reached calibration (exit ${exit.exitCode}: ${exit.stderrTail.join(' | ')})`);
  const tookMs = Date.now() - cancelAt;
  assert.equal(exit.cancelled, true);
  assert.ok(tookMs < 1000, `took ${tookMs} ms to exit`);
  removePartialOutputs(snapshot);
  assert.deepEqual(readdirSync(dir).sort(), ['cnn.onnx', 'data.npy']);
});

test('a child that ignores SIGTERM is killed after the grace period', async () => {
  const dir = tempDir('octet-engine-process-');
  const stubborn = join(dir, 'stubborn.js');
  writeFileSync(stubborn, "process.on('SIGTERM', () => {}); console.error('ready'); setInterval(() => {}, 1000);");
  let ready: () => void = () => undefined;
  const started = new Promise<void>((resolve) => { ready = resolve; });
  const child = new EngineProcess({
    nodeExecutable: process.execPath, engineScript: stubborn, args: [], cwd: dir, killGraceMs: 300,
    onEvent: () => undefined, onText: (line) => { if (line === 'ready') ready(); },
  });
  await started;
  const t0 = Date.now();
  const exit = await child.cancel();
  assert.equal(exit.signal, 'SIGKILL');
  assert.ok(Date.now() - t0 < 1000);
  assert.equal(child.running, false);
});

test('a missing executable is reported, not thrown', async () => {
  const exit = await new EngineProcess({
    nodeExecutable: '/nonexistent/node', engineScript: 'x.js', args: [], cwd: tempDir(), onEvent: () => undefined, onText: () => undefined,
  }).finished;
  assert.ok(exit.spawnError);
  assert.match(exit.spawnError.message, /ENOENT/);
});
