// A cheap look at an ONNX model from the extension host: its graph inputs, producer and metadata, read by walking
// the protobuf wire format and skipping weights and nodes (no full decode, no onnxruntime). Enough to guess the
// preprocessing preset and to reject a file that is not an ONNX model before the engine starts.
import { readFileSync } from 'node:fs';
import * as protobuf from 'protobufjs';
import { describeFsError, OctetError } from '../../common/errors';

export interface ModelInput {
  name: string;
  /** ONNX element type number (1 = float). */
  elemType: number;
  /** Dimensions: numbers where fixed, names (e.g. "N") where symbolic, "?" where unknown. */
  shape: (number | string)[];
}

export interface ModelSummary {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  /** Inputs the caller feeds (initializers listed as inputs in old IR versions are left out). */
  inputs: ModelInput[];
  metadata: Record<string, string>;
  nodeCount: number;
}

type Reader = protobuf.Reader;

function toNumber(value: number | protobuf.Long): number {
  return typeof value === 'number' ? value : protobuf.util.LongBits.from(value).toNumber(false);
}

/** Calls `onField(fieldNumber, wireType)` for each field up to `end`; the callback must consume or skip it. */
function eachField(reader: Reader, end: number, onField: (field: number, wireType: number) => boolean): void {
  while (reader.pos < end) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (field === 0) throw new Error('invalid field number 0');
    if (!onField(field, wireType)) reader.skipType(wireType);
  }
}

const LENGTH_DELIMITED = 2;
const VARINT = 0;

function subEnd(reader: Reader): number {
  const length = reader.uint32();
  const end = reader.pos + length;
  if (end > reader.len) throw new Error(`length ${length} runs past the end of the data`);
  return end;
}

function readDimension(reader: Reader, end: number): number | string {
  let dim: number | string = '?';
  eachField(reader, end, (field, wire) => {
    if (field === 1 && wire === VARINT) { dim = toNumber(reader.int64()); return true; }
    if (field === 2 && wire === LENGTH_DELIMITED) { dim = reader.string(); return true; }
    return false;
  });
  return dim;
}

function readTensorType(reader: Reader, end: number, into: ModelInput): void {
  eachField(reader, end, (field, wire) => {
    if (field === 1 && wire === VARINT) { into.elemType = reader.int32(); return true; }
    if (field === 2 && wire === LENGTH_DELIMITED) {
      const shapeEnd = subEnd(reader);
      eachField(reader, shapeEnd, (f, w) => {
        if (f === 1 && w === LENGTH_DELIMITED) { into.shape.push(readDimension(reader, subEnd(reader))); return true; }
        return false;
      });
      return true;
    }
    return false;
  });
}

function readValueInfo(reader: Reader, end: number): ModelInput {
  const input: ModelInput = { name: '', elemType: 0, shape: [] };
  eachField(reader, end, (field, wire) => {
    if (field === 1 && wire === LENGTH_DELIMITED) { input.name = reader.string(); return true; }
    if (field === 2 && wire === LENGTH_DELIMITED) {
      const typeEnd = subEnd(reader);
      eachField(reader, typeEnd, (f, w) => {
        if (f === 1 && w === LENGTH_DELIMITED) { readTensorType(reader, subEnd(reader), input); return true; }
        return false;
      });
      return true;
    }
    return false;
  });
  return input;
}

/** The name of a TensorProto, skipping its data. */
function readTensorName(reader: Reader, end: number): string {
  let name = '';
  eachField(reader, end, (field, wire) => {
    if (field === 8 && wire === LENGTH_DELIMITED) { name = reader.string(); return true; }
    return false;
  });
  return name;
}

function readGraph(reader: Reader, end: number, summary: ModelSummary): void {
  const declared: ModelInput[] = [];
  const initializers = new Set<string>();
  eachField(reader, end, (field, wire) => {
    if (wire !== LENGTH_DELIMITED) return false;
    if (field === 1) { summary.nodeCount++; return false; }
    if (field === 5) { initializers.add(readTensorName(reader, subEnd(reader))); return true; }
    if (field === 11) { declared.push(readValueInfo(reader, subEnd(reader))); return true; }
    return false;
  });
  summary.inputs = declared.filter((i) => !initializers.has(i.name));
}

/** Summarizes an ONNX model held in memory; `label` names it in errors. */
export function summarizeModelBytes(bytes: Uint8Array, label: string): ModelSummary {
  if (bytes.byteLength === 0) throw new OctetError(label, 'the file is empty, not an ONNX model');
  const summary: ModelSummary = { irVersion: 0, producerName: '', producerVersion: '', inputs: [], metadata: {}, nodeCount: 0 };
  let sawGraph = false;
  let opsetImports = 0;
  try {
    const reader = protobuf.Reader.create(bytes);
    eachField(reader, reader.len, (field, wire) => {
      if (field === 1 && wire === VARINT) { summary.irVersion = toNumber(reader.int64()); return true; }
      if (field === 2 && wire === LENGTH_DELIMITED) { summary.producerName = reader.string(); return true; }
      if (field === 3 && wire === LENGTH_DELIMITED) { summary.producerVersion = reader.string(); return true; }
      if (field === 7 && wire === LENGTH_DELIMITED) { sawGraph = true; readGraph(reader, subEnd(reader), summary); return true; }
      if (field === 8 && wire === LENGTH_DELIMITED) { opsetImports++; return false; }
      if (field === 14 && wire === LENGTH_DELIMITED) {
        const entryEnd = subEnd(reader);
        let key = '';
        let value = '';
        eachField(reader, entryEnd, (f, w) => {
          if (f === 1 && w === LENGTH_DELIMITED) { key = reader.string(); return true; }
          if (f === 2 && w === LENGTH_DELIMITED) { value = reader.string(); return true; }
          return false;
        });
        if (key) summary.metadata[key] = value;
        return true;
      }
      return false;
    });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new OctetError(label, `not a valid ONNX model: the file is truncated or corrupt (${detail})`);
  }
  if (!sawGraph || summary.irVersion < 1 || summary.irVersion > 64 || opsetImports === 0) {
    throw new OctetError(label, 'not an ONNX model: no graph, IR version or opset import found (is it another file type?)');
  }
  if (summary.nodeCount === 0) throw new OctetError(label, 'the ONNX graph has no nodes');
  if (summary.inputs.length === 0) throw new OctetError(label, 'the model has no graph inputs to feed images into');
  return summary;
}

export function summarizeModel(path: string): ModelSummary {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw describeFsError(path, err);
  }
  return summarizeModelBytes(bytes, path);
}
