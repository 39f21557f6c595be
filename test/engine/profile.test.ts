// The per-node time profile: ONNX Runtime's profiler on a real FP32 model and its QDQ model (every Conv becomes a
// QLinearConv), each executed kernel mapped back to the FP32 node it computes — fused, renamed and NHWC kernels
// included — with Q/DQ charged to the int8 kernel they border; the trace reader on its own; and a profile taken on a
// thread of its own (profile-aside.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchFeeds } from '../../src/engine/runtime/bench';
import { kernelTimes, profileKernels, timeProfile } from '../../src/engine/runtime/profile';
import { Graph } from '../../src/onnx/graph';
import { encodeModel, encodeSplit } from '../../src/onnx/proto';
import { profileAside } from '../../src/engine/runtime/profile-aside';
import { openSession } from '../../src/engine/runtime/session';
import { readdirSync } from 'node:fs';
import { makeTensor } from '../../src/onnx/tensor';
import { buildModel, intsAttribute, randomTensor, valueInfo } from '../../src/onnx/build';
import { makeNode } from '../../src/onnx/graph';
import { rng } from '../../src/common/random';
import { CancelledError } from '../../src/engine/cancel';
import type { ModelProto, NodeProto } from '../../src/onnx/proto';
import { parseModel } from '../../src/onnx/model-io';
import { planQuantization } from '../../src/quant/plan';
import { applyPlan } from '../../src/quant/rewrite';
import { smallCnn, tempDir } from '../fixtures/models';

test('every Conv of a model whose Convs all become QLinearConv gets its int8 time and kernel; fused Relus and Q/DQ land on their Conv', async () => {
  const fp32 = smallCnn();
  fp32.graph!.input[0] = valueInfo('image', [1, 3, 64, 64]);
  const int8 = structuredClone(fp32);
  const graph = new Graph(int8.graph!);
  const plan = planQuantization(graph, { opTypes: null, exclude: new Set(), isFloat: () => true, opset: 13 });
  applyPlan(graph, plan, () => ({ scale: 0.05, zeroPoint: 100 }), { activations: 'u8', perChannel: true, weightRange: 'full' });

  const dir = tempDir();
  const feeds = benchFeeds('image', [1, 3, 64, 64], 1, null);
  const options = { runs: 5, warmup: 2, threads: 1 };
  const fp32Profile = await profileKernels(encodeModel(fp32), feeds, options, dir, 'fp32');
  const int8Profile = await profileKernels(encodeModel(int8), feeds, options, dir, 'int8');
  assert.equal(int8Profile.runs, 5, 'warm-up runs are left out');
  assert.ok([...int8Profile.kernels.values()].some((k) => k.opType === 'QLinearConv'), 'ORT ran QLinearConv');

  const profile = timeProfile(new Graph(fp32.graph!), fp32Profile, int8, int8Profile, 1, 1);
  const byNode = new Map(profile.nodes.map((n) => [n.node, n] as const));
  const convs = fp32.graph!.node.filter((n) => n.op_type === 'Conv').map((n) => n.name!);
  assert.equal(convs.length, 4);
  for (const name of convs) {
    const t = byNode.get(name);
    assert.ok(t, `${name} is in the profile`);
    assert.ok(t.int8Ms > 0, `${name}: int8 time ${t.int8Ms}`);
    assert.deepEqual(t.int8Kernels, ['QLinearConv'], `${name}: ${t.int8Kernels}`);
    assert.ok(t.fp32Ms > 0, `${name}: FP32 time ${t.fp32Ms}`);
    assert.ok(t.fp32Kernels.length > 0 && t.fp32Kernels.every((k) => /Conv/.test(k)), `${name}: ${t.fp32Kernels}`);
  }
  // The Relu folded into conv1 has no kernel of its own in INT8: it shows conv1's kernel and no time.
  const relu = byNode.get('relu1');
  assert.ok(relu && relu.int8Ms === 0 && relu.int8Kernels.includes('QLinearConv'), JSON.stringify(relu));
  // The input's QuantizeLinear (and the NHWC transpose) is what running conv1 in int8 costs at its border.
  assert.ok(byNode.get('conv1')!.overheadMs > 0, 'the input Q/DQ is charged to the first conv');
  const gemm = byNode.get('fc')!;
  assert.deepEqual(gemm.int8Kernels, ['QGemm']);
  // Every INT8 kernel is somewhere: the nodes, their overhead, or the unattributed rest.
  const attributed = profile.nodes.reduce((s, n) => s + n.int8Ms + n.overheadMs, 0) + profile.unattributedInt8Ms;
  assert.ok(Math.abs(attributed - profile.int8TotalMs) < 0.005, `${attributed} vs ${profile.int8TotalMs}`);
  assert.ok(profile.unattributedInt8Ms <= profile.int8TotalMs * 0.05, `unattributed ${profile.unattributedInt8Ms} of ${profile.int8TotalMs}`);
  const convRow = profile.byOpType.find((r) => r.opType === 'Conv')!;
  assert.equal(convRow.count, 4);
  assert.ok(profile.byOpType.every((r, i, all) => i === 0 || all[i - 1].fp32Ms >= r.fp32Ms), 'op types sorted by FP32 time');
  assert.deepEqual(profile.nodes.map((n) => n.node), fp32.graph!.node.map((n) => n.name!).filter((n) => byNode.has(n)), 'graph order');
});

