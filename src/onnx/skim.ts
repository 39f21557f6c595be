// Structure-only reading of an .onnx file, for the places that must not decode weights (the extension host, the graph
// viewer on large models): walks the protobuf wire format with positional reads.
// - skimModel (the viewer): leaves large initializer payloads (raw_data >= 4 KiB, and external data) on disk,
//   remembering where they are. A 100 MB ResNet-50 opens by reading well under 1 MB; a weight is read only when its
//   node is inspected. The skeleton (the file minus those payloads) is decoded by src/onnx like any model, so errors
//   read the same.
// - readModelSummary (the extension's prompts): producer, metadata, opset, inputs and outputs only; nodes and
//   initializers are skipped (initializer names are read to leave them out of the inputs).
import { closeSync, readSync } from 'node:fs';
import { OctetError } from '../common/errors';
import { openRegularFileSync, readRangeSync } from '../common/safe-read';
import { loadExternalTensors } from './external-data';
import { parseModel, PROTOBUF_LIMIT } from './model-io';
import { checkSummaryParts, ModelSummary, summaryFromParts, SummaryParts } from './model-summary';
import { DATA_LOCATION, decodePart, encodeVarint, ModelProto, TensorProto } from './proto';

const MODEL_FILE = { what: 'an ONNX model file', maxBytes: PROTOBUF_LIMIT };

/** raw_data payloads at least this large stay on disk. */
export const LAZY_THRESHOLD = 4096;

// Field numbers of onnx.proto.
const MODEL_IR_VERSION = 1;
const MODEL_PRODUCER_NAME = 2;
const MODEL_PRODUCER_VERSION = 3;
const MODEL_GRAPH = 7;
const MODEL_OPSET_IMPORT = 8;
const MODEL_METADATA = 14;
const GRAPH_NODE = 1;
const GRAPH_NAME = 2;
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;
const VARINT = 0;
const LENGTH_DELIMITED = 2;

class TruncatedError extends Error {}

/** Positional reads through a small sliding window (headers are tiny; payloads are skipped, not read). */
class FileWindow {
  private buffer = Buffer.alloc(0);
  private start = 0;
  readsIssued = 0;
  bytesRead = 0;

  constructor(private readonly fd: number, readonly size: number, private readonly windowSize = 16 * 1024) {}

  private ensure(offset: number, length: number): void {
    if (offset + length > this.size) throw new TruncatedError(`needs byte ${offset + length}, file has ${this.size}`);
    if (offset >= this.start && offset + length <= this.start + this.buffer.length) return;
    this.buffer = this.readAt(offset, Math.min(Math.max(length, this.windowSize), this.size - offset));
    this.start = offset;
  }

  /** Reads exactly [offset, offset + length) from the file into a new buffer. */
  private readAt(offset: number, length: number): Buffer<ArrayBuffer> {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, out, done, length - done, offset + done);
      if (n === 0) throw new TruncatedError(`unexpected end of file at ${offset + done}`);
      done += n;
    }
    this.readsIssued++;
    this.bytesRead += length;
    return out;
  }

  byte(offset: number): number {
    this.ensure(offset, 1);
    return this.buffer[offset - this.start];
  }

  /** A copy of [offset, offset + length). */
  bytes(offset: number, length: number): Buffer {
    if (length > this.windowSize) {
      if (offset + length > this.size) throw new TruncatedError(`needs byte ${offset + length}, file has ${this.size}`);
      return this.readAt(offset, length);
    }
    this.ensure(offset, length);
    return Buffer.from(this.buffer.subarray(offset - this.start, offset - this.start + length));
  }

  /** Varint at `offset`: [value, next offset]. Values past 2^53 are not needed for lengths and tags. */
  varint(offset: number): [number, number] {
    let value = 0;
    let factor = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(offset + i);
      value += (b & 0x7f) * factor;
      if ((b & 0x80) === 0) return [value, offset + i + 1];
      factor *= 128;
    }
    throw new TruncatedError(`malformed varint at ${offset}`);
  }
}

/** End offset of the field whose value starts at `offset` with wire type `wireType`. */
function skipValue(win: FileWindow, wireType: number, offset: number): number {
  switch (wireType) {
    case 0: return win.varint(offset)[1];
    case 1: return offset + 8;
    case 2: { const [len, at] = win.varint(offset); return at + len; }
    case 5: return offset + 4;
    default: throw new TruncatedError(`unsupported wire type ${wireType} at ${offset}`);
  }
}

