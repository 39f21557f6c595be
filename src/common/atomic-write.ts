// All-or-nothing file writes. Each file is written to a temp file beside its target and fsynced (staged); commit()
// renames every staged file into place in one synchronous step, so a signal (handled between event-loop turns) cannot
// land between the renames; discard() removes whatever was staged and not committed. Readers never see half a file,
// and a cancelled or failed run leaves no temp files.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeFsError } from './errors';

interface Staged {
  tmp: string;
  path: string;
}

export class StagedFiles {
  private staged: Staged[] = [];

  /** Writes `chunks` to a temp file beside `path`; nothing appears at `path` until commit(). */
  add(path: string, chunks: readonly Uint8Array[]): void {
    const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    let fd: number | undefined;
    try {
      fd = openSync(tmp, 'wx');
      this.staged.push({ tmp, path });
      for (const chunk of chunks) {
        let written = 0;
        while (written < chunk.byteLength) written += writeSync(fd, chunk, written, chunk.byteLength - written);
      }
      fsyncSync(fd);
    } catch (err) {
      throw describeFsError(path, err);
    } finally {
      if (fd !== undefined) try { closeSync(fd); } catch { /* the write already failed or succeeded */ }
    }
  }

  /** Renames every staged file into place, in the order staged. */
  commit(): void {
    for (const { tmp, path } of this.staged) {
      try {
        renameSync(tmp, path);
      } catch (err) {
        throw describeFsError(path, err);
      }
      this.staged = this.staged.filter((s) => s.tmp !== tmp);
    }
  }

  /** Removes every staged temp file not yet committed (safe to call after commit, or twice). */
  discard(): void {
    for (const { tmp } of this.staged) {
      try { unlinkSync(tmp); } catch { /* never created or already gone */ }
    }
    this.staged = [];
  }
}

/** Writes `chunks` to `path` via a temp file in the same folder, fsync, then rename: readers never see half a file. */
export function writeFileAtomic(path: string, chunks: readonly Uint8Array[]): void {
  const files = new StagedFiles();
  try {
    files.add(path, chunks);
    files.commit();
  } finally {
    files.discard();
  }
}
