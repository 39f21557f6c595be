// The engine's --progress json lines: parsing, the overall percentage, line splitting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineProgressEvent } from '../../src/engine/events';
import { describeProgress, LineSplitter, OverallProgress, parseEngineLine } from '../../src/extension/quantize/engine-events';

test('parses each event type and leaves other lines as text', () => {
  assert.deepEqual(parseEngineLine('{"type":"progress","stage":"calibrate","done":8,"total":32,"message":"8/32 samples"}'),
    { type: 'progress', stage: 'calibrate', done: 8, total: 32, message: '8/32 samples' });
  assert.deepEqual(parseEngineLine('{"type":"log","message":"hello"}'), { type: 'log', message: 'hello' });
  assert.deepEqual(parseEngineLine('{"type":"result","model":"/a/m.int8.onnx","report":"/a/m.int8.report.json"}'),
    { type: 'result', model: '/a/m.int8.onnx', report: '/a/m.int8.report.json' });
  assert.deepEqual(parseEngineLine('{"type":"error","subject":"/a/m.onnx","message":"broken"}'),
    { type: 'error', subject: '/a/m.onnx', message: 'broken' });
  assert.equal(parseEngineLine('INT8 model: /a/m.int8.onnx'), null);
  assert.equal(parseEngineLine('{not json}'), null);
  assert.equal(parseEngineLine('{"type":"result","model":1}'), null);
  assert.equal(parseEngineLine('{"type":"something-new"}'), null);
  assert.deepEqual(parseEngineLine('{"type":"progress","stage":"teleport","done":1,"total":2}'),
    { type: 'log', message: '{"type":"progress","stage":"teleport","done":1,"total":2}' });
});

test('overall progress never goes back, whatever order the stages come in', () => {
  const overall = new OverallProgress();
  const events: EngineProgressEvent[] = [
    { type: 'progress', stage: 'optimize', done: 1, total: 1, message: '' },
    { type: 'progress', stage: 'convert', done: 0, total: 1, message: '' },
    { type: 'progress', stage: 'calibrate', done: 16, total: 32, message: '' },
    { type: 'progress', stage: 'calibrate', done: 32, total: 32, message: '' },
    { type: 'progress', stage: 'convert', done: 0, total: 1, message: '' },
    { type: 'progress', stage: 'write', done: 1, total: 1, message: '' },
    { type: 'progress', stage: 'evaluate', done: 48, total: 96, message: '' },
    { type: 'progress', stage: 'benchmark', done: 20, total: 20, message: '' },
  ];
  let last = 0;
  for (const e of events) {
    const percent = overall.update(e);
    assert.ok(percent >= last, `${e.stage} ${e.done}/${e.total}: ${percent} < ${last}`);
    assert.ok(percent <= 100);
    last = percent;
  }
  assert.ok(last > 85, `ends near 100, got ${last}`);
});

test('progress text names the stage and counts', () => {
  assert.equal(describeProgress({ type: 'progress', stage: 'calibrate', done: 8, total: 32, message: 'batch 1' }), 'Calibrating 8/32 — batch 1');
  assert.equal(describeProgress({ type: 'progress', stage: 'write', done: 0, total: 0, message: '' }), 'Writing');
});

test('line splitter keeps partial lines across chunks', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
  assert.deepEqual(s.push(':2}\r\nplain'), ['{"b":2}']);
  assert.deepEqual(s.flush(), ['plain']);
  assert.deepEqual(s.flush(), []);
});