test('trace reader: kernel events grouped by model run, warm-up runs dropped, times summed per run', () => {
  const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur });
  const kernel = (name: string, ts: number, dur: number, op = 'Conv') => ({ cat: 'Node', name: `${name}_kernel_time`, ts, dur, args: { op_name: op } });
  const events = [
    { cat: 'Session', name: 'session_initialization', ts: 0, dur: 90 },
    run(100, 50), kernel('a', 110, 30),
    run(200, 50), kernel('a', 210, 10), kernel('a', 225, 5), kernel('b', 240, 4, 'Relu'),
    run(300, 50), kernel('a', 310, 12), kernel('b', 330, 6, 'Relu'),
    { cat: 'Node', name: 'a_fence_before', ts: 305, dur: 1 },
  ];
  const times = kernelTimes(events, 1);
  assert.equal(times.runs, 2);
  assert.deepEqual(times.kernels.get('a')?.perRunUs, [15, 12]);
  assert.deepEqual(times.kernels.get('b'), { name: 'b', opType: 'Relu', perRunUs: [4, 6] });
  assert.deepEqual(times.runMs, [0.05, 0.05]);
});

test('a profile taken aside (on a thread of its own) times the same kernels as one taken here, leaves no files, and sessions opened here meanwhile wait for it', async () => {
  const model = smallCnn();
  model.graph!.input[0] = valueInfo('image', [1, 3, 64, 64]);
  const dir = tempDir();
  const feeds = benchFeeds('image', [1, 3, 64, 64], 1, null);
  const options = { runs: 6, warmup: 1, threads: 1 };
  // Weights large enough to go apart in the split model, read back from bytes as a model read from a file is (its
  // tensors' raw data views into one buffer).
  model.graph!.initializer.push(makeTensor('unused_large', [4096], new Float32Array(4096).fill(0.5)));
  const here = await profileKernels(encodeModel(model), feeds, options, dir, 'here');
  const split = encodeSplit(parseModel(Buffer.from(encodeModel(model)), 'model.onnx'));
  assert.ok(split.external.length > 0, 'the split model has weights apart');
  const aside = profileAside(split, feeds, options, dir, 'aside');
  // A session opened here while the profile runs aside opens only after it is done.
  let profiled = false;
  void aside.then(() => { profiled = true; });
  const session = await openSession(encodeModel(model), { threads: 1, level: 'all' }, 'meanwhile');
  assert.ok(profiled, 'the session opened before the profile aside was done');
  await session.release();
  const asideProfile = await aside;
  assert.equal(asideProfile.runs, 6);
  assert.equal(asideProfile.runMs.length, 6);
  assert.deepEqual([...asideProfile.kernels.keys()].sort(), [...here.kernels.keys()].sort(), 'the same kernels ran');
  assert.ok([...asideProfile.kernels.values()].every((k) => k.perRunUs.length === 6 && k.perRunUs.every((us) => us >= 0)));
  assert.deepEqual(asideProfile.optimized.graph!.node.map((n) => n.op_type), here.optimized.graph!.node.map((n) => n.op_type),
    'the graph ORT ran is read back');
  // The caller's model and feeds are its own still (the thread got copies): the split model opens and runs again.
  assert.equal(feeds.image.data.length, 3 * 64 * 64);
  assert.ok(split.graph.byteLength > 0 && split.external.every((e) => e.data.byteLength > 0), 'the split model still holds its bytes');
  const again = await openSession(split, { threads: 1, level: 'all' }, 'again');
  assert.equal((await again.run(feeds)).logits.dims.join(','), '1,10');
  await again.release();
  assert.deepEqual(readdirSync(dir), [], 'the trace and the optimized graph are removed');
});

