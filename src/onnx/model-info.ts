// Summary of a model for the report: size, opset, producer, inputs/outputs, op histogram.
import type { ModelInfo } from '../common/report';
import { opsetVersion, shapeOf } from './graph';
import { ModelProto } from './proto';
import { dataTypeName } from './tensor';

export function opHistogram(model: ModelProto): Record<string, number> {
  const histogram: Record<string, number> = {};
  for (const node of model.graph?.node ?? []) {
    const op = node.op_type ?? '?';
    histogram[op] = (histogram[op] ?? 0) + 1;
  }
  return histogram;
}

export function modelInfo(model: ModelProto, path: string, bytes: number): ModelInfo {
  const graph = model.graph!;
  const initializers = new Set(graph.initializer.map((t) => t.name));
  const describe = (vi: (typeof graph.input)[number]) => ({
    name: vi.name ?? '', shape: shapeOf(vi) ?? [], type: dataTypeName(vi.type?.tensor_type?.elem_type),
  });
  return {
    path, bytes,
    opset: opsetVersion(model, ''),
    irVersion: model.ir_version ?? 0,
    producer: [model.producer_name, model.producer_version].filter(Boolean).join(' '),
    inputs: graph.input.filter((vi) => !initializers.has(vi.name)).map(describe),
    outputs: graph.output.map(describe),
    opHistogram: opHistogram(model),
  };
}
