// Path facts that matter for safety: whether a path named inside a model or data set stays inside its folder (symlinks
// followed, compared by path segments), whether two paths are the same file (device + inode, or the real path when one
// does not exist yet), and whether an output path can be written (checked before a run starts, not after, by creating
// and removing an empty probe file in its folder).
import { closeSync, openSync, realpathSync, statSync, Stats, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeFsError, OctetError } from './errors';

/** Is `target` the folder itself or inside it, by path segments (`/a/ext-secret` is not inside `/a/ext`)? */
export function isInsideFolder(folder: string, target: string): boolean {
  const rel = relative(folder, target);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Where `name`, read from a file in `folder` (an external-data location, a labels-file entry), really is: resolved
 * against `folder` and through every symlink. 'outside' when either the written path or the real one leaves the real
 * folder. Node's fs errors (ENOENT for a missing file, ELOOP...) are thrown as they are, for the caller to word.
 */
export function resolveInsideFolder(folder: string, name: string): string | 'outside' {
  const written = resolve(folder, name);
  if (!isInsideFolder(resolve(folder), written)) return 'outside';
  const real = realpathSync(written);
  return isInsideFolder(realpathSync(folder), real) ? real : 'outside';
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** The real path of `path`, or for a path that does not exist yet, its nearest existing folder's real path + the rest. */
export function realPathOf(path: string): string {
  const full = resolve(path);
  try {
    return realpathSync(full);
  } catch {
    const parent = dirname(full);
    return parent === full ? full : join(realPathOf(parent), basename(full));
  }
}

/** Are `a` and `b` one file: the same device and inode when both exist (symlinks and hard links count), else the same real path. */
export function sameFile(a: string, b: string): boolean {
  const sa = statOrNull(a);
  const sb = statOrNull(b);
  if (sa && sb) return sa.dev === sb.dev && sa.ino === sb.ino;
  return realPathOf(a) === realPathOf(b);
}

/**
 * Checks, before any work, that a file can be written at `path` (named by `flag`, e.g. --out): it is not a folder,
 * and its nearest existing ancestor is a folder Octet may create files in.
 */
export function checkWritableOutput(path: string, flag: string): void {
  const full = resolve(path);
  const existing = statOrNull(full);
  if (existing?.isDirectory()) throw new OctetError(full, `is a folder; ${flag} must name a file`);
  let folder = dirname(full);
  let st = statOrNull(folder);
  while (!st && dirname(folder) !== folder) {
    folder = dirname(folder);
    st = statOrNull(folder);
  }
  if (!st?.isDirectory()) throw new OctetError(folder, `is not a folder, so ${flag} ${full} cannot be written`);
  // Creating a file is the only reliable test (permissions, read-only mounts, /proc, root's overrides).
  const probe = join(folder, `.octet-write-check-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (err) {
    const cause = describeFsError(folder, err).reason;
    throw new OctetError(folder, `cannot be written (${cause}), so ${flag} ${full} cannot be created; choose another ${flag}`);
  }
}