test('a profile aside fails like one taken here (the model names itself), and a session opened after it does not wait for ever', async () => {
  const dir = tempDir();
  const feeds = benchFeeds('image', [1, 3, 64, 64], 1, null);
  const broken = { graph: Uint8Array.of(1, 2, 3, 4), external: [] };
  await assert.rejects(profileAside(broken, feeds, { runs: 2, warmup: 1, threads: 1 }, dir, 'broken.onnx'), /broken\.onnx/);
  const model = smallCnn();
  model.graph!.input[0] = valueInfo('image', [1, 3, 64, 64]);
  const session = await openSession(encodeModel(model), { threads: 1, level: 'all' }, 'after');
  await session.release();
  assert.deepEqual(readdirSync(dir), []);
});

/** Convolutions heavy enough that a profile spends most of its time inside ONNX Runtime (~10 ms a run, one thread). */
function convStack(): ModelProto {
  const r = rng(7);
  const nodes: NodeProto[] = [];
  const inits = [];
  let x = 'image';
  for (let i = 0; i < 6; i++) {
    inits.push(randomTensor(`w${i}`, [64, i === 0 ? 3 : 64, 3, 3], r, 0.05));
    nodes.push(makeNode('Conv', [x, `w${i}`], [`c${i}`], `conv${i}`, [intsAttribute('kernel_shape', [3, 3]), intsAttribute('pads', [1, 1, 1, 1])]));
    nodes.push(makeNode('Relu', [`c${i}`], [`r${i}`], `relu${i}`));
    x = `r${i}`;
  }
  return buildModel(nodes, inits, [valueInfo('image', [1, 3, 96, 96])], [valueInfo(x, [1, 64, 96, 96])]);
}

test('a profile aside stopped at any moment rejects with CancelledError, leaves no file, and never takes the process down', async () => {
  // The thread is not ended while ONNX Runtime runs on it (that aborts the process): it stops between runs.
  const model = encodeSplit(convStack());
  const feeds = benchFeeds('image', [1, 3, 96, 96], 1, null);
  let cancelled = 0;
  for (const delayMs of [0, 5, 15, 30, 60, 100, 150]) {
    const dir = tempDir();
    const controller = new AbortController();
    const aside = profileAside(model, feeds, { runs: 20, warmup: 2, threads: 1, signal: controller.signal }, dir, 'stack.onnx');
    setTimeout(() => controller.abort(), delayMs);
    try {
      await aside;
    } catch (err) {
      assert.ok(err instanceof CancelledError, `delay ${delayMs} ms: ${String(err)}`);
      cancelled++;
    }
    assert.deepEqual(readdirSync(dir), [], `delay ${delayMs} ms: the trace and the optimized graph are removed`);
  }
  assert.ok(cancelled >= 4, `${cancelled} of 7 profiles were stopped`);
  // Sessions open here again.
  const session = await openSession(model, { threads: 1, level: 'all' }, 'after');
  await session.release();
});
