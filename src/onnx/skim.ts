// Structure-only reading of an .onnx file for the viewer: walks the protobuf wire format with positional reads and
// leaves large initializer payloads (raw_data >= 4 KiB, and external data) on disk, remembering where they are.
// A 100 MB ResNet-50 opens by reading well under 1 MB; a weight is read only when its node is inspected.
// The skeleton (the file minus those payloads) is decoded by src/onnx like any model, so errors read the same.
import { closeSync, readSync } from 'node:fs';
import { OctetError } from '../common/errors';
import { openRegularFileSync, readRangeSync } from '../common/safe-read';
import { loadExternalTensors } from './external-data';
import { parseModel, PROTOBUF_LIMIT } from './model-io';
import { ModelProto, TensorProto } from './proto';

const MODEL_FILE = { what: 'an ONNX model file', maxBytes: PROTOBUF_LIMIT };

/** raw_data payloads at least this large stay on disk. */
export const LAZY_THRESHOLD = 4096;

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_NAME = 8;
const TENSOR_RAW_DATA = 9;

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
    const want = Math.min(Math.max(length, this.windowSize), this.size - offset);
    const buffer = Buffer.allocUnsafe(want);
    let done = 0;
    while (done < want) {
      const n = readSync(this.fd, buffer, done, want - done, offset + done);
      if (n === 0) throw new TruncatedError(`unexpected end of file at ${offset + done}`);
      done += n;
    }
    this.readsIssued++;
    this.bytesRead += want;
    this.buffer = buffer;
    this.start = offset;
  }

  byte(offset: number): number {
    this.ensure(offset, 1);
    return this.buffer[offset - this.start];
  }

  /** A copy of [offset, offset + length). */
  bytes(offset: number, length: number): Buffer {
    if (length > this.windowSize) {
      if (offset + length > this.size) throw new TruncatedError(`needs byte ${offset + length}, file has ${this.size}`);
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

function encodeVarint(value: number): Buffer {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
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

/** Weights left on disk by a structure-only read: `load` fills `t.raw_data` (returns false if it has no data for t). */
export interface LazyTensorData {
  load(t: TensorProto): boolean;
}

export interface LazyEntry { offset: number; length: number }

function skimTensor(win: FileWindow, start: number, end: number, lazy: Map<string, LazyEntry>): Buffer {
  const parts: Buffer[] = [];
  let name: string | undefined;
  let payload: LazyEntry | undefined;
  let pos = start;
  while (pos < end) {
    const [tag, valueAt] = win.varint(pos);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    const next = skipValue(win, wireType, valueAt);
    if (next > end) throw new TruncatedError('tensor field runs past its message');
    if (field === TENSOR_RAW_DATA && wireType === 2) {
      const [len, at] = win.varint(valueAt);
      if (len >= LAZY_THRESHOLD) {
        payload = { offset: at, length: len };
        pos = next;
        continue;
      }
    }
    if (field === TENSOR_NAME && wireType === 2) {
      const [len, at] = win.varint(valueAt);
      name = win.bytes(at, len).toString('utf8');
    }
    parts.push(win.bytes(pos, next - pos));
    pos = next;
  }
  if (payload) {
    if (name === undefined) throw new OctetError('model', 'an initializer has data but no name');
    lazy.set(name, payload);
  }
  return Buffer.concat(parts);
}

function skimGraph(win: FileWindow, start: number, end: number, lazy: Map<string, LazyEntry>): Buffer {
  const parts: Buffer[] = [];
  let pos = start;
  while (pos < end) {
    const [tag, valueAt] = win.varint(pos);
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    const next = skipValue(win, wireType, valueAt);
    if (next > end) throw new TruncatedError('graph field runs past the graph');
    if (field === GRAPH_INITIALIZER && wireType === 2) {
      const [len, at] = win.varint(valueAt);
      const tensor = skimTensor(win, at, at + len, lazy);
      parts.push(encodeVarint(tag), encodeVarint(tensor.length), tensor);
    } else {
      parts.push(win.bytes(pos, next - pos));
    }
    pos = next;
  }
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
    const parts: Buffer[] = [];
    let pos = 0;
    try {
      while (pos < size) {
        const [tag, valueAt] = win.varint(pos);
        const field = Math.floor(tag / 8);
        const wireType = tag & 7;
        if (field === 0) throw new TruncatedError(`invalid field number at ${pos}`);
        const next = skipValue(win, wireType, valueAt);
        if (next > size) throw new TruncatedError(`field at ${pos} runs past the end of the file`);
        if (field === MODEL_GRAPH && wireType === 2) {
          const [len, at] = win.varint(valueAt);
          const graph = skimGraph(win, at, at + len, lazy);
          parts.push(encodeVarint(tag), encodeVarint(graph.length), graph);
        } else {
          parts.push(win.bytes(pos, next - pos));
        }
        pos = next;
      }
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
    if (t.data_location === 1) {
      loadExternalTensors([t], this.path);
      return true;
    }
    return false;
  }
}
