// The report webview's HTML (the shared shell of webview-page.ts): only the extension's own dist/media files.
import * as vscode from 'vscode';
import { webviewPage } from '../webview-page';

export function mediaRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'media');
}

export function reportHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const root = vscode.Uri.joinPath(mediaRoot(extensionUri), 'report');
  return webviewPage({
    cspSource: webview.cspSource, title,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'report.main.js')).toString(),
    styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'report.main.css')).toString(),
    body: '<main id="app"><p class="loading">Loading report…</p></main>',
  });
}
