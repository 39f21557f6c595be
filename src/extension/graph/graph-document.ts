// One opened .onnx file: its view model (loaded lazily, reloaded when the file changes), its error overlay (from a
// report file beside it, or pushed by the quantize flow) and the editor sessions showing it.
import * as vscode from 'vscode';
import { basename } from 'node:path';
import { ErrorOverlay } from '../../graphmodel/error-overlay';
import { ModelView } from '../../graphmodel/model-view';
import { parseModel } from '../../onnx/model-io';
import { GraphSession, SessionSource } from './graph-session';
import { loadModelView } from './load-model-view';
import { findReportOverlay, reportCandidates } from './report-locator';

export class GraphDocument implements vscode.CustomDocument, SessionSource {
  private loading: Promise<ModelView> | undefined;
  private fileOverlay: ErrorOverlay | null | undefined;
  private pushedOverlay: ErrorOverlay | null = null;
  private readonly sessions = new Set<GraphSession>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly uri: vscode.Uri, private readonly log: (message: string) => void) {
    if (uri.scheme === 'file') this.watch();
  }

  /** Starts reading the file (call after the webview HTML is set so both load in parallel). */
  model(): Promise<ModelView> {
    if (!this.loading) this.loading = this.load();
    return this.loading;
  }

  private async load(): Promise<ModelView> {
    const started = Date.now();
    const fileName = basename(this.uri.path);
    let view: ModelView;
    if (this.uri.scheme === 'file') {
      const loaded = loadModelView(this.uri.fsPath);
      view = loaded.view;
      this.log(`Read the structure of ${fileName}: ${loaded.bytesRead} of ${view.file.fileBytes} bytes (weights stay on disk until inspected)`);
    } else {
      const bytes = await vscode.workspace.fs.readFile(this.uri);
      view = new ModelView(parseModel(bytes, this.uri.toString()), { fileName, fileBytes: bytes.byteLength, hadExternalData: false });
    }
    this.log(`Read ${fileName} in ${Date.now() - started} ms`);
    return view;
  }

  overlay(): ErrorOverlay | null {
    if (this.pushedOverlay) return this.pushedOverlay;
    if (this.fileOverlay === undefined) {
      this.fileOverlay = this.uri.scheme === 'file' ? findReportOverlay(this.uri.fsPath, this.log) : null;
    }
    return this.fileOverlay;
  }

  /** A report handed over by the quantize flow wins over the files beside the model. */
  setPushedOverlay(overlay: ErrorOverlay | null): void {
    this.pushedOverlay = overlay;
    for (const s of this.sessions) s.pushOverlay();
  }

  addSession(session: GraphSession): vscode.Disposable {
    this.sessions.add(session);
    return new vscode.Disposable(() => this.sessions.delete(session));
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private watch(): void {
    const folder = vscode.Uri.joinPath(this.uri, '..');
    const modelWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, basename(this.uri.fsPath)));
    const reload = () => {
      this.loading = undefined;
      this.log(`${basename(this.uri.fsPath)} changed on disk: reloading the graph`);
      for (const s of this.sessions) void s.handle({ type: 'ready' });
    };
    modelWatcher.onDidChange(reload, null, this.disposables);
    modelWatcher.onDidCreate(reload, null, this.disposables);
    const reportNames = reportCandidates(this.uri.fsPath).map((p) => basename(p));
    const reportWatcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, `{${reportNames.join(',')}}`));
    const rereadReport = () => {
      this.fileOverlay = undefined;
      for (const s of this.sessions) s.pushOverlay();
    };
    reportWatcher.onDidChange(rereadReport, null, this.disposables);
    reportWatcher.onDidCreate(rereadReport, null, this.disposables);
    reportWatcher.onDidDelete(rereadReport, null, this.disposables);
    this.disposables.push(modelWatcher, reportWatcher);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    this.sessions.clear();
  }
}
