// The files a quantize run writes, checked before it starts and written all-or-nothing at its end. Before: every
// output can be created (its folder writable, the path not a folder) and no output is one of the run's inputs — the
// same file by device + inode or real path, so a symlink or hard link to the source counts. At the end: the INT8
// model (and its external data, if any) and the report are staged as temp files, a pending cancel is honoured, and only
// then are they renamed into place together.
import { mkdirSync, rmdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { OctetError } from '../../common/errors';
import { checkWritableOutput, sameFile } from '../../common/paths';
import { StagedFiles } from '../../common/atomic-write';
import { stageModel } from '../../onnx/model-io';
import { ModelProto } from '../../onnx/proto';
import { throwIfCancelled } from '../cancel';

export interface RunOutput { path: string; flag: string }
export interface RunInput { path: string; what: string }

export interface RunPaths {
  model: string; out: string; report: string; calib: string;
  labels?: string | null; evalData?: string | null; evalLabels?: string | null; preprocessFile?: string | null;
}

/** What a quantize run reads and writes, by the flag or role that names each file. */
export function runFiles(paths: RunPaths): { outputs: RunOutput[]; inputs: RunInput[] } {
  const optional = (path: string | null | undefined, what: string): RunInput[] => (path ? [{ path, what }] : []);
  return {
    outputs: [{ path: paths.out, flag: '--out' }, { path: paths.report, flag: '--report' }],
    inputs: [{ path: paths.model, what: 'input model' }, { path: paths.calib, what: 'calibration data' }, ...optional(paths.labels, 'labels file'),
      ...optional(paths.evalData, 'evaluation data'), ...optional(paths.evalLabels, 'evaluation labels file'),
      ...optional(paths.preprocessFile, 'preprocessing spec file')],
  };
}

/** Refuses, before any work, outputs that cannot be written or that are (or would replace) an input. */
export function checkRunFiles({ outputs, inputs }: { outputs: readonly RunOutput[]; inputs: readonly RunInput[] }): void {
  outputs.forEach((output, i) => {
    checkWritableOutput(output.path, output.flag);
    for (const other of outputs.slice(0, i)) {
      if (sameFile(output.path, other.path)) throw new OctetError(output.path, `${output.flag} and ${other.flag} name the same file; choose different paths`);
    }
  });
  checkNotInputs(outputs, inputs);
}

/** Refuses outputs that are the same file as an input (e.g. a model's external data, known once it is read). */
export function checkNotInputs(outputs: readonly RunOutput[], inputs: readonly RunInput[]): void {
  for (const output of outputs) {
    for (const input of inputs) {
      if (sameFile(output.path, input.path)) {
        const other = resolve(input.path) === resolve(output.path) ? '' : ` ${resolve(input.path)} (the same file)`;
        throw new OctetError(output.path, `${output.flag} would overwrite the ${input.what}${other}; choose another ${output.flag}`);
      }
    }
  }
}

/** Creates `folder` and missing parents; returns the folders created, deepest first (for cleanup). */
function makeFolder(folder: string): string[] {
  const first = mkdirSync(folder, { recursive: true });
  if (!first) return [];
  const created: string[] = [];
  for (let dir = folder; ; dir = dirname(dir)) {
    created.push(dir);
    if (dir === first || dirname(dir) === dir) break;
  }
  return created;
}

/**
 * Writes the INT8 model and its report all-or-nothing: both staged beside their targets, then — unless `signal` was
 * aborted meanwhile (CancelledError) — renamed into place in one synchronous step. On cancel or failure nothing is
 * left: temp files removed, folders this call created removed again.
 */
export async function writeRunOutputs(model: { path: string; proto: ModelProto }, report: { path: string; text: string },
  signal: AbortSignal | undefined): Promise<void> {
  const files = new StagedFiles();
  const created = [...makeFolder(dirname(model.path)), ...makeFolder(dirname(report.path))].sort((a, b) => b.length - a.length);
  let committed = false;
  try {
    stageModel(files, model.path, model.proto);
    files.add(report.path, [Buffer.from(report.text, 'utf8')]);
    await new Promise((done) => setImmediate(done)); // a signal that arrived while staging is handled here
    throwIfCancelled(signal);
    files.commit();
    committed = true;
  } finally {
    files.discard();
    if (!committed) for (const dir of created) try { rmdirSync(dir); } catch { /* not empty or gone */ }
  }
}
