// Registers the graph viewer: the `octet.graph` custom editor for *.onnx and its commands
//   octet.openGraph(uri?)                      open a model in the graph viewer (explorer context menu)
//   octet.revealNode({ model, node })          focus a node by name, opening the editor if needed (report panel)
//   octet.graph.setReport({ model, report | reportPath })  overlay a fresh report's per-layer error (quantize flow)
import * as vscode from 'vscode';
import type { Report } from '../../common/report';
import { overlayFromReportValue, readReportOverlay } from './report-locator';
import { GRAPH_VIEW_TYPE, GraphEditorProvider } from './graph-editor-provider';

export const GRAPH_COMMANDS = {
  openGraph: 'octet.openGraph',
  revealNode: 'octet.revealNode',
  setReport: 'octet.graph.setReport',
} as const;

function toUri(value: unknown): vscode.Uri | undefined {
  if (value instanceof vscode.Uri) return value;
  if (typeof value === 'string' && value) return /^[a-z][\w+.-]*:/i.test(value) && !/^[a-z]:[\\/]/i.test(value) ? vscode.Uri.parse(value) : vscode.Uri.file(value);
  return undefined;
}

function activeOnnxUri(): vscode.Uri | undefined {
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  const uri = tab instanceof vscode.TabInputCustom || tab instanceof vscode.TabInputText ? tab.uri : undefined;
  return uri && uri.path.toLowerCase().endsWith('.onnx') ? uri : undefined;
}

export function registerGraphViewer(context: vscode.ExtensionContext): GraphEditorProvider {
  const channel = vscode.window.createOutputChannel('Octet Graph Viewer');
  const log = (message: string) => channel.appendLine(`[${new Date().toISOString()}] ${message}`);
  const provider = new GraphEditorProvider(context, log);
  context.subscriptions.push(
    channel,
    provider,
    vscode.window.registerCustomEditorProvider(GRAPH_VIEW_TYPE, provider, {
      // No retainContextWhenHidden: the page keeps its view in setState and redraws from the host's data on show,
      // which costs far less memory than a hidden live webview per model.
      supportsMultipleEditorsPerDocument: true,
    }),
    vscode.commands.registerCommand(GRAPH_COMMANDS.openGraph, async (arg?: unknown) => {
      let uri = toUri(arg) ?? activeOnnxUri();
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX model': ['onnx'] }, openLabel: 'Open Graph' });
        uri = picked?.[0];
      }
      if (uri) await vscode.commands.executeCommand('vscode.openWith', uri, GRAPH_VIEW_TYPE);
    }),
    vscode.commands.registerCommand(GRAPH_COMMANDS.revealNode, async (arg?: { model?: unknown; node?: unknown }) => {
      const uri = toUri(arg?.model);
      if (!uri || typeof arg?.node !== 'string' || !arg.node) {
        void vscode.window.showErrorMessage('Octet: octet.revealNode needs { model: uri, node: name }.');
        return;
      }
      await provider.reveal(uri, arg.node);
    }),
    vscode.commands.registerCommand(GRAPH_COMMANDS.setReport, (arg?: { model?: unknown; report?: Report; reportPath?: unknown }) => {
      const uri = toUri(arg?.model);
      if (!uri) return;
      try {
        const overlay = typeof arg?.reportPath === 'string'
          ? readReportOverlay(arg.reportPath)
          : overlayFromReportValue(arg?.report, 'quantize run');
        provider.setOverlay(uri, overlay);
      } catch (err) {
        log(`Graph viewer: report not applied: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
  return provider;
}
