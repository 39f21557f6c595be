// Reading and writing ONNX model files: clear errors naming the file, external-data tensors (read through
// external-data.ts), all-or-nothing writes (common/atomic-write.ts).
import { basename, dirname, join } from 'node:path';
import { InternalError, OctetError } from '../common/errors';
import { StagedFiles } from '../common/atomic-write';
import { readRegularFileSync } from '../common/safe-read';
import { loadExternalTensors } from './external-data';
import { DATA_LOCATION, decodeModel, encodeModel, GraphProto, ModelProto, TensorProto } from './proto';

/** Protobuf messages cannot exceed 2 GiB; past this many bytes of weights a model must use external data. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface LoadedModel {
  path: string;
  model: ModelProto;
  /** Size of the .onnx file itself (external data not included). */
  fileBytes: number;
  /** True when some initializers were stored as external data (now loaded into raw_data). */
  hadExternalData: boolean;
  /** Real paths of the external-data files read. */
  externalFiles: string[];
}

/** The bytes of an .onnx file: a regular file of at most 2 GiB (one protobuf message). */
export function readModelBytes(path: string): Buffer {
  return readRegularFileSync(path, { what: 'an ONNX model file', maxBytes: PROTOBUF_LIMIT });
}

/** Decodes and sanity-checks an in-memory model; `label` names it in errors. */
export function parseModel(bytes: Uint8Array, label: string): ModelProto {
  if (bytes.byteLength === 0) throw new OctetError(label, 'the file is empty, not an ONNX model');
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    const truncated = /index out of range|premature|unexpected end/i.test(detail);
    throw new OctetError(label, truncated
      ? `the ONNX file is truncated or corrupt (protobuf: ${detail})`
      : `not a valid ONNX model (protobuf: ${detail})`);
  }
  const ir = model.ir_version ?? 0;
  if (!model.graph || ir < 1 || ir > 64 || model.opset_import.length === 0) {
    throw new OctetError(label, 'not an ONNX model: no graph, IR version or opset import found (is it another file type?)');
  }
  if (model.graph.node.length === 0) throw new OctetError(label, 'the ONNX graph has no nodes');
  return model;
}

/**
 * Tensors that may hold external data: initializers and tensor attributes of the main graph and of every subgraph (If,
 * Loop and Scan bodies). A subgraph's external tensor left to ONNX Runtime would be looked up from the process's
 * working folder, not the model's, past Octet's checks.
 */
function storedTensors(model: ModelProto): TensorProto[] {
  const tensors: TensorProto[] = [];
  const graphs: GraphProto[] = model.graph ? [model.graph] : [];
  for (let graph = graphs.pop(); graph; graph = graphs.pop()) {
    tensors.push(...graph.initializer);
    for (const attribute of graph.node.flatMap((node) => node.attribute)) {
      if (attribute.t) tensors.push(attribute.t);
      tensors.push(...attribute.tensors);
      if (attribute.g) graphs.push(attribute.g);
      graphs.push(...attribute.graphs);
    }
  }
  return tensors;
}

export function readModel(path: string): LoadedModel {
  const bytes = readModelBytes(path);
  const model = parseModel(bytes, path);
  const tensors = storedTensors(model);
  const hadExternalData = tensors.some((t) => t.data_location === DATA_LOCATION.EXTERNAL);
  const externalFiles = loadExternalTensors(tensors, path);
  return { path, model, fileBytes: bytes.byteLength, hadExternalData, externalFiles };
}

export interface WriteOptions {
  /** Move initializers of at least this many bytes to `<file>.data` (default: only when the model would exceed 2 GiB). */
  externalDataThreshold?: number;
}

/** Serializes `model` to `path` atomically (see stageModel). Returns bytes written. */
export function writeModel(path: string, model: ModelProto, options: WriteOptions = {}): number {
  const files = new StagedFiles();
  try {
    const bytes = stageModel(files, path, model, options);
    files.commit();
    return bytes;
  } finally {
    files.discard();
  }
}

/**
 * Stages `model` for `path` in `files` (nothing visible until files.commit()). When the weights would not fit in one
 * protobuf message (2 GiB), large initializers go to `<file>.data` beside it (ONNX external data, offsets 4
 * KiB-aligned), staged before the model. Returns bytes staged.
 */
export function stageModel(files: StagedFiles, path: string, model: ModelProto, options: WriteOptions = {}): number {
  const graph = model.graph;
  if (!graph) throw new InternalError(`refusing to write a model without a graph to ${path}`);
  const weightBytes = graph.initializer.reduce((sum, t) => sum + (t.raw_data?.byteLength ?? 0), 0);
  const threshold = options.externalDataThreshold ?? (weightBytes > PROTOBUF_LIMIT - 64 * 2 ** 20 ? 1024 : Infinity);
  if (!Number.isFinite(threshold)) {
    const bytes = encodeModel(model);
    files.add(path, [bytes]);
    return bytes.byteLength;
  }
  const dataName = `${basename(path)}.data`;
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const moved: { tensor: TensorProto; raw: Uint8Array }[] = [];
  for (const t of graph.initializer) {
    const raw = t.raw_data;
    if (!raw || raw.byteLength < threshold) continue;
    const pad = (4096 - (offset % 4096)) % 4096;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(raw);
    moved.push({ tensor: t, raw });
    t.external_data = [
      { key: 'location', value: dataName }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(raw.byteLength) },
    ];
    t.data_location = DATA_LOCATION.EXTERNAL;
    t.raw_data = undefined;
    offset += raw.byteLength;
  }
  try {
    files.add(join(dirname(path), dataName), chunks);
    const bytes = encodeModel(model);
    files.add(path, [bytes]);
    return bytes.byteLength + offset;
  } finally {
    for (const { tensor, raw } of moved) {
      tensor.raw_data = raw;
      tensor.data_location = DATA_LOCATION.DEFAULT;
      tensor.external_data = [];
    }
  }
}
