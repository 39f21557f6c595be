// Step 9: the outputs — the INT8 model (and its external data, if any) and its Report, all-or-nothing: staged as temp
// files, a pending cancel honoured, then renamed into place together (run-files.ts).
import type { Report } from '../../common/report';
import type { ModelProto } from '../../onnx/proto';
import { writeRunOutputs } from './run-files';
import type { Run } from './run';

export async function writeOutputs(run: Run, int8: ModelProto, report: Report): Promise<void> {
  const { paths } = run;
  run.progress('write', 0, 1, paths.out);
  await writeRunOutputs({ path: paths.out, proto: int8 }, { path: paths.report, text: JSON.stringify(report, null, 2) + '\n' }, run.signal);
  run.progress('write', 1, 1, paths.out);
}
