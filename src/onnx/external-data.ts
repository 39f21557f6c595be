// ONNX external data, read safely: each tensor's `location` must resolve (symlinks followed) inside the model's folder
// to a regular file, and exactly the bytes the tensor declares are read — its `length`, which must match what its
// dims and type imply, at its `offset` — never "the rest of the file". Errors name the model, the tensor and the file.
import { closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { OctetError } from '../common/errors';
import { resolveInsideFolder } from '../common/paths';
import { formatBytes, OpenedFile, openRegularFileSync, readRangeSync } from '../common/safe-read';
import { DATA_LOCATION, DataType, TensorProto } from './proto';
import { bytesPerElement, dataTypeName, elementCount } from './tensor';

function entry(t: TensorProto, key: string): string | undefined {
  return t.external_data.find((e) => e.key === key)?.value;
}

/** Bytes the tensor's dims and type imply, or null when its type has no fixed size. */
function impliedBytes(t: TensorProto): number | null {
  const count = elementCount(t.dims.map(Number));
  if (!Number.isSafeInteger(count) || count < 0) return null;
  const dataType = t.data_type ?? DataType.UNDEFINED;
  const fixed = bytesPerElement(dataType) || ({ 14: 8, 15: 16, 17: 1, 18: 1, 19: 1, 20: 1 } as Record<number, number>)[dataType];
  if (fixed) return count * fixed;
  return dataType === 21 || dataType === 22 || dataType === 23 ? Math.ceil(count / 2) : null; // 4-bit types
}

function byteCount(text: string | undefined): number | null {
  if (text === undefined) return null;
  const n = Number(text);
  return /^\s*\d+\s*$/.test(text) && Number.isSafeInteger(n) ? n : NaN;
}

/** Reads the external data of one model's tensors; keeps each file open until close(). */
export class ExternalDataReader {
  private readonly folder: string;
  private readonly files = new Map<string, OpenedFile>();
  /** Bytes handed out so far, bounded by the files' total size (tensors may not overlap to multiply memory). */
  private bytesRead = 0;

  constructor(private readonly modelPath: string) {
    this.folder = dirname(modelPath);
  }

  /** Real paths of the external-data files read. */
  get paths(): string[] {
    return [...this.files.keys()];
  }

  private fail(t: TensorProto, reason: string): never {
    throw new OctetError(this.modelPath, `tensor '${t.name ?? ''}' ${reason}`);
  }

  private open(t: TensorProto, location: string): OpenedFile {
    let real: string | 'outside';
    try {
      real = resolveInsideFolder(this.folder, location);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') this.fail(t, `keeps its data in '${location}', which is not in ${this.folder}; copy that file beside the model`);
      this.fail(t, `keeps its data in '${location}', which cannot be opened (${code ?? String(err)})`);
    }
    if (real === 'outside') {
      this.fail(t, `keeps its data in '${location}', outside the model's folder ${this.folder} (symlinks followed); Octet reads external data only from the model's folder`);
    }
    const known = this.files.get(real);
    if (known) return known;
    let file: OpenedFile;
    try {
      file = openRegularFileSync(real, { what: 'ONNX external data', maxBytes: Number.MAX_SAFE_INTEGER });
    } catch (err) {
      if (err instanceof OctetError) this.fail(t, `keeps its data in '${location}': ${err.message}`);
      throw err;
    }
    this.files.set(real, file);
    return file;
  }

  /** The tensor's external bytes, exactly as many as it declares. */
  read(t: TensorProto): Buffer {
    const location = entry(t, 'location');
    if (!location) this.fail(t, 'is external but names no location');
    const offset = byteCount(entry(t, 'offset')) ?? 0;
    const declared = byteCount(entry(t, 'length'));
    if (Number.isNaN(offset)) this.fail(t, `has an invalid external-data offset '${entry(t, 'offset')}'`);
    if (Number.isNaN(declared)) this.fail(t, `has an invalid external-data length '${entry(t, 'length')}'`);
    const implied = impliedBytes(t);
    const shape = `[${t.dims.join(', ')}] ${dataTypeName(t.data_type)}`;
    if (declared !== null && implied !== null && declared !== implied) {
      this.fail(t, `declares ${declared} bytes of external data, but its shape ${shape} holds ${implied}`);
    }
    const length = declared ?? implied;
    if (length === null) this.fail(t, `has external data of type ${dataTypeName(t.data_type)} with no length`);
    const file = this.open(t, location);
    if (offset + length > file.size) {
      this.fail(t, `needs ${formatBytes(length)} at offset ${offset} of ${file.path}, which holds only ${formatBytes(file.size)} (truncated or wrong external data file)`);
    }
    const total = [...this.files.values()].reduce((sum, f) => sum + f.size, 0);
    if (this.bytesRead + length > total) {
      this.fail(t, `overlaps other tensors' external data: the model's tensors declare more bytes than its ${this.files.size} data file(s) hold (${formatBytes(total)})`);
    }
    this.bytesRead += length;
    return readRangeSync(file, offset, length);
  }

  close(): void {
    for (const file of this.files.values()) closeSync(file.fd);
    this.files.clear();
  }
}

/** Loads every external-data tensor of `tensors` into raw_data; returns the external files read (real paths). */
export function loadExternalTensors(tensors: Iterable<TensorProto>, modelPath: string): string[] {
  const reader = new ExternalDataReader(modelPath);
  try {
    for (const t of tensors) {
      if (t.data_location !== DATA_LOCATION.EXTERNAL) continue;
      t.raw_data = reader.read(t);
      t.data_location = DATA_LOCATION.DEFAULT;
      t.external_data = [];
    }
    return reader.paths;
  } finally {
    reader.close();
  }
}
