// Finds and reads the Report that belongs to a model: `NAME.report.json` (the INT8 model's own report, e.g.
// resnet.int8.onnx -> resnet.int8.report.json) or `NAME.int8.report.json` (the FP32 model's quantization report).
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { OctetError } from '../../common/errors';
import type { Report } from '../../common/report';
import { ErrorOverlay, overlayFromReport } from '../../graphmodel/error-overlay';
import { loadReport } from '../../report/load-report';

export function reportCandidates(modelPath: string): string[] {
  const stem = basename(modelPath, extname(modelPath));
  const dir = dirname(modelPath);
  return [join(dir, `${stem}.report.json`), join(dir, `${stem}.int8.report.json`)];
}

/** Reads a report file, checked whole like every report the extension opens (src/report/load-report.ts). */
export function readReportOverlay(path: string): ErrorOverlay {
  return overlayFromReport(loadReport(path, 'extension'), path);
}

/** The report's time profile when it has a usable one (nodes with a name and numbers), else null. */
function usableProfile(report: Partial<Report>): Report['profile'] {
  const profile = report.profile;
  if (!profile || typeof profile !== 'object' || !Array.isArray(profile.nodes) || !Array.isArray(profile.byOpType)) return null;
  const nodes = profile.nodes.filter((n) => n && typeof n.node === 'string' && typeof n.fp32Ms === 'number' && typeof n.int8Ms === 'number'
    && typeof n.overheadMs === 'number' && Array.isArray(n.fp32Kernels) && Array.isArray(n.int8Kernels));
  return { ...profile, nodes };
}

/** A report handed over in process (the quantize flow's): its per-layer table, accuracy, sensitivity and time profile. */
export function overlayFromReportValue(value: unknown, source: string): ErrorOverlay {
  const report = value as Partial<Report> | null;
  if (!report || typeof report !== 'object' || !Array.isArray(report.layers)) {
    throw new OctetError(source, 'is not an Octet report (no per-layer table)');
  }
  const layers = report.layers.filter((l) => l && typeof l.sqnrDb === 'number' && (typeof l.node === 'string' || typeof l.tensor === 'string'));
  const sensitivity = Array.isArray(report.sensitivity)
    ? report.sensitivity.filter((s) => s && typeof s.node === 'string' && typeof s.outputSqnrGainDb === 'number') : null;
  const speed = report.speed && typeof report.speed === 'object' && Array.isArray(report.speed.decisions) ? report.speed : null;
  return overlayFromReport({ layers, accuracy: report.accuracy ?? null, sensitivity, profile: usableProfile(report), speed }, source);
}

/** The newest existing report next to the model, or null; unreadable candidates are reported through `warn`. */
export function findReportOverlay(modelPath: string, warn: (message: string) => void = () => undefined): ErrorOverlay | null {
  const existing = reportCandidates(modelPath)
    .filter((p) => existsSync(p))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const path of existing) {
    try {
      return readReportOverlay(path);
    } catch (err) {
      warn(err instanceof Error ? err.message : String(err));
    }
  }
  return null;
}
