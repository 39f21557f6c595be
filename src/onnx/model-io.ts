// Reading and writing ONNX model files: clear errors naming the file, external-data tensors, atomic writes.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeFsError, OctetError } from '../common/errors';
import { decodeModel, encodeModel, ModelProto, TensorProto } from './proto';

/** Protobuf messages cannot exceed 2 GiB; past this many bytes of weights a model must use external data. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface LoadedModel {
  path: string;
  model: ModelProto;
  /** Size of the .onnx file itself (external data not included). */
  fileBytes: number;
  /** True when some initializers were stored as external data (now loaded into raw_data). */
  hadExternalData: boolean;
}

function readBytes(path: string): Buffer {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new OctetError(path, 'is a folder, not an ONNX model file');
    return readFileSync(path);
  } catch (err) {
    if (err instanceof OctetError) throw err;
    throw describeFsError(path, err);
  }
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

function entry(t: TensorProto, key: string): string | undefined {
  return t.external_data.find((e) => e.key === key)?.value;
}

/** Loads external-data tensors into raw_data so the rest of Octet sees one self-contained model. */
function loadExternalData(model: ModelProto, modelPath: string): boolean {
  const baseDir = dirname(modelPath);
  const opened = new Map<string, Buffer>();
  let found = false;
  const visit = (tensors: TensorProto[]) => {
    for (const t of tensors) {
      if (t.data_location !== 1) continue;
      found = true;
      const location = entry(t, 'location');
      if (!location) throw new OctetError(modelPath, `tensor '${t.name}' is external but names no location`);
      const file = resolve(baseDir, location);
      if (!file.startsWith(resolve(baseDir))) {
        throw new OctetError(modelPath, `tensor '${t.name}' points outside the model's folder (${location})`);
      }
      let data = opened.get(file);
      if (!data) {
        data = readBytes(file);
        opened.set(file, data);
      }
      const offset = Number(entry(t, 'offset') ?? 0);
      const length = Number(entry(t, 'length') ?? data.byteLength - offset);
      if (offset + length > data.byteLength) {
        throw new OctetError(file, `external data for tensor '${t.name}' is truncated (needs ${offset + length} bytes, file has ${data.byteLength})`);
      }
      t.raw_data = data.subarray(offset, offset + length);
      t.data_location = 0;
      t.external_data = [];
    }
  };
  if (model.graph) {
    visit(model.graph.initializer);
    for (const node of model.graph.node) for (const a of node.attribute) if (a.t) visit([a.t]);
  }
  return found;
}

export function readModel(path: string): LoadedModel {
  const bytes = readBytes(path);
  const model = parseModel(bytes, path);
  const hadExternalData = loadExternalData(model, path);
  return { path, model, fileBytes: bytes.byteLength, hadExternalData };
}

/** Writes `data` to `path` via a temp file in the same folder, fsync, then rename: readers never see half a file. */
export function writeFileAtomic(path: string, chunks: Uint8Array[]): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    for (const chunk of chunks) {
      let written = 0;
      while (written < chunk.byteLength) written += writeSync(fd, chunk, written, chunk.byteLength - written);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) try { closeSync(fd); } catch { /* already failing */ }
    try { unlinkSync(tmp); } catch { /* nothing was created */ }
    throw describeFsError(path, err);
  }
}

export interface WriteOptions {
  /** Move initializers of at least this many bytes to `<file>.data` (default: only when the model would exceed 2 GiB). */
  externalDataThreshold?: number;
}

/**
 * Serializes `model` to `path` atomically. When the weights would not fit in one protobuf message (2 GiB), large
 * initializers go to `<file>.data` beside it (ONNX external data, offsets 4 KiB-aligned). Returns bytes written.
 */
export function writeModel(path: string, model: ModelProto, options: WriteOptions = {}): number {
  const graph = model.graph;
  if (!graph) throw new OctetError(path, 'refusing to write a model without a graph');
  const weightBytes = graph.initializer.reduce((sum, t) => sum + (t.raw_data?.byteLength ?? 0), 0);
  const threshold = options.externalDataThreshold ?? (weightBytes > PROTOBUF_LIMIT - 64 * 2 ** 20 ? 1024 : Infinity);
  if (!Number.isFinite(threshold)) {
    const bytes = encodeModel(model);
    writeFileAtomic(path, [bytes]);
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
    t.data_location = 1;
    t.raw_data = undefined;
    offset += raw.byteLength;
  }
  try {
    writeFileAtomic(join(dirname(path), dataName), chunks);
    const bytes = encodeModel(model);
    writeFileAtomic(path, [bytes]);
    return bytes.byteLength + offset;
  } finally {
    for (const { tensor, raw } of moved) {
      tensor.raw_data = raw;
      tensor.data_location = 0;
      tensor.external_data = [];
    }
  }
}
