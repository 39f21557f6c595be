// Registers the quantize feature: `octet.quantize`, `octet.openReport`, `octet.exportReport`, the report panel's
// serializer (restores panels after a reload) and the "Octet" output channel.
import * as vscode from 'vscode';
import { OctetError } from '../../common/errors';
import { loadReport } from '../../report/load-report';
import { toReportView } from '../report/report-view';
import { ExportFormat, REPORT_VIEW_TYPE } from '../../protocol/report';
import { ReportPanels } from '../report/report-panels';
import { QuantizeRunner } from './quantize-runner';

export const QUANTIZE_COMMANDS = {
  quantize: 'octet.quantize',
  openReport: 'octet.openReport',
  exportReport: 'octet.exportReport',
} as const;

function errorText(err: unknown): string {
  return err instanceof OctetError || err instanceof Error ? err.message : String(err);
}

async function pickReport(arg: unknown): Promise<vscode.Uri | undefined> {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg.length > 0) return arg.includes('://') ? vscode.Uri.parse(arg) : vscode.Uri.file(arg);
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false, title: 'Octet: open a quantization report', openLabel: 'Open Report',
    filters: { 'Octet report': ['json'] },
  });
  return picked?.[0];
}

export function registerQuantizeFeature(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('Octet');
  const log = (line: string) => output.appendLine(`[${new Date().toLocaleTimeString()}] ${line}`);
  // The panel's "Re-run" goes to the runner, which opens panels: the hook resolves the runner when it is called.
  const panels = new ReportPanels(context.extensionUri, { rerun: (view) => quantizeRunner.rerun(view), log });
  const quantizeRunner = new QuantizeRunner(context, output, panels);

  context.subscriptions.push(
    output,
    panels,
    quantizeRunner,
    vscode.window.registerWebviewPanelSerializer(REPORT_VIEW_TYPE, panels),
    vscode.commands.registerCommand(QUANTIZE_COMMANDS.quantize, (model?: unknown, options?: unknown) => quantizeRunner.run(model, options)),
    vscode.commands.registerCommand(QUANTIZE_COMMANDS.openReport, async (arg?: unknown): Promise<boolean> => {
      const uri = await pickReport(arg);
      if (!uri) return false;
      try {
        panels.show(uri.fsPath);
        return true;
      } catch (err) {
        log(`Open report failed: ${errorText(err)}`);
        void vscode.window.showErrorMessage(`Octet: ${errorText(err)}`, 'Show log').then((a) => (a ? output.show(true) : undefined));
        return false;
      }
    }),
    vscode.commands.registerCommand(QUANTIZE_COMMANDS.exportReport,
      async (reportArg: unknown, format: ExportFormat = 'markdown', target?: vscode.Uri): Promise<vscode.Uri | undefined> => {
        const uri = await pickReport(reportArg);
        if (!uri) return undefined;
        return panels.exportReport(toReportView(loadReport(uri.fsPath, 'extension'), uri.fsPath), format, target);
      }),
  );
}
