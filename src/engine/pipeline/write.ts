// Step 9: the outputs — the INT8 model and its Report, each written atomically (temp file, fsync, rename), the model
// first so a Report never names a model that is not there.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Report } from '../../common/report';
import { writeFileAtomic, writeModel } from '../../onnx/model-io';
import type { ModelProto } from '../../onnx/proto';
import type { Run } from './run';

export function writeOutputs(run: Run, int8: ModelProto, report: Report): void {
  const { paths } = run;
  run.progress('write', 0, 1, paths.out);
  mkdirSync(dirname(paths.out), { recursive: true });
  writeModel(paths.out, int8);
  mkdirSync(dirname(paths.report), { recursive: true });
  writeFileAtomic(paths.report, [Buffer.from(JSON.stringify(report, null, 2) + '\n')]);
  run.progress('write', 1, 1, paths.out);
}
