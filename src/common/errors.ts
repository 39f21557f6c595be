// The one error type users see: it names the file (or setting) at fault and the cause, in one sentence.
export class OctetError extends Error {
  constructor(
    /** File, folder or setting the problem is about. */
    readonly subject: string,
    /** What is wrong and, where known, what to do. */
    readonly reason: string,
  ) {
    super(`${subject}: ${reason}`);
    this.name = 'OctetError';
  }
}

/** Adds the file name to a Node fs error in words a user understands. */
export function describeFsError(path: string, err: unknown): OctetError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or folder',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a folder, not a file',
    ENOTDIR: 'is not a folder',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'read-only file system',
    EMFILE: 'too many open files',
  };
  const reason = (code && reasons[code]) ?? (err instanceof Error ? err.message : String(err));
  return new OctetError(path, reason);
}
