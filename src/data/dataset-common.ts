// What every data set reader shares: folder listings and file reads with readable errors, index checks, deduplicated
// warnings, the per-sample size the model expects, and the check that a model input can take images.
import { Dirent, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, OctetError } from '../common/errors';
import { elementCount } from '../onnx/tensor';
import type { InputSpec } from './dataset';

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Per-sample element count the model expects: the shape after the batch dimension. */
export function sampleLength(input: InputSpec): number {
  const rest = input.shape.slice(1);
  return rest.length > 0 && rest.every((d) => d > 0) ? elementCount(rest) : input.channels * input.height * input.width;
}

/** Files and folders in `dir`, hidden entries left out, symlinks followed, names sorted. */
export async function listDir(dir: string): Promise<{ files: string[]; dirs: string[] }> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    throw describeFsError(dir, err);
  }
  const files: string[] = [];
  const dirs: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await fs.stat(join(dir, entry.name)).catch(() => null);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) dirs.push(entry.name);
    else if (isFile) files.push(entry.name);
  }
  return { files: files.sort(byName), dirs: dirs.sort(byName) };
}

export async function readFileNamed(file: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw describeFsError(file, err);
  }
}

export function checkIndex(index: number, size: number, path: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= size) {
    throw new OctetError(path, `sample index ${index} is out of range (the data set has ${size} samples)`);
  }
}

/** A warnings list that keeps the first message per key (default: the message itself). */
export function warningSink(): { warnings: string[]; warn(message: string, key?: string): void } {
  const warnings: string[] = [];
  const keys = new Set<string>();
  return {
    warnings,
    warn(message, key = message) {
      if (keys.has(key)) return;
      keys.add(key);
      warnings.push(message);
    },
  };
}

export function checkImageInput(input: InputSpec, path: string): void {
  if (input.channels !== 1 && input.channels !== 3) {
    throw new OctetError(path, `is a set of images, but the model input '${input.name}' ${formatShape(input.shape)} has ${input.channels} channels (images feed 1 or 3)`);
  }
  if (!(input.height > 0 && input.width > 0)) {
    throw new OctetError(path, `is a set of images, but the model input '${input.name}' ${formatShape(input.shape)} has no fixed height and width`);
  }
}
