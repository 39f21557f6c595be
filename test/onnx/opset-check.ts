// Shared by the opset converter tests: build one-op models at an old opset, convert them, and check in ONNX Runtime
// that the original and the converted model give the same outputs on seeded random inputs.
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildModel, valueInfo } from '../../src/onnx/build';
import { ModelProto, NodeProto, TensorProto, encodeModel, DataType } from '../../src/onnx/proto';
import { opsetVersion } from '../../src/onnx/graph';
import { OpsetUpgrade, upgradeOpset } from '../../src/onnx/opset';
import { gaussian, rng } from '../../src/common/random';

export interface Feed { dims: number[]; data: Float32Array | BigInt64Array }

/** A model at `opset` around `nodes`; inputs/outputs as [name, dims] (dims may hold symbolic names). */
export function oldModel(opset: number, nodes: NodeProto[], inputs: [string, (number | string)[]][], outputs: (string | [string, number])[],
  initializers: TensorProto[] = []): ModelProto {
  const model = buildModel(nodes, initializers, inputs.map(([n, d]) => valueInfo(n, d)),
    outputs.map((o) => (typeof o === 'string' ? { name: o, type: { tensor_type: { elem_type: DataType.FLOAT } } } : { name: o[0], type: { tensor_type: { elem_type: o[1] } } })),
    opset, 'octet-opset-test');
  model.ir_version = opset <= 8 ? 3 : Math.min(opset - 5, 7);
  if (model.ir_version < 4) model.graph!.input.push(...initializers.map((t) => valueInfo(t.name!, t.dims, t.data_type)));
  return model;
}

export function randomFeed(dims: number[], seed: number, scale = 2): Feed {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = gaussian(r) * scale;
  return { dims, data };
}

async function run(model: ModelProto, feeds: Record<string, Feed>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(encodeModel(model), { graphOptimizationLevel: 'disabled', logSeverityLevel: 3 });
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new ort.Tensor(f.data instanceof BigInt64Array ? 'int64' : 'float32', f.data, f.dims);
    return await session.run(inputs);
  } finally {
    await session.release();
  }
}

export function assertClose(actual: ort.Tensor, expected: ort.Tensor, what: string): void {
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  assert.equal(actual.type, expected.type, `${what}: type`);
  const a = actual.data as ArrayLike<number | bigint>;
  const e = expected.data as ArrayLike<number | bigint>;
  for (let i = 0; i < e.length; i++) {
    if (typeof e[i] === 'bigint' || typeof e[i] === 'boolean') { assert.equal(a[i], e[i], `${what}[${i}]`); continue; }
    const x = Number(a[i]); const y = Number(e[i]);
    assert.ok(Math.abs(x - y) <= 1e-5 * Math.max(Math.abs(x), Math.abs(y)) + 1e-7, `${what}[${i}]: ${x} vs ${y}`);
  }
}

/**
 * Converts `model`, checks it is a new opset-13 model (source untouched), runs both in ORT and compares every output.
 * Returns the conversion for further checks.
 */
export async function assertConvertsExactly(model: ModelProto, feeds: Record<string, Feed>): Promise<OpsetUpgrade> {
  const before = Buffer.from(encodeModel(model));
  const upgrade = upgradeOpset(model, { label: 'test.onnx' });
  assert.ok(Buffer.from(encodeModel(model)).equals(before), 'the source model is not modified');
  assert.equal(opsetVersion(upgrade.model, ''), 13);
  assert.ok((upgrade.model.ir_version ?? 0) >= 7, 'IR version raised for opset 13');
  const expected = await run(model, feeds);
  const actual = await run(upgrade.model, feeds);
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), 'same outputs');
  for (const name of Object.keys(expected)) assertClose(actual[name], expected[name], name);
  return upgrade;
}

/** Op types of the converted graph. */
export function opTypes(model: ModelProto): string[] {
  return model.graph!.node.map((n) => n.op_type ?? '');
}

export function changeCount(upgrade: OpsetUpgrade, change: string): number {
  return upgrade.changes.find((c) => c.change === change)?.count ?? 0;
}
