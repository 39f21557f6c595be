// Worker threads: the bundled worker scripts are found from a test bundle (as from dist/engine.js); a pool answers every
// job, spreads jobs over its workers, survives a worker that dies (the job it was running fails with the caller's error
// naming it, the others still run), drops jobs still queued when their caller aborts, and revives errors by kind.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { InternalError, OctetError } from '../../src/common/errors';
import { reviveError, serializeError, WorkerPool, workerScript } from '../../src/common/workers';

const dir = mkdtempSync(join(tmpdir(), 'octet-workers-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A worker speaking the pool's protocol in plain JavaScript: doubles `x` after `ms` of busy work, exits the thread on
 * `exit`, throws outside the handler on `crash`, answers an error on `fail`, and reports which thread ran the job.
 */
const script = join(dir, 'test-worker.js');
writeFileSync(script, `
const { parentPort, threadId } = require('node:worker_threads');
parentPort.on('message', ({ id, job }) => {
  if (job.exit) process.exit(3);
  if (job.crash) setTimeout(() => { throw new Error('boom in ' + job.name); });
  if (job.crash) return;
  if (job.fail) { parentPort.postMessage({ id, ok: false, ms: 0, error: { name: 'OctetError', message: job.name + ': bad', subject: job.name, reason: 'bad' } }); return; }
  const end = Date.now() + (job.ms || 0);
  while (Date.now() < end) { /* busy */ }
  parentPort.postMessage({ id, ok: true, ms: job.ms || 0, result: { y: job.x * 2, thread: threadId } });
});
`);

interface Job { name: string; x?: number; ms?: number; exit?: boolean; crash?: boolean; fail?: boolean }
interface Result { y: number; thread: number }

function pool(size: number, depth = 1): WorkerPool<Job, Result> {
  return new WorkerPool<Job, Result>({ script, size, depth, crashError: (job, cause) => new OctetError(job.name, `worker died (${cause})`) });
}

test('workerScript finds the bundled decode, reduce and round workers from a test bundle', () => {
  assert.equal(basename(workerScript('decode-worker')), 'decode-worker.js');
  assert.equal(basename(workerScript('reduce-worker')), 'reduce-worker.js');
  assert.equal(basename(workerScript('round-worker')), 'round-worker.js');
  assert.throws(() => workerScript('no-such-worker'), InternalError);
});

test('WorkerPool: every job answered, spread over the workers, totals counted', async () => {
  const p = pool(2, 2);
  try {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => p.run({ name: `job${i}`, x: i, ms: 5 })));
    assert.deepEqual(results.map((r) => r.y), Array.from({ length: 12 }, (_, i) => i * 2));
    assert.equal(new Set(results.map((r) => r.thread)).size, 2, 'both workers took jobs');
    assert.equal(p.totals.jobs, 12);
  } finally {
    await p.close();
  }
});

test('WorkerPool: a worker that exits or throws fails the job it ran (caller\'s error), the others run on', async () => {
  const p = pool(1, 4);
  try {
    const jobs = [p.run({ name: 'a', x: 1 }), p.run({ name: 'dies.jpg', exit: true }), p.run({ name: 'b', x: 2 }), p.run({ name: 'c', x: 3 })];
    const [a, dies, b, c] = await Promise.allSettled(jobs);
    assert.deepEqual([a, b, c].map((r) => r.status === 'fulfilled' && r.value.y), [2, 4, 6]);
    assert.equal(dies.status, 'rejected');
    assert.ok(dies.status === 'rejected' && dies.reason instanceof OctetError);
    assert.match(String((dies as PromiseRejectedResult).reason.message), /^dies\.jpg: worker died \(the worker thread exited \(code 3\)\)/);
    const crash = await p.run({ name: 'crash.png', crash: true }).then(() => null, (err: Error) => err);
    assert.ok(crash instanceof OctetError);
    assert.match(crash.message, /^crash\.png: worker died \(boom in crash\.png\)/);
    assert.equal((await p.run({ name: 'after', x: 5 })).y, 10, 'a fresh worker takes the next job');
  } finally {
    await p.close();
  }
});

test('WorkerPool: errors keep their kind; queued jobs of an aborted caller are dropped; close rejects what is left', async () => {
  const p = pool(1, 1);
  try {
    const failed = await p.run({ name: 'x.jpg', fail: true }).then(() => null, (err: Error) => err);
    assert.ok(failed instanceof OctetError);
    assert.equal(failed.message, 'x.jpg: bad');
    const controller = new AbortController();
    const running = p.run({ name: 'slow', x: 1, ms: 150 }, [], controller.signal);
    const queued = p.run({ name: 'queued', x: 2 }, [], controller.signal);
    controller.abort();
    assert.equal((await running).y, 2, 'a running job finishes');
    await assert.rejects(queued, { name: 'AbortError' });
    const left = assert.rejects(p.run({ name: 'slow2', x: 1, ms: 100 }), { name: 'AbortError' });
    const never = assert.rejects(p.run({ name: 'never', x: 1 }), { name: 'AbortError' });
    await p.close();
    await Promise.all([left, never]);
  } finally {
    await p.close();
  }
});

test('serializeError/reviveError: OctetError keeps subject and reason, InternalError its kind, others their message', () => {
  const octet = reviveError(serializeError(new OctetError('a.png', 'is broken')));
  assert.ok(octet instanceof OctetError);
  assert.deepEqual([octet.message, (octet as OctetError).subject, (octet as OctetError).reason], ['a.png: is broken', 'a.png', 'is broken']);
  assert.ok(reviveError(serializeError(new InternalError('bug'))) instanceof InternalError);
  const plain = reviveError(serializeError(new RangeError('out')));
  assert.equal(plain.name, 'RangeError');
  assert.equal(plain.message, 'out');
});
