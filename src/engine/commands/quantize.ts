// `octet quantize`: the pipeline as named steps (src/engine/pipeline/), each with typed inputs and outputs:
//   prepare the FP32 model → open the calibration data → plan (and check the QDQ layout loads) → calibrate →
//   choose the conversion → keep float where int8 is slower (speed-aware) → evaluate (and tune) → runtime op histogram and benchmark → Report → write both outputs.
// Used by the CLI and, through it, by the VS Code extension.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Report } from '../../common/report';
import { defaultOutputPath, defaultReportPath, QuantizeRequest, ResolvedQuantizeRequest, resolveRequest } from '../request';
import { benchmarkRun } from '../pipeline/benchmark';
import { calibrate } from '../pipeline/calibrate';
import { openCalibrationData } from '../pipeline/calibration-data';
import { chooseConversion } from '../pipeline/choose';
import { evaluateRun } from '../pipeline/evaluate';
import { planRun } from '../pipeline/plan';
import { prepareModel } from '../pipeline/prepare-model';
import { buildReport } from '../pipeline/report';
import { Run, RunPaths } from '../pipeline/run';
import { checkRunFiles, runFiles } from '../pipeline/run-files';
import { chooseForSpeed, finalTiming, Fp32Timing, keptFloatOnPurpose, startFp32Timing } from '../pipeline/speed';
import { writeOutputs } from '../pipeline/write';
import { diagnoseRuntime } from '../runtime/diagnose';
import { asideSettled, runtimeOpHistogram } from '../runtime/session';

export { OCTET_VERSION } from '../../common/version';

export interface QuantizeOutcome { modelPath: string; reportPath: string; report: Report }

/**
 * Where a run writes, checked before any work: every output can be created, and none is one of the run's inputs (the
 * same file by device + inode or real path, so a symlink or hard link to the source counts).
 */
export function runPaths(request: ResolvedQuantizeRequest): RunPaths {
  const model = resolve(request.model);
  const out = resolve(request.out ?? defaultOutputPath(model));
  const report = resolve(request.report ?? defaultReportPath(out));
  checkRunFiles(runFiles({ ...request, model, out, report }));
  return { model, out, report };
}

export async function quantizeModel(given: QuantizeRequest): Promise<QuantizeOutcome> {
  const request = resolveRequest(given);
  const paths = runPaths(request);
  const workDir = mkdtempSync(join(tmpdir(), 'octet-'));
  const run = new Run(request, paths, workDir);
  try {
    const ready = await prepareModel(run);
    const data = await openCalibrationData(run, ready);
    const model = { ...ready, input: data.input };
    const planned = await planRun(run, model, data);
    // The speed step's FP32 profile starts as soon as the statistics pass's runs are done (on a thread of its own).
    let fp32Timing: Fp32Timing | null | undefined;
    const calibrated = await calibrate(run, model, data, planned, () => { fp32Timing = startFp32Timing(run, model, data); });
    fp32Timing ??= startFp32Timing(run, model, data);
    const timed = await chooseForSpeed(run, model, fp32Timing, await chooseConversion(run, model, planned, calibrated, fp32Timing));
    const evaluated = await evaluateRun(run, model, data, planned, timed.chosen);
    const timing = await finalTiming(run, timed, evaluated.conversion);
    const int8RuntimeOps = await runtimeOpHistogram(evaluated.conversion.bytes, workDir, paths.out);
    run.warnings.push(...diagnoseRuntime(int8RuntimeOps, keptFloatOnPurpose(evaluated.conversion, planned.graph)));
    const bench = await benchmarkRun(run, model, data, evaluated.conversion.bytes, int8RuntimeOps);
    const report = buildReport(run, { model, data, calibrated, chosen: timed.chosen, evaluated, int8RuntimeOps, bench, timing });
    await writeOutputs(run, evaluated.conversion.model, report);
    run.result(paths.out, paths.report);
    return { modelPath: paths.out, reportPath: paths.report, report };
  } finally {
    run.end();
    // Work on other threads (the FP32 profile) stops once the run has ended; it writes into the run's folder.
    await asideSettled();
    rmSync(workDir, { recursive: true, force: true });
  }
}
