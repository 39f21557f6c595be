// FP32 preparation before calibration: ONNX Runtime's basic optimizer (BatchNorm folded into Conv, constants
// folded, identities removed) so Octet quantizes the graph ORT will really run; then a probe run that records the
// element type and shape of every intermediate tensor.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OctetError } from '../../common/errors';
import { parseModel } from '../../onnx/model-io';
import { encodeSplit, ModelProto, ValueInfoProto } from '../../onnx/proto';
import type { TensorFacts } from '../../quant/convert';
import { openSession, runFloat } from './session';

export async function optimizeFp32(model: ModelProto, label: string, workDir: string): Promise<ModelProto> {
  const optimizedPath = join(workDir, 'fp32-optimized.onnx');
  const session = await openSession(encodeSplit(model), { threads: 1, level: 'basic', optimizedPath }, label);
  await session.release();
  return parseModel(readFileSync(optimizedPath), optimizedPath);
}

function floatOutput(name: string): ValueInfoProto {
  return { name, type: { tensor_type: { elem_type: 1 } } };
}

/** A copy of `model` whose graph also outputs `tensors` (as float32), for calibration and probing. */
export function withExtraOutputs(model: ModelProto, tensors: readonly string[], typed = true): ModelProto {
  const graph = model.graph!;
  const existing = new Set(graph.output.map((o) => o.name));
  const extra = tensors.filter((t) => !existing.has(t)).map((t) => (typed ? floatOutput(t) : { name: t }));
  return { ...model, graph: { ...graph, output: [...graph.output, ...extra] } };
}


/** Runs one batch with every node output exposed; returns each tensor's element type and shape. */
export async function probeTensors(model: ModelProto, inputName: string, sample: Float32Array, shape: number[], label: string): Promise<Map<string, TensorFacts>> {
  const graph = model.graph!;
  const names = [...new Set(graph.node.flatMap((n) => n.output).filter((o) => o !== ''))];
  // Outputs without a declared type: ORT infers them. Non-float tensors would not match a float declaration.
  const probe = { ...model, graph: { ...graph, output: [...graph.output, ...names.filter((n) => !graph.output.some((o) => o.name === n)).map((name) => ({ name }))] } };
  let session;
  try {
    session = await openSession(encodeSplit(probe), { threads: 0, level: 'disabled', lowMemory: true }, label);
  } catch (err) {
    if (err instanceof OctetError) throw err;
    throw new OctetError(label, `could not probe intermediate tensors: ${String(err)}`);
  }
  try {
    const outputs = await runFloat(session, inputName, sample, shape);
    const facts = new Map<string, TensorFacts>();
    for (const [name, tensor] of Object.entries(outputs)) facts.set(name, { type: tensor.type, dims: [...tensor.dims] });
    return facts;
  } catch (err) {
    if (err instanceof OctetError) throw err;
    const detail = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ');
    throw new OctetError(label, `ONNX Runtime failed to run the FP32 model on the data: ${detail}`);
  } finally {
    await session.release();
  }
}
