// The report webview's HTML shell: strict CSP with a per-load nonce, only the extension's own dist/media files.
import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';

export function mediaRoot(extensionUri: vscode.Uri): vscode.Uri {
  return vscode.Uri.joinPath(extensionUri, 'dist', 'media');
}

export function reportHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string): string {
  const nonce = randomBytes(16).toString('base64');
  const root = vscode.Uri.joinPath(mediaRoot(extensionUri), 'report');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(root, 'report.main.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(root, 'report.main.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const escapedTitle = title.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c] ?? c);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style}">
<title>${escapedTitle}</title>
</head>
<body>
<main id="app"><p class="loading">Loading report…</p></main>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
