// Reads a `*.report.json` written by the engine and checks all of it against the Report schema before anything
// renders it (`octet report`, the extension's report panel): a file too big to be a report is refused before it is
// read, nesting and size are bounded, and a field of the wrong type is an error naming that field.
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { describeFsError, OctetError } from '../common/errors';
import { Report, REPORT_SCHEMA_VERSION } from '../common/report';
import { MAX_REPORT_BYTES, REPORT_LIMITS, reportSchema } from '../common/report-schema';
import { check, integer, object } from '../common/schema';

/** Who is reading: says what to update when a report is newer than this reader. */
export type ReportReader = 'cli' | 'extension';

const UPDATE_ADVICE: Record<ReportReader, string> = { cli: 'Update Octet', extension: 'Update the extension' };

const versionSchema = object({ schemaVersion: integer() });

/** Parses and checks report JSON text; `label` names the file in errors. */
export function parseReport(text: string, label: string, reader: ReportReader = 'cli'): Report {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new OctetError(label, `is not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('schemaVersion' in value)) {
    throw new OctetError(label, 'is not an Octet report (no schemaVersion field)');
  }
  // The version first, alone: a newer report is told to update, whatever else has changed in it.
  const version = check(versionSchema, { schemaVersion: value.schemaVersion });
  if (!version.ok) throw new OctetError(label, `is not an Octet report this version can read: ${version.error}`);
  const { schemaVersion } = version.value;
  if (schemaVersion > REPORT_SCHEMA_VERSION) {
    throw new OctetError(label, `was written by a newer Octet (report schema ${schemaVersion}; this one reads up to ${REPORT_SCHEMA_VERSION}). ${UPDATE_ADVICE[reader]}.`);
  }
  if (schemaVersion < 1) throw new OctetError(label, `has an unknown report schemaVersion ${schemaVersion} (this Octet reads 1 to ${REPORT_SCHEMA_VERSION})`);
  const report = check(reportSchema, value, REPORT_LIMITS);
  if (!report.ok) throw new OctetError(label, `is not a valid Octet report: ${report.error}`);
  return report.value;
}

/** Reads and checks a report file (regular files up to MAX_REPORT_BYTES only). */
export function loadReport(path: string, reader: ReportReader = 'cli'): Report {
  let text: string;
  let fd: number | undefined;
  try {
    // Non-blocking so a FIFO can't hang the open; stat the open file, not the name, before reading.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new OctetError(path, `is not a regular file (${stats.isDirectory() ? 'a folder' : 'a device, pipe or socket'}); expected an Octet report (.report.json)`);
    if (stats.size > MAX_REPORT_BYTES) {
      throw new OctetError(path, `is ${(stats.size / 1024 / 1024).toFixed(0)} MB; an Octet report is at most ${MAX_REPORT_BYTES / 1024 / 1024} MB, so this is not one`);
    }
    text = readFileSync(fd, 'utf8');
  } catch (err) {
    throw err instanceof OctetError ? err : describeFsError(path, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return parseReport(text, path, reader);
}
