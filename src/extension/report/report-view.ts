// The report as the panel shows it: the Report plus its file and model paths made absolute.
import { dirname, isAbsolute, resolve } from 'node:path';
import type { Report } from '../../common/report';
import type { ReportView } from '../../protocol/report';

/** The report with its model paths made absolute (relative paths are taken from the report's folder). */
export function toReportView(report: Report, reportPath: string): ReportView {
  const absolute = (p: string) => (isAbsolute(p) ? p : resolve(dirname(reportPath), p));
  return {
    report,
    reportPath,
    fp32ModelPath: absolute(report.fp32Model.path),
    int8ModelPath: absolute(report.int8Model.path),
  };
}
