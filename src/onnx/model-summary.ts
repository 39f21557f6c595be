// What a model says about itself without its weights or nodes: producer, IR version, opset, metadata, graph name, the
// inputs a caller feeds and the outputs it gets (name, element type, shape), and how many nodes it has. Everything
// that describes a model to people (src/data/model-description.ts: layout, dynamic dims, output kinds, the
// preprocessing guess) reads this, whether it comes from a decoded model (summarizeModel, the engine) or from a
// structure-only read of the file (readModelSummary in skim.ts, the extension host): both say the same thing.
import { OctetError } from '../common/errors';
import { elemTypeOf, opsetVersion, shapeOf } from './graph';
import type { ModelProto, OperatorSetId, StringStringEntry, ValueInfoProto } from './proto';

export interface TensorSummary {
  name: string;
  /** ONNX element type number (1 = float), 0 when not declared. */
  elemType: number;
  /** Dimensions: numbers where fixed, names (e.g. "N") where symbolic, "?" where unknown; null when no shape is declared. */
  shape: (number | string)[] | null;
}

export interface ModelSummary {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Version of the default (ai.onnx) opset, 0 when not imported. */
  opset: number;
  graphName: string;
  /** Inputs the caller feeds (initializers listed as inputs in old IR versions are left out). */
  inputs: TensorSummary[];
  outputs: TensorSummary[];
  metadata: Record<string, string>;
  nodeCount: number;
}

/** The parts of a ModelProto a summary is made of (what a structure-only read collects). */
export interface SummaryParts {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsetImports: OperatorSetId[];
  metadata: StringStringEntry[];
  graphName: string;
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializerNames: Set<string>;
  nodeCount: number;
  sawGraph: boolean;
}

function tensorSummary(info: ValueInfoProto): TensorSummary {
  return { name: info.name ?? '', elemType: elemTypeOf(info) ?? 0, shape: shapeOf(info) ?? null };
}

/** A summary from its parts (both readers end here, so they agree field by field). */
export function summaryFromParts(parts: SummaryParts): ModelSummary {
  const metadata: Record<string, string> = {};
  for (const entry of parts.metadata) if (entry.key) metadata[entry.key] = entry.value ?? '';
  return {
    irVersion: parts.irVersion,
    producerName: parts.producerName,
    producerVersion: parts.producerVersion,
    opset: opsetVersion({ opset_import: parts.opsetImports } as ModelProto, ''),
    graphName: parts.graphName,
    inputs: parts.inputs.filter((vi) => !parts.initializerNames.has(vi.name ?? '')).map(tensorSummary),
    outputs: parts.outputs.map(tensorSummary),
    metadata,
    nodeCount: parts.nodeCount,
  };
}

/** The summary of a decoded model (no checks: readModel has made them). */
export function summarizeModel(model: ModelProto): ModelSummary {
  const graph = model.graph;
  return summaryFromParts({
    irVersion: model.ir_version ?? 0,
    producerName: model.producer_name ?? '',
    producerVersion: model.producer_version ?? '',
    opsetImports: model.opset_import ?? [],
    metadata: model.metadata_props ?? [],
    graphName: graph?.name ?? '',
    inputs: graph?.input ?? [],
    outputs: graph?.output ?? [],
    initializerNames: new Set((graph?.initializer ?? []).map((t) => t.name ?? '')),
    nodeCount: graph?.node.length ?? 0,
    sawGraph: graph !== undefined,
  });
}

/** Refuses parts that are not a model Octet could feed images into (a file of another type read as protobuf, say). */
export function checkSummaryParts(parts: SummaryParts, label: string): void {
  if (!parts.sawGraph || parts.irVersion < 1 || parts.irVersion > 64 || parts.opsetImports.length === 0) {
    throw new OctetError(label, 'not an ONNX model: no graph, IR version or opset import found (is it another file type?)');
  }
  if (parts.nodeCount === 0) throw new OctetError(label, 'the ONNX graph has no nodes');
  if (parts.inputs.every((vi) => parts.initializerNames.has(vi.name ?? ''))) {
    throw new OctetError(label, 'the model has no graph inputs to feed images into');
  }
}
