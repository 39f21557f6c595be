// After a cancelled or failed run nothing of it may stay behind: the engine's temp files (`.NAME.*.tmp`, left when
// it is killed mid-write) and any output file this run created or changed. Outputs from earlier runs are kept.
import { readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface OutputSnapshot {
  /** Each output path with its modification time before the run (null: it did not exist). */
  files: Map<string, number | null>;
}

function modifiedAt(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** Records the state of `paths` (and their `.data` external-weight companions) before a run. */
export function snapshotOutputs(paths: string[]): OutputSnapshot {
  const files = new Map<string, number | null>();
  for (const path of paths) {
    files.set(path, modifiedAt(path));
    if (path.toLowerCase().endsWith('.onnx')) files.set(`${path}.data`, modifiedAt(`${path}.data`));
  }
  return { files };
}

/** Deletes temp files of the snapshot's outputs and every output the run wrote. Returns the paths it removed. */
export function removePartialOutputs(snapshot: OutputSnapshot): string[] {
  const removed: string[] = [];
  const remove = (path: string) => {
    try {
      unlinkSync(path);
      removed.push(path);
    } catch {
      /* already gone */
    }
  };
  const folders = new Map<string, Set<string>>();
  for (const path of snapshot.files.keys()) {
    const names = folders.get(dirname(path)) ?? new Set<string>();
    names.add(basename(path));
    folders.set(dirname(path), names);
  }
  for (const [folder, names] of folders) {
    let entries: string[] = [];
    try {
      entries = readdirSync(folder);
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (!entry.endsWith('.tmp')) continue;
      for (const name of names) if (entry.startsWith(`.${name}.`)) remove(join(folder, entry));
    }
  }
  for (const [path, before] of snapshot.files) {
    const now = modifiedAt(path);
    if (now !== null && now !== before) remove(path);
  }
  return removed;
}

/** Temp files an interrupted engine write would leave for these outputs (for tests and checks). */
export function findEngineTempFiles(paths: string[]): string[] {
  const found: string[] = [];
  for (const path of paths) {
    let entries: string[] = [];
    try {
      entries = readdirSync(dirname(path));
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (entry.startsWith(`.${basename(path)}.`) && entry.endsWith('.tmp')) found.push(join(dirname(path), entry));
    }
  }
  return found;
}
