// Reads a `*.report.json` written by the engine and checks it is a Report this panel can render.
import { readFileSync } from 'node:fs';
import { describeFsError, OctetError } from '../common/errors';
import { Report, REPORT_SCHEMA_VERSION } from '../common/report';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and checks report JSON text; `label` names the file in errors. */
export function parseReport(text: string, label: string): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OctetError(label, `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isObject(value) || typeof value.schemaVersion !== 'number') {
    throw new OctetError(label, 'is not an Octet report (no schemaVersion field)');
  }
  if (value.schemaVersion > REPORT_SCHEMA_VERSION) {
    throw new OctetError(label, `was written by a newer Octet (report schema ${value.schemaVersion}; this extension reads up to ${REPORT_SCHEMA_VERSION}). Update the extension.`);
  }
  for (const field of ['fp32Model', 'int8Model', 'settings', 'machine', 'calibration']) {
    if (!isObject(value[field])) throw new OctetError(label, `is not a complete Octet report (no '${field}' section)`);
  }
  for (const field of ['bench', 'layers', 'keptFloat', 'warnings']) {
    if (!Array.isArray(value[field])) throw new OctetError(label, `is not a complete Octet report ('${field}' is not a list)`);
  }
  return value as unknown as Report;
}

export function loadReport(path: string): Report {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw describeFsError(path, err);
  }
  return parseReport(text, path);
}