/** Where a field is: its tag at `from`, its value at `valueAt`, the next field at `next`. */
interface FieldAt { from: number; valueAt: number; next: number }

/**
 * Calls `visit(field, wireType, at)` for each field of the message in [start, end). Throws TruncatedError on a field
 * number 0 or a field that runs past the message.
 */
function eachField(win: FileWindow, start: number, end: number, visit: (field: number, wireType: number, at: FieldAt) => void): void {
  let pos = start;
  while (pos < end) {
    const [tag, valueAt] = win.varint(pos);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === 0) throw new TruncatedError(`invalid field number at ${pos}`);
    const next = skipValue(win, wireType, valueAt);
    if (next > end) throw new TruncatedError(`field at ${pos} runs past its message`);
    visit(field, wireType, { from: pos, valueAt, next });
    pos = next;
  }
}

/** The bytes of a length-delimited value starting at `valueAt`. */
function lengthDelimited(win: FileWindow, valueAt: number): Buffer {
  const [len, at] = win.varint(valueAt);
  return win.bytes(at, len);
}

/** [start, end) of a length-delimited value starting at `valueAt`. */
function span(win: FileWindow, valueAt: number): [number, number] {
  const [len, at] = win.varint(valueAt);
  return [at, at + len];
}

/** Weights left on disk by a structure-only read: `load` fills `t.raw_data` (returns false if it has no data for t). */
export interface LazyTensorData {
  load(t: TensorProto): boolean;
}

export interface LazyEntry { offset: number; length: number }

function skimTensor(win: FileWindow, start: number, end: number, lazy: Map<string, LazyEntry>): Buffer {
  const parts: Uint8Array[] = [];
  let name: string | undefined;
  let payload: LazyEntry | undefined;
  eachField(win, start, end, (field, wireType, { from, valueAt, next }) => {
    if (field === TENSOR_RAW_DATA && wireType === LENGTH_DELIMITED) {
      const [len, at] = win.varint(valueAt);
      if (len >= LAZY_THRESHOLD) {
        payload = { offset: at, length: len };
        return;
      }
    }
    if (field === TENSOR_NAME && wireType === LENGTH_DELIMITED) name = lengthDelimited(win, valueAt).toString('utf8');
    parts.push(win.bytes(from, next - from));
  });
  if (payload) {
    if (name === undefined) throw new OctetError('model', 'an initializer has data but no name');
    lazy.set(name, payload);
  }
  return Buffer.concat(parts);
}

function skimGraph(win: FileWindow, start: number, end: number, lazy: Map<string, LazyEntry>): Buffer {
  const parts: Uint8Array[] = [];
  eachField(win, start, end, (field, wireType, { from, valueAt, next }) => {
    if (field === GRAPH_INITIALIZER && wireType === LENGTH_DELIMITED) {
      const tensor = skimTensor(win, ...span(win, valueAt), lazy);
      parts.push(win.bytes(from, valueAt - from), encodeVarint(tensor.length), tensor);
    } else {
      parts.push(win.bytes(from, next - from));
    }
  });
  return Buffer.concat(parts);
}

export interface SkimmedModel {
  model: ModelProto;
  fileBytes: number;
  /** Bytes actually read from disk. */
  bytesRead: number;
  data: LazyTensorData;
}

/** Reads `path` without its large weights; `data` loads any of them on demand. */
export function skimModel(path: string): SkimmedModel {
  const { fd, size } = openRegularFileSync(path, MODEL_FILE);
  try {
    const win = new FileWindow(fd, size);
    const lazy = new Map<string, LazyEntry>();
    const parts: Uint8Array[] = [];
    try {
      eachField(win, 0, size, (field, wireType, { from, valueAt, next }) => {
        if (field === MODEL_GRAPH && wireType === LENGTH_DELIMITED) {
          const graph = skimGraph(win, ...span(win, valueAt), lazy);
          parts.push(win.bytes(from, valueAt - from), encodeVarint(graph.length), graph);
        } else {
          parts.push(win.bytes(from, next - from));
        }
      });
    } catch (err) {
      if (err instanceof TruncatedError) {
        // Let the regular decoder describe what is wrong with the whole file, as readModel would.
        return fallbackError(path, size, err);
      }
      throw err;
    }
    const model = parseModel(Buffer.concat(parts), path);
    return { model, fileBytes: size, bytesRead: win.bytesRead, data: new FileTensorData(path, lazy) };
  } finally {
    closeSync(fd);
  }
}

