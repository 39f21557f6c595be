// Reading a file as what it claims to be: opened without blocking (a FIFO cannot hang the open), checked with fstat on
// the opened descriptor (no stat-then-open race) to be a regular file — not a FIFO, device, socket or folder — and its
// size known before a byte is read, against a limit the caller derives from what the file should hold. Every file
// Octet reads (models, external data, data sets, report JSON) comes through here.
import { closeSync, constants, fstatSync, openSync, promises as fs, readSync, Stats } from 'node:fs';
import { describeFsError, OctetError } from './errors';

/** O_NONBLOCK: opening a FIFO returns at once (then fstat refuses it); no effect on regular files. */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** What the file should be, for errors ("an ONNX model"), and the most bytes it may have. */
export interface ReadLimit {
  what: string;
  maxBytes: number;
}

export interface OpenedFile {
  path: string;
  fd: number;
  size: number;
}

export function formatBytes(bytes: number): string {
  if (bytes < 2 ** 10) return `${bytes} bytes`;
  if (bytes < 2 ** 20) return `${(bytes / 2 ** 10).toFixed(1)} KiB`;
  if (bytes < 2 ** 30) return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
}

/** null for a regular file, else what it is in words. */
function notRegular(st: Stats): string | null {
  if (st.isFile()) return null;
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function checkOpened(path: string, st: Stats, limit: ReadLimit): void {
  const kind = notRegular(st);
  if (kind) throw new OctetError(path, `is ${kind}, not ${limit.what}; Octet reads regular files only`);
  if (st.size > limit.maxBytes) {
    throw new OctetError(path, `is ${formatBytes(st.size)}, more than ${limit.what} can be (at most ${formatBytes(limit.maxBytes)})`);
  }
}

/** Opens `path` for reading as a regular file within `limit`; the caller closes `fd`. */
export function openRegularFileSync(path: string, limit: ReadLimit): OpenedFile {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch (err) {
    throw describeFsError(path, err);
  }
  try {
    const st = fstatSync(fd);
    checkOpened(path, st, limit);
    return { path, fd, size: st.size };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Exactly `length` bytes at `offset` of an opened file; a file that ends first is an error naming it. */
export function readRangeSync(file: OpenedFile, offset: number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(file.fd, out, done, length - done, offset + done);
    } catch (err) {
      throw describeFsError(file.path, err);
    }
    if (n === 0) throw new OctetError(file.path, `ended after ${formatBytes(offset + done)} while ${formatBytes(offset + length)} were expected (was it changed while being read?)`);
    done += n;
  }
  return out;
}

/** The whole of a regular file of at most `limit.maxBytes` bytes. */
export function readRegularFileSync(path: string, limit: ReadLimit): Buffer {
  const file = openRegularFileSync(path, limit);
  try {
    return readRangeSync(file, 0, file.size);
  } finally {
    closeSync(file.fd);
  }
}

/** An opened regular file for async reads: its size, and exact reads at an offset. */
export interface RegularFileHandle {
  path: string;
  size: number;
  read(offset: number, length: number): Promise<Buffer>;
}

/** Runs `use` on `path` opened as a regular file within `limit`, then closes it. */
export async function withRegularFile<T>(path: string, limit: ReadLimit, use: (file: RegularFileHandle) => Promise<T>): Promise<T> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, READ_FLAGS);
  } catch (err) {
    throw describeFsError(path, err);
  }
  try {
    const st = await handle.stat();
    checkOpened(path, st, limit);
    const read = async (offset: number, length: number): Promise<Buffer> => {
      const out = Buffer.allocUnsafe(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done).catch((err: unknown) => { throw describeFsError(path, err); });
        if (bytesRead === 0) throw new OctetError(path, `is truncated: wanted ${length} bytes at offset ${offset}, got ${done}`);
        done += bytesRead;
      }
      return out;
    };
    return await use({ path, size: st.size, read });
  } finally {
    await handle.close();
  }
}

/** The whole of a regular file of at most `limit.maxBytes` bytes, read asynchronously. */
export async function readRegularFile(path: string, limit: ReadLimit): Promise<Buffer> {
  return withRegularFile(path, limit, (file) => file.read(0, file.size));
}
