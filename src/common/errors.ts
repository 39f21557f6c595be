// Errors by kind. OctetError (exit 1): anything about the user's model, data or settings — it names the file, folder or
// setting at fault (and the node where there is one), the cause, and what to do. InternalError (exit 70): a broken
// invariant inside Octet, i.e. a bug; never for anything the user's input can cause.

/** The one error type users see: it names the file (or setting) at fault and the cause, in one sentence. */
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

/** A broken invariant inside Octet (a bug, not the user's input): the CLI exits 70 with a stack trace. */
export class InternalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InternalError';
  }
}

/** Adds the file name to a Node fs error in words a user understands. */
export function describeFsError(path: string, err: unknown): OctetError {
  const code = (err as { code?: string } | undefined)?.code;
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
    ELOOP: 'too many levels of symbolic links (a symlink loop?)',
    ENAMETOOLONG: 'the path is too long',
    ENXIO: 'no such device or address',
  };
  const reason = (code && reasons[code]) ?? (err instanceof Error ? err.message : String(err));
  return new OctetError(path, reason);
}
