// `octet report REPORT.json --format md|html [--out FILE]`: reads a Report written by `octet quantize` and renders it.
// Markdown goes to stdout unless --out; HTML goes to REPORT.html beside the JSON unless --out. `--out -` is stdout.
import { dirname, join, basename, resolve } from 'node:path';
import { OctetError } from '../common/errors';
import { checkWritableOutput, sameFile } from '../common/paths';
import { Report, REPORT_SCHEMA_VERSION } from '../common/report';
import { loadReport } from './load-report';
import { writeFileAtomic } from '../common/atomic-write';
import { reportToHtml } from './html';
import { reportToMarkdown } from './markdown';

export type ReportFormat = 'md' | 'html';

export interface ReportCommandResult {
  /** Where the output went: a file path, or null for stdout. */
  path: string | null;
  text: string;
}

/** Reads and checks a report file: OctetError naming the file when it is missing, not JSON or not a v1 report. */
export function readReportFile(path: string): Report {
  const report = loadReport(path);
  if (!Number.isInteger(report.schemaVersion) || report.schemaVersion < 1) {
    throw new OctetError(path, `has an unknown report schemaVersion ${JSON.stringify(report.schemaVersion)} (this Octet reads 1 to ${REPORT_SCHEMA_VERSION})`);
  }
  return report;
}

/** Default HTML output: `X.report.json` → `X.report.html` in the same folder. */
export function defaultHtmlPath(reportPath: string): string {
  const name = basename(reportPath);
  return join(dirname(reportPath), `${name.replace(/\.json$/i, '')}.html`);
}

export function renderReport(report: Report, format: ReportFormat): string {
  return format === 'html' ? reportToHtml(report) : reportToMarkdown(report);
}

/** Renders REPORT.json and writes it (atomically) where asked; returns the text and where it went. */
export function runReportCommand(options: { input: string; format: ReportFormat; out: string | null }): ReportCommandResult {
  const input = resolve(options.input);
  const target = options.out === '-' ? null
    : options.out !== null ? resolve(options.out)
      : options.format === 'html' ? defaultHtmlPath(input) : null;
  if (target !== null && sameFile(target, input)) throw new OctetError(target, `is the report being read (${input}); choose another --out`);
  if (target !== null) checkWritableOutput(target, '--out');
  const report = readReportFile(input);
  const text = renderReport(report, options.format);
  if (target === null) return { path: null, text };
  writeFileAtomic(target, [Buffer.from(text, 'utf8')]); // OctetError naming the file on failure
  return { path: target, text };
}
