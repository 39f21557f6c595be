// The report panel: one webview per report file, restored after hide/show (webview state) and after a window
// reload (serializer). Acts on the webview's requests: reveal a layer in the graph, open the INT8 model, reveal it
// in the explorer, re-run, export.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { OctetError } from '../../common/errors';
import { loadReport } from '../../report/load-report';
import { toReportView } from './report-view';
import { ExportFormat, HostToWebview, REPORT_VIEW_TYPE, reportProtocol, ReportView, WebviewToHost } from '../../protocol/report';
import { checkFromWebview, checkSavedState } from '../../protocol/webview';
import { mediaRoot, reportHtml } from './report-html';
import { reportToMarkdown } from '../../report/markdown';

/** Commands owned by the graph viewer; the panel calls them when they are registered. */
export const GRAPH_COMMANDS = { openGraph: 'octet.openGraph', revealNode: 'octet.revealNode' } as const;

export interface ReportPanelHooks {
  /** "Re-run with other settings": the quantize flow, with this report's settings pre-selected. */
  rerun(view: ReportView): void;
  log(line: string): void;
}

export class ReportPanels implements vscode.Disposable, vscode.WebviewPanelSerializer {
  private readonly panels = new Map<string, { panel: vscode.WebviewPanel; view: ReportView }>();

  constructor(private readonly extensionUri: vscode.Uri, private readonly hooks: ReportPanelHooks) {}

  /** Opens (or reveals and refreshes) the panel for a report file. Throws OctetError when the file is not a report. */
  show(reportPath: string): vscode.WebviewPanel {
    const view = toReportView(loadReport(reportPath, 'extension'), reportPath);
    const open = this.panels.get(reportPath);
    if (open) {
      open.view = view;
      open.panel.reveal(undefined, false);
      void this.post(open.panel, { type: 'showReport', view });
      return open.panel;
    }
    const panel = vscode.window.createWebviewPanel(REPORT_VIEW_TYPE, this.titleFor(view), vscode.ViewColumn.Active, this.options());
    this.attach(panel, view);
    return panel;
  }

  /** Brings a panel back after a window reload, from the state its webview saved. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const saved = checkSavedState(reportProtocol, state);
    if (!saved.ok) {
      this.hooks.log(`Report panel not restored: its saved state is not usable (${saved.error})`);
      panel.dispose();
      return;
    }
    let view = saved.value.view;
    try {
      view = toReportView(loadReport(view.reportPath, 'extension'), view.reportPath);
    } catch (err) {
      this.hooks.log(`Restoring report panel from saved state: ${err instanceof Error ? err.message : String(err)}`);
    }
    panel.webview.options = this.options();
    this.attach(panel, view);
  }

  dispose(): void {
    for (const { panel } of this.panels.values()) panel.dispose();
    this.panels.clear();
  }

  async exportReport(view: ReportView, format: ExportFormat, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const suffix = format === 'json' ? '.json' : '.md';
    const defaultPath = view.reportPath.replace(/\.json$/i, '') + (format === 'json' ? '.export.json' : '.md');
    const destination = target ?? await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(defaultPath),
      filters: format === 'json' ? { 'Octet report (JSON)': ['json'] } : { Markdown: ['md'] },
      title: `Export Octet report as ${format === 'json' ? 'JSON' : 'Markdown'}`,
    });
    if (!destination) return undefined;
    const text = format === 'json' ? `${JSON.stringify(view.report, null, 2)}\n` : reportToMarkdown(view.report);
    await vscode.workspace.fs.writeFile(destination, Buffer.from(text, 'utf8'));
    this.hooks.log(`Exported ${basename(view.reportPath)} as ${format} to ${destination.fsPath}`);
    if (!target) {
      void vscode.window.showInformationMessage(`Octet: report exported to ${basename(destination.fsPath)}${destination.fsPath.endsWith(suffix) ? '' : ` (${suffix})`}.`, 'Open')
        .then((action) => (action === 'Open' ? vscode.commands.executeCommand('vscode.open', destination) : undefined));
    }
    return destination;
  }

  /**
   * The panel's webview stays alive while hidden (a report page is a few hundred KB): re-created on every show, it
   * came back blank for 30 s now and then in code-server (twice in the UI test runs of a day), its page never loaded. Its state is
   * still saved for window reloads (deserializeWebviewPanel).
   */
  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [mediaRoot(this.extensionUri)], enableFindWidget: true, retainContextWhenHidden: true };
  }

  private titleFor(view: ReportView): string {
    return `INT8 report: ${basename(view.fp32ModelPath)}`;
  }

  private attach(panel: vscode.WebviewPanel, initialView: ReportView): void {
    const entry = { panel, view: initialView };
    this.panels.set(initialView.reportPath, entry);
    panel.title = this.titleFor(initialView);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'report', 'icon.svg');
    panel.webview.html = reportHtml(panel.webview, this.extensionUri, panel.title);
    const subscription = panel.webview.onDidReceiveMessage((raw: unknown) => {
      const checked = checkFromWebview(reportProtocol, raw);
      if (!checked.ok) {
        this.hooks.log(`Report panel sent a message that was ignored: ${checked.error}`);
        return;
      }
      const message = checked.value;
      this.handle(entry.panel, entry.view, message).catch((err: unknown) => {
        const text = err instanceof OctetError || err instanceof Error ? err.message : String(err);
        this.hooks.log(`Report panel action '${message.type}' failed: ${text}`);
        void vscode.window.showErrorMessage(`Octet: ${text}`);
      });
    });
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.panels.get(entry.view.reportPath) === entry) this.panels.delete(entry.view.reportPath);
    });
  }

  private post(panel: vscode.WebviewPanel, message: HostToWebview): Thenable<boolean> {
    return panel.webview.postMessage(message);
  }

  private async handle(panel: vscode.WebviewPanel, view: ReportView, message: WebviewToHost): Promise<void> {
    const int8Uri = vscode.Uri.file(view.int8ModelPath);
    switch (message.type) {
      case 'ready':
        await this.post(panel, { type: 'showReport', view });
        return;
      case 'revealNode':
        if (await isCommandRegistered(GRAPH_COMMANDS.revealNode)) {
          await vscode.commands.executeCommand(GRAPH_COMMANDS.revealNode, { model: int8Uri.toString(), node: message.node });
        } else {
          void vscode.window.showInformationMessage(`Octet: the graph viewer is not available, so layer '${message.node}' cannot be shown in the graph.`);
        }
        return;
      case 'openGraph':
        if (await isCommandRegistered(GRAPH_COMMANDS.openGraph)) await vscode.commands.executeCommand(GRAPH_COMMANDS.openGraph, int8Uri);
        else void vscode.window.showInformationMessage(`Octet: the graph viewer is not available to open ${basename(view.int8ModelPath)}.`);
        return;
      case 'revealInExplorer':
        await vscode.commands.executeCommand('revealInExplorer', int8Uri);
        return;
      case 'rerun':
        this.hooks.rerun(view);
        return;
      case 'export':
        await this.exportReport(view, message.format);
        return;
    }
  }
}

async function isCommandRegistered(id: string): Promise<boolean> {
  return (await vscode.commands.getCommands(true)).includes(id);
}
