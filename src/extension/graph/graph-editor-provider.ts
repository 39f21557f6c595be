// The `octet.graph` custom editor: one GraphDocument per file, one webview + GraphSession per editor tab.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { ErrorOverlay } from '../../graphmodel/error-overlay';
import { saveExportedImage } from './export-image';
import { GraphDocument } from './graph-document';
import { GraphSession } from './graph-session';
import { graphWebviewHtml } from './webview-html';

export const GRAPH_VIEW_TYPE = 'octet.graph';

interface OpenEditor { panel: vscode.WebviewPanel; session: GraphSession; document: GraphDocument }

export class GraphEditorProvider implements vscode.CustomReadonlyEditorProvider<GraphDocument> {
  private readonly editors = new Set<OpenEditor>();
  private readonly documents = new Map<string, GraphDocument>();
  private readonly pendingReveals = new Map<string, string[]>();
  private readonly pendingOverlays = new Map<string, ErrorOverlay>();
  /** First-paint figures reported by webviews (tests and the e2e harness read them from the log). */
  readonly paints: { file: string; firstPaintMs: number; layoutMs: number; algorithm: string; nodes: number }[] = [];

  constructor(private readonly context: vscode.ExtensionContext, private readonly log: (message: string) => void) {}

  openCustomDocument(uri: vscode.Uri): GraphDocument {
    const document = new GraphDocument(uri, this.log);
    const overlay = this.pendingOverlays.get(uri.toString());
    if (overlay) document.setPushedOverlay(overlay);
    this.documents.set(uri.toString(), document);
    return document;
  }

  resolveCustomEditor(document: GraphDocument, panel: vscode.WebviewPanel): void {
    const openedAt = Date.now();
    const mediaRoot = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'media', 'graph');
    const webview = panel.webview;
    webview.options = { enableScripts: true, localResourceRoots: [mediaRoot] };
    webview.html = graphWebviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'graph.main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'graph.main.css')).toString(),
      workerUri: webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'layout-worker.main.js')).toString(),
      title: basename(document.uri.path),
    });
    const file = basename(document.uri.path);
    const session = new GraphSession(document, (message) => { void webview.postMessage(message); }, {
      saveExport: (format, data, name) => saveExportedImage(document.uri, format, data, name),
      painted: (info) => {
        this.paints.push({ file, firstPaintMs: info.firstPaintMs, layoutMs: info.layoutMs, algorithm: info.algorithm, nodes: info.nodes });
        this.log(`Graph of ${file}: first paint ${Math.round(info.firstPaintMs)} ms after opening (${info.nodes} nodes, ${info.algorithm} layout ${Math.round(info.layoutMs)} ms)`);
      },
      revealed: (node, found) => { if (!found) void vscode.window.showWarningMessage(`Octet: no node '${node}' in ${file}.`); },
      log: this.log,
    }, openedAt);
    const editor: OpenEditor = { panel, session, document };
    this.editors.add(editor);
    const sessionRegistration = document.addSession(session);
    const subscription = webview.onDidReceiveMessage((raw: unknown) => {
      session.receive(raw).catch((err: unknown) => this.log(`Graph viewer of ${file}: handling a message failed: ${err instanceof Error ? err.message : String(err)}`));
    });
    const key = document.uri.toString();
    for (const node of this.pendingReveals.get(key) ?? []) session.reveal(node);
    this.pendingReveals.delete(key);
    panel.onDidDispose(() => {
      subscription.dispose();
      sessionRegistration.dispose();
      this.editors.delete(editor);
      if (document.sessionCount === 0 && this.documents.get(key) === document) this.documents.delete(key);
    });
    void document.model().catch(() => undefined);
  }

  /** Focuses `node` in the graph of `uri`, opening the editor when needed. */
  async reveal(uri: vscode.Uri, node: string): Promise<void> {
    const key = uri.toString();
    const open = [...this.editors].filter((e) => e.document.uri.toString() === key);
    const editor = open.find((e) => e.panel.active) ?? open[0];
    if (editor) {
      editor.panel.reveal(undefined, false);
      editor.session.reveal(node);
      return;
    }
    const queued = this.pendingReveals.get(key) ?? [];
    queued.push(node);
    this.pendingReveals.set(key, queued);
    await vscode.commands.executeCommand('vscode.openWith', uri, GRAPH_VIEW_TYPE);
  }

  /** Overlays `overlay` (a report the quantize flow just produced) on the graph of `uri`, now or when it opens. */
  setOverlay(uri: vscode.Uri, overlay: ErrorOverlay): void {
    const document = this.documents.get(uri.toString());
    if (document) document.setPushedOverlay(overlay);
    else this.pendingOverlays.set(uri.toString(), overlay);
  }

  dispose(): void {
    for (const d of this.documents.values()) d.dispose();
    this.documents.clear();
  }
}
