// Finds and reads the Report that belongs to a model: `NAME.report.json` (the INT8 model's own report, e.g.
// resnet.int8.onnx -> resnet.int8.report.json) or `NAME.int8.report.json` (the FP32 model's quantization report).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { describeFsError, OctetError } from '../../common/errors';
import type { Report } from '../../common/report';
import { ErrorOverlay, overlayFromReport } from '../../graphmodel/error-overlay';

export function reportCandidates(modelPath: string): string[] {
  const stem = basename(modelPath, extname(modelPath));
  const dir = dirname(modelPath);
  return [join(dir, `${stem}.report.json`), join(dir, `${stem}.int8.report.json`)];
}

/** Reads a report file; only its per-layer table (and accuracy) matter here, so any schema version with `layers` works. */
export function readReportOverlay(path: string): ErrorOverlay {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw describeFsError(path, err);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OctetError(path, `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  return overlayFromReportValue(value, path);
}

export function overlayFromReportValue(value: unknown, source: string): ErrorOverlay {
  const report = value as Partial<Report> | null;
  if (!report || typeof report !== 'object' || !Array.isArray(report.layers)) {
    throw new OctetError(source, 'is not an Octet report (no per-layer table)');
  }
  const layers = report.layers.filter((l) => l && typeof l.sqnrDb === 'number' && (typeof l.node === 'string' || typeof l.tensor === 'string'));
  const sensitivity = Array.isArray(report.sensitivity)
    ? report.sensitivity.filter((s) => s && typeof s.node === 'string' && typeof s.outputSqnrGainDb === 'number') : null;
  return overlayFromReport({ layers, accuracy: report.accuracy ?? null, sensitivity }, source);
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