function fallbackError(path: string, size: number, err: Error): never {
  if (size === 0) throw new OctetError(path, 'the file is empty, not an ONNX model');
  throw new OctetError(path, `the ONNX file is truncated or corrupt (${err.message})`);
}

function readRange(file: string, offset: number, length: number): Buffer {
  const opened = openRegularFileSync(file, MODEL_FILE);
  try {
    if (offset + length > opened.size) throw new OctetError(file, `is shorter than expected (needs ${offset + length} bytes)`);
    return readRangeSync(opened, offset, length);
  } finally {
    closeSync(opened.fd);
  }
}

/** Loads skipped raw_data from the model file, and external data from the files beside it. */
class FileTensorData implements LazyTensorData {
  constructor(private readonly path: string, private readonly entries: Map<string, LazyEntry>) {}

  get pending(): number {
    return this.entries.size;
  }

  load(t: TensorProto): boolean {
    if (t.raw_data && t.raw_data.byteLength > 0) return true;
    const entry = t.name ? this.entries.get(t.name) : undefined;
    if (entry) {
      t.raw_data = readRange(this.path, entry.offset, entry.length);
      return true;
    }
    if (t.data_location === DATA_LOCATION.EXTERNAL) {
      loadExternalTensors([t], this.path);
      return true;
    }
    return false;
  }
}

function summaryGraph(win: FileWindow, start: number, end: number, parts: SummaryParts): void {
  parts.sawGraph = true;
  eachField(win, start, end, (field, wireType, { valueAt }) => {
    if (wireType !== LENGTH_DELIMITED) return;
    if (field === GRAPH_NODE) parts.nodeCount++;
    else if (field === GRAPH_NAME) parts.graphName = lengthDelimited(win, valueAt).toString('utf8');
    else if (field === GRAPH_INPUT) parts.inputs.push(decodePart('onnx.ValueInfoProto', lengthDelimited(win, valueAt)));
    else if (field === GRAPH_OUTPUT) parts.outputs.push(decodePart('onnx.ValueInfoProto', lengthDelimited(win, valueAt)));
    else if (field === GRAPH_INITIALIZER) {
      const [at, tensorEnd] = span(win, valueAt);
      eachField(win, at, tensorEnd, (f, w, name) => {
        if (f === TENSOR_NAME && w === LENGTH_DELIMITED) parts.initializerNames.add(lengthDelimited(win, name.valueAt).toString('utf8'));
      });
    }
  });
}

/**
 * Producer, metadata, opset, inputs and outputs of the model at `path`, reading only their bytes (nodes and weights are
 * skipped). Refuses files that are not ONNX models Octet could feed (empty, truncated, another format, no inputs).
 */
export function readModelSummary(path: string): ModelSummary {
  const { fd, size } = openRegularFileSync(path, MODEL_FILE);
  try {
    if (size === 0) throw new OctetError(path, 'the file is empty, not an ONNX model');
    const win = new FileWindow(fd, size);
    const parts: SummaryParts = {
      irVersion: 0, producerName: '', producerVersion: '', opsetImports: [], metadata: [], graphName: '', inputs: [], outputs: [],
      initializerNames: new Set(), nodeCount: 0, sawGraph: false,
    };
    try {
      eachField(win, 0, size, (field, wireType, { valueAt }) => {
        if (field === MODEL_IR_VERSION && wireType === VARINT) parts.irVersion = win.varint(valueAt)[0];
        if (wireType !== LENGTH_DELIMITED) return;
        if (field === MODEL_PRODUCER_NAME) parts.producerName = lengthDelimited(win, valueAt).toString('utf8');
        else if (field === MODEL_PRODUCER_VERSION) parts.producerVersion = lengthDelimited(win, valueAt).toString('utf8');
        else if (field === MODEL_GRAPH) summaryGraph(win, ...span(win, valueAt), parts);
        else if (field === MODEL_OPSET_IMPORT) parts.opsetImports.push(decodePart('onnx.OperatorSetIdProto', lengthDelimited(win, valueAt)));
        else if (field === MODEL_METADATA) parts.metadata.push(decodePart('onnx.StringStringEntryProto', lengthDelimited(win, valueAt)));
      });
    } catch (err) {
      if (err instanceof OctetError) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new OctetError(path, `not a valid ONNX model: the file is truncated or corrupt (${detail})`);
    }
    checkSummaryParts(parts, path);
    return summaryFromParts(parts);
  } finally {
    closeSync(fd);
  }
}
